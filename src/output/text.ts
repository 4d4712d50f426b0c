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

/** Where text goes: a stream, or stdoutSink()'s writes to descriptor 1. */
export interface TextSink {
  write(text: string): unknown;
}

/** Text in the order it was written, to stdout or another stream, some of it perhaps waiting for a lookup. */
export class OrderedOutput {
  private readonly order = new InOrder<{ stream: TextSink; text: string }>(({ stream, text }) => stream.write(text));
  private readonly stream: TextSink | undefined;

  /** no stream: process.stdout, looked up at the first write */
  constructor(stream?: TextSink) {
    this.stream = stream;
  }

  write(text: string | Promise<string>, stream: TextSink = this.stream ?? process.stdout): void {
    this.order.push(typeof text === 'string' ? { stream, text } : text.then((t) => ({ stream, text: t })));
  }

  /** Resolves once everything given so far is written. */
  drain(): Promise<void> {
    return this.order.drain();
  }
}
