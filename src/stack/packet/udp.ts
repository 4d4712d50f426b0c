// UDP (RFC 768).
import { type PseudoHeader, checksum, pseudoHeaderSum, verify } from './checksum.js';
import { type DecodeResult, fail, ok, truncated } from './result.js';

export const HEADER = 8;
export const PROTOCOL = 17;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number;
  payload: Buffer;
}

export function decode(buf: Buffer, offset = 0): DecodeResult<UdpDatagram> {
  const have = buf.length - offset;
  if (have < HEADER) return truncated('udp', HEADER, have, offset);
  const length = buf.readUInt16BE(offset + 4);
  if (length < HEADER && length !== 0) return fail('udp', `length ${length} below 8`, offset + 4);
  // length 0 appears with IPv6 jumbograms; a quote may hold fewer bytes than length
  const end = length === 0 ? buf.length : Math.min(buf.length, offset + length);
  return ok(
    {
      srcPort: buf.readUInt16BE(offset),
      dstPort: buf.readUInt16BE(offset + 2),
      length,
      checksum: buf.readUInt16BE(offset + 6),
      payload: buf.subarray(offset + HEADER, end),
    },
    end - offset,
  );
}

export interface UdpFields {
  srcPort: number;
  dstPort: number;
}

export function encodingLength(_u: UdpFields, payloadLength = 0): number {
  return HEADER + payloadLength;
}

/** Header plus payload; with a pseudo-header the checksum is filled in (0 becomes 0xffff, RFC 768). */
export function encode(u: UdpFields, payload: Uint8Array = Buffer.alloc(0), ph?: PseudoHeader, buf?: Buffer, offset = 0): Buffer {
  const length = HEADER + payload.length;
  const out = buf ?? Buffer.alloc(offset + length);
  out.writeUInt16BE(u.srcPort, offset);
  out.writeUInt16BE(u.dstPort, offset + 2);
  out.writeUInt16BE(length > 0xffff ? 0 : length, offset + 4);
  out.writeUInt16BE(0, offset + 6);
  out.set(payload, offset + HEADER);
  if (ph) {
    const c = checksum(out, offset, offset + length, pseudoHeaderSum(ph, PROTOCOL, length));
    out.writeUInt16BE(c === 0 ? 0xffff : c, offset + 6);
  }
  return out;
}

/** Checks a datagram's checksum against its pseudo-header (0 means none was sent, IPv4 only). */
export function verifyChecksum(buf: Buffer, ph: PseudoHeader, offset = 0, length = buf.length - offset): boolean {
  if (buf.readUInt16BE(offset + 6) === 0 && !ph.src.includes(':')) return true;
  return verify(buf, offset, offset + length, pseudoHeaderSum(ph, PROTOCOL, length));
}
