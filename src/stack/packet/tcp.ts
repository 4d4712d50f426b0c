// TCP segment (RFC 9293) with the options users meet: MSS (RFC 9293),
// window scale and timestamps (RFC 7323), SACK-permitted and SACK (RFC 2018).
import { type PseudoHeader, checksum, pseudoHeaderSum, verify } from './checksum.js';
import { type DecodeResult, fail, ok, truncated } from './result.js';

export const MIN_HEADER = 20;
export const PROTOCOL = 6;

export interface TcpFlags {
  fin?: boolean;
  syn?: boolean;
  rst?: boolean;
  psh?: boolean;
  ack?: boolean;
  urg?: boolean;
  ece?: boolean;
  cwr?: boolean;
}

export type TcpOption =
  | { kind: 'eol' }
  | { kind: 'nop' }
  | { kind: 'mss'; value: number }
  | { kind: 'windowScale'; shift: number }
  | { kind: 'sackPermitted' }
  | { kind: 'sack'; blocks: [number, number][] }
  | { kind: 'timestamps'; value: number; echo: number }
  | { kind: 'unknown'; type: number; data: Buffer };

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  headerLength: number;
  flags: Required<TcpFlags>;
  window: number;
  checksum: number;
  urgent: number;
  options: TcpOption[];
  payload: Buffer;
}

const FIN = 0x01,
  SYN = 0x02,
  RST = 0x04,
  PSH = 0x08,
  ACK = 0x10,
  URG = 0x20,
  ECE = 0x40,
  CWR = 0x80;
const FLAG_BITS: [keyof TcpFlags, number][] = [
  ['fin', FIN],
  ['syn', SYN],
  ['rst', RST],
  ['psh', PSH],
  ['ack', ACK],
  ['urg', URG],
  ['ece', ECE],
  ['cwr', CWR],
];

/** The flags byte as the object decode returns (a literal: one shape for every segment). */
function decodeFlags(fb: number): Required<TcpFlags> {
  return {
    fin: (fb & FIN) !== 0,
    syn: (fb & SYN) !== 0,
    rst: (fb & RST) !== 0,
    psh: (fb & PSH) !== 0,
    ack: (fb & ACK) !== 0,
    urg: (fb & URG) !== 0,
    ece: (fb & ECE) !== 0,
    cwr: (fb & CWR) !== 0,
  };
}

export function decodeOptions(buf: Buffer, start: number, end: number): DecodeResult<TcpOption[]> {
  const opts: TcpOption[] = [];
  let p = start;
  while (p < end) {
    const type = buf[p];
    if (type === 0) {
      opts.push({ kind: 'eol' });
      break;
    }
    if (type === 1) {
      opts.push({ kind: 'nop' });
      p++;
      continue;
    }
    if (p + 2 > end) return truncated('tcp-option', 2, end - p, p);
    const len = buf[p + 1];
    if (len < 2 || p + len > end) return fail('tcp-option', `option ${type} has bad length ${len}`, p);
    const bad = (want: string) => fail('tcp-option', `option ${type} length ${len}, expected ${want}`, p);
    switch (type) {
      case 2:
        if (len !== 4) return bad('4');
        opts.push({ kind: 'mss', value: buf.readUInt16BE(p + 2) });
        break;
      case 3:
        if (len !== 3) return bad('3');
        opts.push({ kind: 'windowScale', shift: buf[p + 2] });
        break;
      case 4:
        if (len !== 2) return bad('2');
        opts.push({ kind: 'sackPermitted' });
        break;
      case 5: {
        if ((len - 2) % 8 !== 0) return bad('2 + 8n');
        const blocks: [number, number][] = [];
        for (let q = p + 2; q < p + len; q += 8) blocks.push([buf.readUInt32BE(q), buf.readUInt32BE(q + 4)]);
        opts.push({ kind: 'sack', blocks });
        break;
      }
      case 8:
        if (len !== 10) return bad('10');
        opts.push({ kind: 'timestamps', value: buf.readUInt32BE(p + 2), echo: buf.readUInt32BE(p + 6) });
        break;
      default:
        opts.push({ kind: 'unknown', type, data: Buffer.from(buf.subarray(p + 2, p + len)) });
    }
    p += len;
  }
  return ok(opts, end - start);
}

export function decode(buf: Buffer, offset = 0): DecodeResult<TcpSegment> {
  const have = buf.length - offset;
  if (have < MIN_HEADER) return truncated('tcp', MIN_HEADER, have, offset);
  const headerLength = (buf[offset + 12] >> 4) * 4;
  if (headerLength < MIN_HEADER) return fail('tcp', `data offset ${headerLength} below 20`, offset + 12);
  if (have < headerLength) return truncated('tcp', headerLength, have, offset);
  const options = decodeOptions(buf, offset + MIN_HEADER, offset + headerLength);
  if (!options.ok) return options;
  const flags = decodeFlags(buf[offset + 13]);
  return ok(
    {
      srcPort: buf.readUInt16BE(offset),
      dstPort: buf.readUInt16BE(offset + 2),
      seq: buf.readUInt32BE(offset + 4),
      ack: buf.readUInt32BE(offset + 8),
      headerLength,
      flags,
      window: buf.readUInt16BE(offset + 14),
      checksum: buf.readUInt16BE(offset + 16),
      urgent: buf.readUInt16BE(offset + 18),
      options: options.value,
      payload: buf.subarray(offset + headerLength),
    },
    have,
  );
}

