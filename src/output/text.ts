// Text in order: lines that wait for a name lookup keep their place.

/**
 * Writes text in the order it was given, even when some of it waits for a
 * name lookup: plain strings go out at once while nothing is waiting.
 */
export class OrderedOutput {
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {}

  write(text: string | Promise<string>, stream: NodeJS.WritableStream = this.stream): void {
    if (typeof text === 'string' && this.pending === 0) {
      stream.write(text);
      return;
    }
    this.pending++;
    this.queue = this.queue.then(async () => {
      stream.write(await text);
      this.pending--;
    });
  }

  /** Resolves once everything given so far is written. */
  drain(): Promise<void> {
    return this.queue;
  }
}
