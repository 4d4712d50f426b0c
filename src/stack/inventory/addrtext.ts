// The addresses of an inet_diag dump as numbered texts, each formatted once:
// a listing of thousands of sockets meets a handful of addresses, so each
// socket costs a lookup, not a string (formatIPv4/formatIPv6's text).
import { formatIPv4, formatIPv6 } from '../packet/addr.js';

export class AddressTexts {
  /** the text of each id, in the order first met */
  readonly texts: string[] = [];
  private readonly v4 = new Map<number, number>();
  private readonly v6 = new Map<string, number>();
  // the last IPv4 address met, and the last IPv6 (a dump repeats its few addresses)
  private last4 = 0;
  private last4id = -1;
  private readonly last6 = new Int32Array(4);
  private last6id = -1;

  /** The id of the address at b[o] (4 bytes for family 2, 16 for 10). */
  id(b: Buffer, o: number, family: number): number {
    if (family === 2) {
      const v = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
      if (v === this.last4 && this.last4id >= 0) return this.last4id;
      let id = this.v4.get(v);
      if (id === undefined) {
        id = this.texts.push(formatIPv4(b, o)) - 1;
        this.v4.set(v, id);
      }
      this.last4 = v;
      this.last4id = id;
      return id;
    }
    const w0 = b.readInt32LE(o),
      w1 = b.readInt32LE(o + 4),
      w2 = b.readInt32LE(o + 8),
      w3 = b.readInt32LE(o + 12);
    const l = this.last6;
    if (this.last6id >= 0 && l[0] === w0 && l[1] === w1 && l[2] === w2 && l[3] === w3) return this.last6id;
    const key = b.toString('latin1', o, o + 16);
    let id = this.v6.get(key);
    if (id === undefined) {
      id = this.texts.push(formatIPv6(b, o)) - 1;
      this.v6.set(key, id);
    }
    l[0] = w0;
    l[1] = w1;
    l[2] = w2;
    l[3] = w3;
    this.last6id = id;
    return id;
  }
}
