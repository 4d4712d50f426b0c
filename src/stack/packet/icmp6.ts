// ICMPv6 (RFC 4443; RFC 4884 extensions). The checksum covers the IPv6
// pseudo-header, so encode() fills it only when given one; raw and ping
// sockets have the kernel fill it (RFC 3542 3.1).
import { type PseudoHeader, checksum as cksum, pseudoHeaderSum, verify } from './checksum.js';
import { HEADER, encodingLength, echo as echoMessage, errorBody, type Body, type ErrorBody, type Message } from './icmp-message.js';
import * as quote from './quote.js';
import { type DecodeResult, ok, truncated } from './result.js';

export const DEST_UNREACH = 1;
export const PACKET_TOO_BIG = 2;
export const TIME_EXCEEDED = 3;
export const PARAM_PROB = 4;
export const ECHO_REQUEST = 128;
export const ECHO_REPLY = 129;
export const ROUTER_SOLICIT = 133;
export const ROUTER_ADVERT = 134;
export const NEIGHBOR_SOLICIT = 135;
export const NEIGHBOR_ADVERT = 136;
export const REDIRECT = 137;

// Destination Unreachable codes
export const NOROUTE = 0;
export const ADM_PROHIBITED = 1;
export const BEYOND_SCOPE = 2;
export const ADDR_UNREACH = 3;
export const PORT_UNREACH = 4;
export const POLICY_FAIL = 5;
export const REJECT_ROUTE = 6;

// Time Exceeded codes
export const EXC_HOPLIMIT = 0;
export const EXC_FRAGTIME = 1;

export { HEADER, encodingLength, type Echo, type ErrorBody, type Raw, type Body, type Message } from './icmp-message.js';
export const PROTOCOL = 58;

export function isError(type: number): boolean {
  return type < 128;
}

function decodeError(type: number, buf: Buffer, offset: number, end: number): ErrorBody {
  // RFC 4884: byte 4 is the original datagram's length in 64-bit words (not for packet too big)
  const words = type === DEST_UNREACH || type === TIME_EXCEEDED ? buf[offset + 4] : 0;
  const body = errorBody(buf, offset, end, words, 8, quote.decode6);
  if (type === PACKET_TOO_BIG) body.mtu = buf.readUInt32BE(offset + 4);
  if (type === PARAM_PROB) body.pointer = buf.readUInt32BE(offset + 4);
  return body;
}

export function decode(buf: Buffer, offset = 0, ph?: PseudoHeader): DecodeResult<Message> {
  const have = buf.length - offset;
  if (have < HEADER) return truncated('icmp6', HEADER, have, offset);
  const type = buf[offset];
  const code = buf[offset + 1];
  const end = buf.length;
  let body: Body;
  if (type === ECHO_REQUEST || type === ECHO_REPLY) {
    body = { kind: 'echo', id: buf.readUInt16BE(offset + 4), seq: buf.readUInt16BE(offset + 6), data: buf.subarray(offset + HEADER, end) };
  } else if (isError(type)) {
    body = decodeError(type, buf, offset, end);
  } else {
    body = { kind: 'raw', data: buf.subarray(offset + 4, end) };
  }
  const m: Message = { type, code, checksum: buf.readUInt16BE(offset + 2), body };
  if (ph) {
    try {
      m.checksumOk = verify(buf, offset, end, pseudoHeaderSum(ph, PROTOCOL, have));
    } catch {
      m.checksumOk = false;
    }
  }
  return ok(m, have);
}

export function encode(m: Message, ph?: PseudoHeader, buf?: Buffer, offset = 0): Buffer {
  const len = encodingLength(m);
  const out = buf ?? Buffer.alloc(offset + len);
  out.fill(0, offset, offset + Math.min(len, HEADER));
  out[offset] = m.type;
  out[offset + 1] = m.code;
  const b = m.body;
  if (b.kind === 'echo') {
    out.writeUInt16BE(b.id & 0xffff, offset + 4);
    out.writeUInt16BE(b.seq & 0xffff, offset + 6);
    out.set(b.data, offset + HEADER);
  } else if (b.kind === 'error') {
    if (m.type === PACKET_TOO_BIG) out.writeUInt32BE(b.mtu >>> 0, offset + 4);
    if (m.type === PARAM_PROB) out.writeUInt32BE((b.pointer ?? 0) >>> 0, offset + 4);
    if (b.extensions) {
      if (b.original.length % 8 !== 0) throw new RangeError('RFC 4884: original datagram must be padded to 64 bits');
      out[offset + 4] = b.original.length / 8;
    }
    out.set(b.original, offset + HEADER);
    if (b.extensions) out.set(b.extensions, offset + HEADER + b.original.length);
  } else {
    out.set(b.data, offset + 4);
  }
  if (ph) out.writeUInt16BE(cksum(out, offset, offset + len, pseudoHeaderSum(ph, PROTOCOL, len)), offset + 2);
  return out;
}

export function echo(type: typeof ECHO_REQUEST | typeof ECHO_REPLY, id: number, seq: number, data: Buffer): Message {
  return echoMessage(type, id, seq, data);
}
