// print-ascii.c (tcpdump 4.99): the -x hex, -X hex and ASCII, and -A ASCII
// dumps of a packet. Facts copied, not code.
import { hex2, hex4 } from './netdissect.js';

const graph = (c: number) => c > 0x20 && c < 0x7f;

/** -x: "\n\t0x0000:  4500 0054 ..." lines of 16 bytes. */
export function hexText(b: Buffer): string {
  let s = '';
  for (let off = 0; off < b.length; off += 16) {
    s += `\n\t0x${hex4(off)}: `;
    const end = Math.min(b.length, off + 16);
    for (let i = off; i < end; i += 2) s += i + 1 < end ? ` ${hex2(b[i]!)}${hex2(b[i + 1]!)}` : ` ${hex2(b[i]!)}`;
  }
  return s;
}

/** -X: hex and ASCII side by side. */
export function hexAsciiText(b: Buffer): string {
  let s = '';
  for (let off = 0; off < b.length; off += 16) {
    const end = Math.min(b.length, off + 16);
    let h = '',
      a = '';
    for (let i = off; i < end; i += 2) {
      h += i + 1 < end ? ` ${hex2(b[i]!)}${hex2(b[i + 1]!)}` : ` ${hex2(b[i]!)}`;
      a += graph(b[i]!) ? String.fromCharCode(b[i]!) : '.';
      if (i + 1 < end) a += graph(b[i + 1]!) ? String.fromCharCode(b[i + 1]!) : '.';
    }
    s += `\n\t0x${hex4(off)}: ${h.padEnd(40)}  ${a}`;
  }
  return s;
}

/** -A: the bytes as ASCII, CR before LF dropped. */
export function asciiText(b: Buffer): string {
  let s = '\n';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 13) {
      // print-ascii.c: a CR is a dot only with two more bytes after it, the next not a LF
      if (b.length - (i + 1) > 1 && b[i + 1] !== 10) s += '.';
    } else s += graph(c) || c === 9 || c === 32 || c === 10 ? String.fromCharCode(c) : '.';
  }
  return s;
}
