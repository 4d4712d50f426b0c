// The internet checksum (RFC 1071) and the pseudo-headers of RFC 768/793
// (IPv4) and RFC 8200 8.1 (IPv6).
import { parseAddress } from './addr.js';

/** One's-complement sum of 16-bit words, not yet folded or inverted. */
export function sum16(buf: Uint8Array, start = 0, end = buf.length, initial = 0): number {
  let sum = initial;
  let i = start;
  // two words a turn: half the loop's overhead on a flood ping's every packet
  for (; i + 3 < end; i += 4) sum += ((buf[i] << 8) | buf[i + 1]) + ((buf[i + 2] << 8) | buf[i + 3]);
  if (i + 1 < end) {
    sum += (buf[i] << 8) | buf[i + 1];
    i += 2;
  }
  if (i < end) sum += buf[i] << 8; // odd byte padded with zero
  return sum;
}

export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum to store: ~fold(sum). */
export function checksum(buf: Uint8Array, start = 0, end = buf.length, initial = 0): number {
  return ~fold(sum16(buf, start, end, initial)) & 0xffff;
}

/** True when the data, checksum field included, sums to 0xffff. */
export function verify(buf: Uint8Array, start = 0, end = buf.length, initial = 0): boolean {
  return fold(sum16(buf, start, end, initial)) === 0xffff;
}

export interface PseudoHeader {
  src: string;
  dst: string;
}

/** Partial sum of the pseudo-header for an upper-layer packet of `length` bytes. */
export function pseudoHeaderSum(ph: PseudoHeader, protocol: number, length: number): number {
  const src = parseAddress(ph.src);
  const dst = parseAddress(ph.dst);
  if (!src || !dst || src.length !== dst.length) throw new TypeError(`bad pseudo-header addresses ${ph.src} ${ph.dst}`);
  let sum = sum16(src) + sum16(dst);
  if (src.length === 4)
    sum += protocol + length; // zero, proto, length
  else sum += Math.floor(length / 0x10000) + (length & 0xffff) + protocol; // 32-bit length, next header
  return sum;
}
