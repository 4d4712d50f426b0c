// Standard input for -F: the book forks a child per connection and the
// children race for standard input; here one reader hands each chunk to
// every connection open at the time.
import { PassThrough, type Readable } from 'node:stream';

/**
 * Standard input is read once and each chunk goes to every connection open
 * at the time. A connection that starts after EOF sees EOF at once.
 */
export class Broadcast {
  private readonly outs = new Set<PassThrough>();
  private ended = false;
  constructor(private readonly input: Readable) {
    // read only while a connection is open: what is typed before one waits for it
    input.pause();
    input.on('data', (d: Buffer) => {
      for (const o of this.outs) o.write(d);
    });
    input.on('end', () => {
      this.ended = true;
      for (const o of this.outs) o.end();
    });
  }

  subscribe(): PassThrough {
    const p = new PassThrough();
    if (this.ended) {
      p.end();
    } else {
      this.outs.add(p);
      this.input.resume();
    }
    return p;
  }

  unsubscribe(p: PassThrough): void {
    this.outs.delete(p);
    p.destroy();
    if (this.outs.size === 0) this.input.pause();
  }
}
