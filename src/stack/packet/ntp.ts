// The NTP/SNTP packet (RFC 4330 section 4, RFC 5905 figure 8): 48 bytes,
// then optional extension fields or a key id and digest, which decode keeps
// as `trailer`. Timestamps are the 64-bit NTP format as bigints (seconds
// since 1900 << 32 | fraction), so a stamp echoed back compares exactly.
import { type DecodeResult, ok, truncated } from './result.js';

export const HEADER = 48;
export const PORT = 123;

// the mode field (RFC 4330 section 4)
export const MODE_SYMMETRIC_ACTIVE = 1;
export const MODE_SYMMETRIC_PASSIVE = 2;
export const MODE_CLIENT = 3;
export const MODE_SERVER = 4;
export const MODE_BROADCAST = 5;

// the leap indicator: 3 is "alarm condition (clock not synchronized)"
export const LEAP_NONE = 0;
export const LEAP_UNSYNCHRONIZED = 3;
/** ntpdig's words for the leap indicator values */
export const LEAP_NAMES = ['no-leap', 'add-leap', 'del-leap', 'unsync'] as const;

/** Seconds from 1900-01-01 (the NTP era 0 epoch) to 1970-01-01. */
export const UNIX_EPOCH = 2208988800n;

export interface NtpPacket {
  leap: number;
  version: number;
  mode: number;
  stratum: number;
  /** log2 seconds, signed */
  poll: number;
  /** log2 seconds, signed (-20 is about a microsecond) */
  precision: number;
  /** seconds (signed 16.16 fixed point on the wire) */
  rootDelay: number;
  /** seconds (unsigned 16.16) */
  rootDispersion: number;
  /** the 32-bit reference identifier, as on the wire (see referenceIdText) */
  referenceId: number;
  referenceTime: bigint;
  originateTime: bigint;
  receiveTime: bigint;
  transmitTime: bigint;
  /** bytes after the 48-byte header (extensions, key id and digest) */
  trailer?: Buffer;
}

export function encodingLength(p: Pick<NtpPacket, 'trailer'>): number {
  return HEADER + (p.trailer?.length ?? 0);
}

const fixed16 = (seconds: number) => Math.round(seconds * 65536);

export function encode(p: NtpPacket, buf?: Buffer, offset = 0): Buffer {
  const out = buf ?? Buffer.alloc(offset + encodingLength(p));
  out[offset] = ((p.leap & 3) << 6) | ((p.version & 7) << 3) | (p.mode & 7);
  out[offset + 1] = p.stratum & 0xff;
  out.writeInt8(p.poll, offset + 2);
  out.writeInt8(p.precision, offset + 3);
  out.writeInt32BE(fixed16(p.rootDelay) | 0, offset + 4);
  out.writeUInt32BE(fixed16(p.rootDispersion) >>> 0, offset + 8);
  out.writeUInt32BE(p.referenceId >>> 0, offset + 12);
  out.writeBigUInt64BE(BigInt.asUintN(64, p.referenceTime), offset + 16);
  out.writeBigUInt64BE(BigInt.asUintN(64, p.originateTime), offset + 24);
  out.writeBigUInt64BE(BigInt.asUintN(64, p.receiveTime), offset + 32);
  out.writeBigUInt64BE(BigInt.asUintN(64, p.transmitTime), offset + 40);
  if (p.trailer) out.set(p.trailer, offset + HEADER);
  return out;
}

/** Decode a packet; never throws (fewer than 48 bytes is a typed failure). */
export function decode(buf: Buffer, offset = 0): DecodeResult<NtpPacket> {
  const have = buf.length - offset;
  if (have < HEADER) return truncated('ntp', HEADER, Math.max(0, have), offset);
  const b = buf[offset]!;
  const p: NtpPacket = {
    leap: b >> 6,
    version: (b >> 3) & 7,
    mode: b & 7,
    stratum: buf[offset + 1]!,
    poll: buf.readInt8(offset + 2),
    precision: buf.readInt8(offset + 3),
    rootDelay: buf.readInt32BE(offset + 4) / 65536,
    rootDispersion: buf.readUInt32BE(offset + 8) / 65536,
    referenceId: buf.readUInt32BE(offset + 12),
    referenceTime: buf.readBigUInt64BE(offset + 16),
    originateTime: buf.readBigUInt64BE(offset + 24),
    receiveTime: buf.readBigUInt64BE(offset + 32),
    transmitTime: buf.readBigUInt64BE(offset + 40),
  };
  if (have > HEADER) p.trailer = Buffer.from(buf.subarray(offset + HEADER));
  return ok(p, have);
}

/**
 * A Unix time in ns as an NTP timestamp. After 2036 the seconds wrap into
 * era 1 (RFC 4330 section 3: a clear most significant bit means 2036-2104).
 */
export function fromUnixNs(ns: bigint): bigint {
  const sec = ns / 1_000_000_000n + UNIX_EPOCH;
  const frac = ((ns % 1_000_000_000n) << 32n) / 1_000_000_000n;
  return (BigInt.asUintN(32, sec) << 32n) | frac;
}

/** An NTP timestamp as Unix time in ns (the fraction rounded to the nearest ns); RFC 4330 section 3's era rule. */
export function toUnixNs(ts: bigint): bigint {
  let sec = ts >> 32n;
  if ((sec & 0x80000000n) === 0n) sec += 1n << 32n; // era 1: 2036-02-07 onward
  const frac = ((ts & 0xffffffffn) * 1_000_000_000n + (1n << 31n)) >> 32n;
  return (sec - UNIX_EPOCH) * 1_000_000_000n + frac;
}

/** The kiss code of a kiss-o'-death (stratum 0) or a stratum 1 source: the identifier's ASCII, NULs dropped. */
export function referenceIdAscii(id: number): string {
  let s = '';
  for (const shift of [24, 16, 8, 0]) {
    const c = (id >>> shift) & 0xff;
    if (c === 0) break;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?';
  }
  return s;
}

/**
 * The reference identifier as RFC 4330 section 4 reads it: four ASCII
 * characters for stratum 0 (the kiss code) and 1 (the source: GPS, PPS,
 * LOCL ...), otherwise the IPv4 address of the server's source (or, for
 * IPv6, the first four bytes of its MD5, shown as an address too).
 */
export function referenceIdText(p: Pick<NtpPacket, 'stratum' | 'referenceId'>): string {
  if (p.stratum <= 1) return referenceIdAscii(p.referenceId);
  const id = p.referenceId >>> 0;
  return `${id >>> 24}.${(id >>> 16) & 0xff}.${(id >>> 8) & 0xff}.${id & 0xff}`;
}
