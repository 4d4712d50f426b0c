// ICMP for IPv4 (RFC 792; RFC 1191 next-hop MTU; RFC 4884 extensions).
// A message is plain data { type, code, checksum, body }; encode/decode are free functions.
import { formatIPv4, parseIPv4 } from './addr.js';
import { checksum as cksum, verify } from './checksum.js';
import { HEADER, encodingLength, echo as echoMessage, errorBody, type Body, type ErrorBody, type Message } from './icmp-message.js';
import * as quote from './quote.js';
import { type DecodeResult, ok, truncated } from './result.js';

export const ECHO_REPLY = 0;
export const DEST_UNREACH = 3;
export const SOURCE_QUENCH = 4;
export const REDIRECT = 5;
export const ECHO_REQUEST = 8;
export const TIME_EXCEEDED = 11;
export const PARAMETER_PROBLEM = 12;
export const TIMESTAMP = 13;
export const TIMESTAMP_REPLY = 14;

// Destination Unreachable codes
export const NET_UNREACH = 0;
export const HOST_UNREACH = 1;
export const PROT_UNREACH = 2;
export const PORT_UNREACH = 3;
export const FRAG_NEEDED = 4;
export const SR_FAILED = 5;
export const NET_UNKNOWN = 6;
export const HOST_UNKNOWN = 7;
export const HOST_ISOLATED = 8;
export const NET_ANO = 9;
export const HOST_ANO = 10;
export const NET_UNR_TOS = 11;
export const HOST_UNR_TOS = 12;
export const PKT_FILTERED = 13;
export const PREC_VIOLATION = 14;
export const PREC_CUTOFF = 15;

// Time Exceeded codes
export const EXC_TTL = 0;
export const EXC_FRAGTIME = 1;

export { HEADER, encodingLength, type Echo, type ErrorBody, type Raw, type Body, type Message } from './icmp-message.js';

export function isError(type: number): boolean {
  return type === DEST_UNREACH || type === TIME_EXCEEDED || type === PARAMETER_PROBLEM || type === REDIRECT || type === SOURCE_QUENCH;
}

function decodeError(type: number, code: number, buf: Buffer, offset: number, end: number): ErrorBody {
  // RFC 4884: byte 5 is the length of the original datagram in 32-bit words
  const body = errorBody(buf, offset, end, type === REDIRECT ? 0 : buf[offset + 5], 4, quote.decode4);
  if (type === DEST_UNREACH && code === FRAG_NEEDED) body.mtu = buf.readUInt16BE(offset + 6);
  if (type === PARAMETER_PROBLEM) body.pointer = buf[offset + 4];
  if (type === REDIRECT) body.gateway = formatIPv4(buf, offset + 4);
  return body;
}

export function decode(buf: Buffer, offset = 0): DecodeResult<Message> {
  const have = buf.length - offset;
  if (have < HEADER) return truncated('icmp4', HEADER, have, offset);
  const type = buf[offset];
  const code = buf[offset + 1];
  const end = buf.length;
  let body: Body;
  if (type === ECHO_REQUEST || type === ECHO_REPLY) {
    body = { kind: 'echo', id: buf.readUInt16BE(offset + 4), seq: buf.readUInt16BE(offset + 6), data: buf.subarray(offset + HEADER, end) };
  } else if (isError(type)) {
    body = decodeError(type, code, buf, offset, end);
  } else {
    body = { kind: 'raw', data: buf.subarray(offset + 4, end) };
  }
  return ok({ type, code, checksum: buf.readUInt16BE(offset + 2), checksumOk: verify(buf, offset, end), body }, have);
}

/** The message with its checksum computed. */
export function encode(m: Message, buf?: Buffer, offset = 0): Buffer {
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
    if (m.type === DEST_UNREACH && m.code === FRAG_NEEDED) out.writeUInt16BE(b.mtu, offset + 6);
    if (m.type === PARAMETER_PROBLEM) out[offset + 4] = b.pointer ?? 0;
    if (m.type === REDIRECT) {
      const gw = parseIPv4(b.gateway ?? '0.0.0.0');
      if (!gw) throw new TypeError(`bad redirect gateway ${b.gateway}`);
      gw.copy(out, offset + 4);
    }
    if (b.extensions) {
      if (b.original.length % 4 !== 0) throw new RangeError('RFC 4884: original datagram must be padded to 32 bits');
      out[offset + 5] = b.original.length / 4;
    }
    out.set(b.original, offset + HEADER);
    if (b.extensions) out.set(b.extensions, offset + HEADER + b.original.length);
  } else {
    out.set(b.data, offset + 4);
  }
  out.writeUInt16BE(cksum(out, offset, offset + len), offset + 2);
  return out;
}

/** An echo request/reply: the common case made short. */
export function echo(type: typeof ECHO_REQUEST | typeof ECHO_REPLY, id: number, seq: number, data: Buffer): Message {
  return echoMessage(type, id, seq, data);
}
