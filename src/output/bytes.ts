// Text written as bytes: a listing of many lines (ss, netstat) fills one
// buffer with tokens, numbers and padding, and hands it to standard output
// in 64 KiB writes; no string is made per line. Latin-1: one byte per
// character, which is what the tools print (names come from the kernel as bytes).
const CHUNK = 64 * 1024;
const SPACE = 0x20;

export class ByteLines {
  private buf = Buffer.allocUnsafe(CHUNK);
  private pos = 0;

  /**
   * `write` gets each full buffer; with `reuse` it promises not to keep it
   * once it returns (a write(2) that completed, or a copy), and the one
   * buffer is filled again: a listing's memory then holds one chunk, not
   * every chunk written since the last garbage collection.
   */
  constructor(
    private readonly write: (b: Buffer) => void,
    private readonly reuse = false,
  ) {}

  /** room for n more bytes (a full buffer goes out first) */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  byte(c: number): void {
    this.room(1);
    this.buf[this.pos++] = c;
  }

  text(s: string): void {
    const n = s.length;
    this.room(n);
    const b = this.buf;
    let p = this.pos;
    if (n > 32) p += b.write(s, p, 'latin1');
    else for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Room for up to n bytes written in place (a table's line): where they start in `buffer`; end() says where they end. */
  reserve(n: number): number {
    this.room(n);
    return this.pos;
  }

  /** the buffer reserve() made room in, valid until end() */
  get buffer(): Buffer {
    return this.buf;
  }

  /** the bytes written in place since reserve() end before p */
  end(p: number): void {
    this.pos = p;
  }

  spaces(n: number): void {
    if (n <= 0) return;
    this.room(n);
    const b = this.buf;
    let p = this.pos;
    for (const e = p + n; p < e; p++) b[p] = SPACE;
    this.pos = p;
  }

  /** an unsigned integer in decimal */
  uint(v: number): void {
    const n = digits(v);
    this.room(n);
    const b = this.buf;
    let p = this.pos + n;
    this.pos = p;
    do {
      const q = Math.floor(v / 10);
      b[--p] = 0x30 + (v - q * 10);
      v = q;
    } while (v > 0);
  }

  /** what is buffered goes out (then a buffer of its own, unless the writer does not keep it: reuse) */
  flush(): void {
    if (this.pos === 0) return;
    this.write(this.buf.subarray(0, this.pos));
    if (!this.reuse) this.buf = Buffer.allocUnsafe(CHUNK);
    this.pos = 0;
  }
}

/** how many decimal digits an unsigned integer has */
export function digits(v: number): number {
  if (v < 1e5) return v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 1e4 ? 4 : 5;
  if (v < 1e10) return v < 1e6 ? 6 : v < 1e7 ? 7 : v < 1e8 ? 8 : v < 1e9 ? 9 : 10;
  let n = 10;
  for (let x = Math.floor(v / 1e10); x >= 1; x = Math.floor(x / 10)) n++;
  return n;
}
