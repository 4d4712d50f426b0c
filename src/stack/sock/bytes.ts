// sock's byte work, pure: the printable pattern a source writes (pattern.c),
// newline <-> CR/LF (crlf.c), the chunks of -k/-V (write.c) and the IPv4
// source route option of -g/-G (sourceroute.c, RFC 791 3.1).

/**
 * `len` bytes of the book's pattern: the printable ASCII characters, space
 * through tilde, over and over (pattern.c skips every byte isprint() refuses).
 */
export function pattern(len: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = 0x20 + (i % 95);
  return b;
}

const LF = 0x0a;
const CR = 0x0d;

/** crlf_add: every newline becomes CR LF. */
export function crlfAdd(src: Buffer): Buffer {
  let n = 0;
  for (const c of src) if (c === LF) n++;
  if (n === 0) return src;
  const out = Buffer.allocUnsafe(src.length + n);
  let o = 0;
  for (const c of src) {
    if (c === LF) out[o++] = CR;
    out[o++] = c;
  }
  return out;
}

/** crlf_strip: every CR is dropped (not only those before a newline, as in the book). */
export function crlfStrip(src: Buffer): Buffer {
  if (!src.includes(CR)) return src;
  const out = Buffer.allocUnsafe(src.length);
  let o = 0;
  for (const c of src) if (c !== CR) out[o++] = c;
  return out.subarray(0, o);
}

/** UIO_MAXIOV as write.c assumes it. */
export const CHUNKS = 16;

/**
 * dowrite()'s chunks for -k/-V: up to 16 pieces of ceil(n/16) bytes (at
 * least 1), as [offset, length] pairs.
 */
export function chunks(n: number): [offset: number, length: number][] {
  let size = Math.floor(n / CHUNKS);
  if (size <= 0) size = 1;
  else if (n % CHUNKS !== 0) size++;
  const out: [number, number][] = [];
  for (let off = 0; off < n; off += size) out.push([off, Math.min(size, n - off)]);
  return out;
}

// the source-route option and its constants live with the other IPv4 options
export { IPOPT_LSRR, IPOPT_SSRR, MAX_SROUTE, sourceRouteOption } from '../packet/ipoptions.js';

/** "a.b.c.d.p" or "::1.p" (-f, -l): the address and the port after the last dot. */
export function splitDotted(text: string): { address: string; port: string } | undefined {
  const dot = text.lastIndexOf('.');
  if (dot < 0) return undefined;
  return { address: text.slice(0, dot), port: text.slice(dot + 1) };
}
