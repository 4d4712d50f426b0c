// The original datagram an ICMP error quotes (RFC 792: IP header + at least
// 8 bytes; RFC 1812 4.3.2.3 and RFC 4443 2.4: as much as fits). Only the
// first 8 transport bytes are guaranteed, so the transport view is partial.
import * as ipv4 from './ipv4.js';
import * as ipv6 from './ipv6.js';
import { type DecodeResult, ok, truncated } from './result.js';

export interface Quote {
  ip: ipv4.IPv4Header | ipv6.IPv6Header;
  /** upper-layer protocol of the quoted datagram */
  protocol: number;
  /** echo request (ICMP type 8 / ICMPv6 type 128) quoted: its identifier and sequence */
  echo?: { type: number; code: number; id: number; seq: number };
  udp?: { srcPort: number; dstPort: number; length: number; checksum: number };
  tcp?: { srcPort: number; dstPort: number; seq: number };
  /** the quoted transport bytes (header included) */
  transport: Buffer;
}

function transportView(protocol: number, t: Buffer, q: Quote): void {
  if (t.length < 8) return;
  if (protocol === 1 || protocol === 58) {
    q.echo = { type: t[0], code: t[1], id: t.readUInt16BE(4), seq: t.readUInt16BE(6) };
  } else if (protocol === 17) {
    q.udp = { srcPort: t.readUInt16BE(0), dstPort: t.readUInt16BE(2), length: t.readUInt16BE(4), checksum: t.readUInt16BE(6) };
  } else if (protocol === 6) {
    q.tcp = { srcPort: t.readUInt16BE(0), dstPort: t.readUInt16BE(2), seq: t.readUInt32BE(4) };
  }
}

export function decode4(buf: Buffer, offset = 0): DecodeResult<Quote> {
  const r = ipv4.decode(buf, offset);
  if (!r.ok) return r;
  const { header, payload } = r.value;
  const q: Quote = { ip: header, protocol: header.protocol, transport: payload };
  if (header.fragmentOffset === 0) transportView(header.protocol, payload, q);
  return ok(q, r.length);
}

export function decode6(buf: Buffer, offset = 0): DecodeResult<Quote> {
  // a quote is usually cut short of payloadLength; decode what is there
  if (buf.length - offset < ipv6.HEADER) return truncated('ipv6', ipv6.HEADER, buf.length - offset, offset);
  const r = ipv6.decode(buf, offset);
  if (!r.ok) return r;
  const { header, protocol, payload, fragment } = r.value;
  const q: Quote = { ip: header, protocol, transport: payload };
  if (!fragment || fragment.offset === 0) transportView(protocol, payload, q);
  return ok(q, r.length);
}
