// IPv4 header (RFC 791), options included.
import { formatIPv4, parseIPv4 } from './addr.js';
import { checksum, verify } from './checksum.js';
import { type DecodeResult, fail, ok, truncated } from './result.js';

export interface IPv4Header {
  version: 4;
  /** header length in bytes (IHL * 4) */
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  df: boolean;
  mf: boolean;
  fragmentOffset: number; // in bytes
  ttl: number;
  protocol: number;
  checksum: number;
  checksumOk: boolean;
  src: string;
  dst: string;
  options: Buffer;
}

export interface IPv4Packet {
  header: IPv4Header;
  /** the bytes after the header, up to totalLength (or the end of input if shorter) */
  payload: Buffer;
  /** true when the input ended before totalLength: an ICMP quote, typically */
  partial: boolean;
}

/** What decodeHeader finds: the header, and where its payload ends without a view of it. */
export interface IPv4Parsed {
  header: IPv4Header;
  /** the offset in the input where the payload ends: totalLength, or the end of input if shorter */
  end: number;
  partial: boolean;
}

export const MIN_HEADER = 20;
const NO_OPTIONS = Buffer.alloc(0);

/** decode() without the payload's Buffer view (a dissector walking one buffer by offsets needs none). */
export function decodeHeader(buf: Buffer, offset = 0): DecodeResult<IPv4Parsed> {
  const have = buf.length - offset;
  if (have < MIN_HEADER) return truncated('ipv4', MIN_HEADER, have, offset);
  const vihl = buf[offset];
  if (vihl >> 4 !== 4) return fail('ipv4', `version ${vihl >> 4} is not 4`, offset);
  const headerLength = (vihl & 0x0f) * 4;
  if (headerLength < MIN_HEADER) return fail('ipv4', `header length ${headerLength} below 20`, offset);
  if (have < headerLength) return truncated('ipv4', headerLength, have, offset);
  const totalLength = buf.readUInt16BE(offset + 2);
  if (totalLength < headerLength) return fail('ipv4', `total length ${totalLength} below header length ${headerLength}`, offset + 2);
  const frag = buf.readUInt16BE(offset + 6);
  const header: IPv4Header = {
    version: 4,
    headerLength,
    tos: buf[offset + 1],
    totalLength,
    id: buf.readUInt16BE(offset + 4),
    df: (frag & 0x4000) !== 0,
    mf: (frag & 0x2000) !== 0,
    fragmentOffset: (frag & 0x1fff) * 8,
    ttl: buf[offset + 8],
    protocol: buf[offset + 9],
    checksum: buf.readUInt16BE(offset + 10),
    checksumOk: verify(buf, offset, offset + headerLength),
    src: formatIPv4(buf, offset + 12),
    dst: formatIPv4(buf, offset + 16),
    options: headerLength > MIN_HEADER ? Buffer.from(buf.subarray(offset + MIN_HEADER, offset + headerLength)) : NO_OPTIONS,
  };
  const end = Math.min(buf.length, offset + totalLength);
  return ok({ header, end, partial: end < offset + totalLength }, end - offset);
}

export function decode(buf: Buffer, offset = 0): DecodeResult<IPv4Packet> {
  const r = decodeHeader(buf, offset);
  if (!r.ok) return r;
  const { header, end, partial } = r.value;
  return ok({ header, payload: buf.subarray(offset + header.headerLength, end), partial }, r.length);
}

export interface IPv4Fields {
  tos?: number;
  id?: number;
  df?: boolean;
  mf?: boolean;
  fragmentOffset?: number;
  ttl?: number;
  protocol: number;
  src: string;
  dst: string;
  options?: Uint8Array;
}

export function encodingLength(h: IPv4Fields, payloadLength = 0): number {
  return MIN_HEADER + padded(h.options?.length ?? 0) + payloadLength;
}

function padded(n: number): number {
  return (n + 3) & ~3;
}

/** Header plus payload, checksum filled in. Throws on caller error (bad addresses, options > 40 bytes). */
export function encode(h: IPv4Fields, payload: Uint8Array = Buffer.alloc(0), buf?: Buffer, offset = 0): Buffer {
  const optLen = padded(h.options?.length ?? 0);
  if (optLen > 40) throw new RangeError('IPv4 options longer than 40 bytes');
  const src = parseIPv4(h.src);
  const dst = parseIPv4(h.dst);
  if (!src || !dst) throw new TypeError(`not IPv4 addresses: ${h.src} ${h.dst}`);
  const headerLength = MIN_HEADER + optLen;
  const total = headerLength + payload.length;
  if (total > 0xffff) throw new RangeError(`IPv4 packet of ${total} bytes exceeds 65535`);
  const out = buf ?? Buffer.alloc(offset + total);
  out.fill(0, offset, offset + headerLength);
  out[offset] = 0x40 | (headerLength / 4);
  out[offset + 1] = h.tos ?? 0;
  out.writeUInt16BE(total, offset + 2);
  out.writeUInt16BE(h.id ?? 0, offset + 4);
  const fragOff = Math.floor((h.fragmentOffset ?? 0) / 8) & 0x1fff;
  out.writeUInt16BE((h.df ? 0x4000 : 0) | (h.mf ? 0x2000 : 0) | fragOff, offset + 6);
  out[offset + 8] = h.ttl ?? 64;
  out[offset + 9] = h.protocol;
  src.copy(out, offset + 12);
  dst.copy(out, offset + 16);
  if (h.options) out.set(h.options, offset + MIN_HEADER);
  out.writeUInt16BE(checksum(out, offset, offset + headerLength), offset + 10);
  out.set(payload, offset + headerLength);
  return out;
}
