// IPv6 header (RFC 8200) with the extension-header chain walked to the
// upper-layer protocol.
import { formatIPv6, parseIPv6 } from './addr.js';
import { type DecodeResult, fail, ok, truncated } from './result.js';

export const HEADER = 40;

export const NEXT_HOP_BY_HOP = 0;
export const NEXT_ROUTING = 43;
export const NEXT_FRAGMENT = 44;
export const NEXT_ESP = 50;
export const NEXT_AH = 51;
export const NEXT_NONE = 59;
export const NEXT_DEST_OPTS = 60;
export const NEXT_MOBILITY = 135;

export interface IPv6Header {
  version: 6;
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  src: string;
  dst: string;
}

export interface ExtensionHeader {
  type: number;
  /** bytes the extension header occupies */
  length: number;
}

export interface IPv6Packet {
  header: IPv6Header;
  extensions: ExtensionHeader[];
  /** upper-layer protocol after the extension headers (59 = no next header) */
  protocol: number;
  /** fragment header fields, when one is present */
  fragment?: { offset: number; more: boolean; id: number };
  /** upper-layer bytes (empty for a non-first fragment's missing header) */
  payload: Buffer;
  partial: boolean;
}

export function decode(buf: Buffer, offset = 0): DecodeResult<IPv6Packet> {
  const have = buf.length - offset;
  if (have < HEADER) return truncated('ipv6', HEADER, have, offset);
  const w = buf.readUInt32BE(offset);
  if (w >>> 28 !== 6) return fail('ipv6', `version ${w >>> 28} is not 6`, offset);
  const header: IPv6Header = {
    version: 6,
    trafficClass: (w >>> 20) & 0xff,
    flowLabel: w & 0xfffff,
    payloadLength: buf.readUInt16BE(offset + 4),
    nextHeader: buf[offset + 6],
    hopLimit: buf[offset + 7],
    src: formatIPv6(buf, offset + 8),
    dst: formatIPv6(buf, offset + 24),
  };
  const end = Math.min(buf.length, offset + HEADER + header.payloadLength);
  const extensions: ExtensionHeader[] = [];
  let next = header.nextHeader;
  let p = offset + HEADER;
  let fragment: IPv6Packet['fragment'];
  for (;;) {
    if (next === NEXT_HOP_BY_HOP || next === NEXT_ROUTING || next === NEXT_DEST_OPTS || next === NEXT_MOBILITY) {
      if (end - p < 8) return truncated('ipv6', 8, end - p, p);
      const len = (buf[p + 1] + 1) * 8;
      if (end - p < len) return truncated('ipv6', len, end - p, p);
      extensions.push({ type: next, length: len });
      next = buf[p];
      p += len;
    } else if (next === NEXT_FRAGMENT) {
      if (end - p < 8) return truncated('ipv6', 8, end - p, p);
      const fo = buf.readUInt16BE(p + 2);
      fragment = { offset: fo & 0xfff8, more: (fo & 1) === 1, id: buf.readUInt32BE(p + 4) };
      extensions.push({ type: next, length: 8 });
      next = buf[p];
      p += 8;
      if (fragment.offset !== 0) break; // the upper-layer header is in the first fragment only
    } else if (next === NEXT_AH) {
      if (end - p < 8) return truncated('ipv6', 8, end - p, p);
      const len = (buf[p + 1] + 2) * 4;
      if (end - p < len) return truncated('ipv6', len, end - p, p);
      extensions.push({ type: next, length: len });
      next = buf[p];
      p += len;
    } else {
      break;
    }
    if (extensions.length > 16) return fail('ipv6', 'more than 16 extension headers', p);
  }
  return ok(
    { header, extensions, protocol: next, fragment, payload: buf.subarray(p, end), partial: end < offset + HEADER + header.payloadLength },
    end - offset,
  );
}

export interface IPv6Fields {
  trafficClass?: number;
  flowLabel?: number;
  nextHeader: number;
  hopLimit?: number;
  src: string;
  dst: string;
}

export function encodingLength(_h: IPv6Fields, payloadLength = 0): number {
  return HEADER + payloadLength;
}

export function encode(h: IPv6Fields, payload: Uint8Array = Buffer.alloc(0), buf?: Buffer, offset = 0): Buffer {
  const src = parseIPv6(h.src);
  const dst = parseIPv6(h.dst);
  if (!src || !dst) throw new TypeError(`not IPv6 addresses: ${h.src} ${h.dst}`);
  if (payload.length > 0xffff) throw new RangeError('IPv6 payload over 65535 bytes needs a jumbogram');
  const out = buf ?? Buffer.alloc(offset + HEADER + payload.length);
  out.writeUInt32BE(((6 << 28) | ((h.trafficClass ?? 0) << 20) | ((h.flowLabel ?? 0) & 0xfffff)) >>> 0, offset);
  out.writeUInt16BE(payload.length, offset + 4);
  out[offset + 6] = h.nextHeader;
  out[offset + 7] = h.hopLimit ?? 64;
  src.copy(out, offset + 8);
  dst.copy(out, offset + 24);
  out.set(payload, offset + HEADER);
  return out;
}