export interface TcpFields {
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  flags?: TcpFlags;
  window?: number;
  urgent?: number;
  options?: TcpOption[];
}

export function optionsLength(options: TcpOption[] = []): number {
  let n = 0;
  for (const o of options) n += optionLength(o);
  return (n + 3) & ~3;
}

function optionLength(o: TcpOption): number {
  switch (o.kind) {
    case 'eol':
    case 'nop':
      return 1;
    case 'mss':
      return 4;
    case 'windowScale':
      return 3;
    case 'sackPermitted':
      return 2;
    case 'sack':
      return 2 + 8 * o.blocks.length;
    case 'timestamps':
      return 10;
    case 'unknown':
      return 2 + o.data.length;
  }
}

export function encodingLength(t: TcpFields, payloadLength = 0): number {
  return MIN_HEADER + optionsLength(t.options) + payloadLength;
}

/** Segment with options padded by EOL/zero to a 4-byte boundary; checksum filled in with a pseudo-header. */
export function encode(t: TcpFields, payload: Uint8Array = Buffer.alloc(0), ph?: PseudoHeader, buf?: Buffer, offset = 0): Buffer {
  const optLen = optionsLength(t.options);
  if (optLen > 40) throw new RangeError('TCP options longer than 40 bytes');
  const headerLength = MIN_HEADER + optLen;
  const length = headerLength + payload.length;
  const out = buf ?? Buffer.alloc(offset + length);
  out.fill(0, offset, offset + headerLength);
  out.writeUInt16BE(t.srcPort, offset);
  out.writeUInt16BE(t.dstPort, offset + 2);
  out.writeUInt32BE((t.seq ?? 0) >>> 0, offset + 4);
  out.writeUInt32BE((t.ack ?? 0) >>> 0, offset + 8);
  out[offset + 12] = (headerLength / 4) << 4;
  let fb = 0;
  for (const [name, bit] of FLAG_BITS) if (t.flags?.[name]) fb |= bit;
  out[offset + 13] = fb;
  out.writeUInt16BE(t.window ?? 65535, offset + 14);
  out.writeUInt16BE(t.urgent ?? 0, offset + 18);
  let p = offset + MIN_HEADER;
  for (const o of t.options ?? []) {
    switch (o.kind) {
      case 'eol':
        out[p] = 0;
        break;
      case 'nop':
        out[p] = 1;
        break;
      case 'mss':
        out[p] = 2;
        out[p + 1] = 4;
        out.writeUInt16BE(o.value, p + 2);
        break;
      case 'windowScale':
        out[p] = 3;
        out[p + 1] = 3;
        out[p + 2] = o.shift;
        break;
      case 'sackPermitted':
        out[p] = 4;
        out[p + 1] = 2;
        break;
      case 'sack':
        out[p] = 5;
        out[p + 1] = 2 + 8 * o.blocks.length;
        o.blocks.forEach(([l, r], i) => {
          out.writeUInt32BE(l >>> 0, p + 2 + 8 * i);
          out.writeUInt32BE(r >>> 0, p + 6 + 8 * i);
        });
        break;
      case 'timestamps':
        out[p] = 8;
        out[p + 1] = 10;
        out.writeUInt32BE(o.value >>> 0, p + 2);
        out.writeUInt32BE(o.echo >>> 0, p + 6);
        break;
      case 'unknown':
        out[p] = o.type;
        out[p + 1] = 2 + o.data.length;
        out.set(o.data, p + 2);
        break;
    }
    p += optionLength(o);
  }
  out.set(payload, offset + headerLength);
  if (ph) out.writeUInt16BE(checksum(out, offset, offset + length, pseudoHeaderSum(ph, PROTOCOL, length)), offset + 16);
  return out;
}

export function verifyChecksum(buf: Buffer, ph: PseudoHeader, offset = 0, length = buf.length - offset): boolean {
  return verify(buf, offset, offset + length, pseudoHeaderSum(ph, PROTOCOL, length));
}

/** The flags as tcpdump prints them: S, S., R., F., P. ... */
export function flagString(f: TcpFlags): string {
  let s = '';
  if (f.syn) s += 'S';
  if (f.fin) s += 'F';
  if (f.psh) s += 'P';
  if (f.rst) s += 'R';
  if (f.urg) s += 'U';
  if (f.ece) s += 'E';
  if (f.cwr) s += 'W';
  if (f.ack) s += '.';
  return s || 'none';
}
