// Output in order: items that wait for a name lookup keep their place.

/**
 * Hands items on in the order they were given, even when some are still
 * waiting (a name lookup): a ready item goes out at once while nothing
 * before it is waiting.
 */
export class InOrder<T> {
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly emit: (item: T) => void) {}

  push(item: T | Promise<T>): void {
    if (!(item instanceof Promise) && this.pending === 0) {
      this.emit(item);
      return;
    }
    this.pending++;
    this.queue = this.queue.then(async () => {
      this.emit(await item);
      this.pending--;
    });
  }

  /** Resolves once everything given so far is handed on. */
  drain(): Promise<void> {
    return this.queue;
  }
}

/** Text in the order it was written, to stdout or another stream, some of it perhaps waiting for a lookup. */
export class OrderedOutput {
  private readonly order = new InOrder<{ stream: NodeJS.WritableStream; text: string }>(({ stream, text }) => stream.write(text));

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {}

  write(text: string | Promise<string>, stream: NodeJS.WritableStream = this.stream): void {
    this.order.push(typeof text === 'string' ? { stream, text } : text.then((t) => ({ stream, text: t })));
  }

  /** Resolves once everything given so far is written. */
  drain(): Promise<void> {
    return this.order.drain();
  }
}
