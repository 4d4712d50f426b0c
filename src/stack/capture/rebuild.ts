// IP packets rebuilt from what a socket without privilege knows: the
// addresses, the TTL / hop limit, the protocol and the transport bytes it
// sent or received (a ping socket's ICMP message, a UDP socket's payload
// and ports, an error queue's sock_extended_err). Lengths and checksums are
// computed so the result is a packet any dissector takes as valid (RFC 791,
// RFC 8200; RFC 768 / RFC 9293 / RFC 4443 pseudo-headers). Pure functions.
import { checksum, pseudoHeaderSum } from '../packet/checksum.js';
import * as icmp4 from '../packet/icmp4.js';
import * as icmp6 from '../packet/icmp6.js';
import * as ipv4 from '../packet/ipv4.js';
import * as ipv6 from '../packet/ipv6.js';
import * as tcp from '../packet/tcp.js';
import * as udp from '../packet/udp.js';

export const PROTO_ICMP = 1;
export const PROTO_TCP = tcp.PROTOCOL;
export const PROTO_UDP = udp.PROTOCOL;
export const PROTO_ICMPV6 = icmp6.PROTOCOL;

/** The IP header fields a rebuilt packet gets: what the kernel reported, the rest left at their defaults (id 0, no DF). */
export interface IpEnds {
  family: 4 | 6;
  src: string;
  dst: string;
  /** TTL / hop limit */
  ttl: number;
  /** IPv4 options the packet carried (ping -R / -T), when known */
  options?: Uint8Array;
}

/** RFC 1812 4.3.2.3 / RFC 4443 2.4(c): how much of the offending packet an ICMP error quotes at most */
export const QUOTE_LIMIT = { 4: 576 - 20 - 8, 6: 1280 - 40 - 8 } as const;

/** Where each transport keeps its checksum, and whether it covers a pseudo-header. */
function checksumField(family: 4 | 6, protocol: number): { at: number; pseudo: boolean } | null {
  if (protocol === PROTO_ICMP && family === 4) return { at: 2, pseudo: false };
  if (protocol === PROTO_ICMPV6 && family === 6) return { at: 2, pseudo: true };
  if (protocol === PROTO_UDP) return { at: 6, pseudo: true };
  if (protocol === PROTO_TCP) return { at: 16, pseudo: true };
  return null;
}

/** The transport bytes (a copy) with their checksum computed for these addresses. */
export function withChecksum(ends: IpEnds, protocol: number, transport: Uint8Array): Buffer {
  const t = Buffer.from(transport);
  const f = checksumField(ends.family, protocol);
  if (!f || t.length < f.at + 2) return t;
  t.writeUInt16BE(0, f.at);
  const initial = f.pseudo ? pseudoHeaderSum({ src: ends.src, dst: ends.dst }, protocol, t.length) : 0;
  let c = checksum(t, 0, t.length, initial);
  if (protocol === PROTO_UDP && c === 0) c = 0xffff; // RFC 768: 0 means none
  t.writeUInt16BE(c, f.at);
  return t;
}

/** An IPv4 or IPv6 packet around transport bytes, lengths and every checksum valid. */
export function ipPacket(ends: IpEnds, protocol: number, transport: Uint8Array): Buffer {
  const payload = withChecksum(ends, protocol, transport);
  if (ends.family === 4) return ipv4.encode({ protocol, src: ends.src, dst: ends.dst, ttl: ends.ttl, options: ends.options }, payload);
  return ipv6.encode({ nextHeader: protocol, src: ends.src, dst: ends.dst, hopLimit: ends.ttl }, payload);
}

/** A UDP datagram between two ports, as an IP packet. */
export function udpPacket(ends: IpEnds, srcPort: number, dstPort: number, payload: Uint8Array): Buffer {
  return ipPacket(ends, PROTO_UDP, udp.encode({ srcPort, dstPort }, payload));
}

/** A TCP segment, as an IP packet. */
export function tcpPacket(ends: IpEnds, fields: tcp.TcpFields, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  return ipPacket(ends, PROTO_TCP, tcp.encode(fields, payload));
}

/** The ICMP protocol number of a family. */
export function icmpProtocol(family: 4 | 6): number {
  return family === 4 ? PROTO_ICMP : PROTO_ICMPV6;
}

/** What an ICMP error says besides its type and code. */
export interface ErrorDetail {
  /** next-hop MTU (frag needed, packet too big) */
  mtu?: number;
  /** a redirect's new first hop */
  gateway?: string;
}

/**
 * An ICMP error about `offending` (the whole IP packet it is about), as the
 * IP packet that carried it: the quote is cut where a router would cut it.
 */
export function icmpErrorPacket(ends: IpEnds, type: number, code: number, detail: ErrorDetail, offending: Buffer): Buffer {
  const original = offending.subarray(0, Math.min(offending.length, QUOTE_LIMIT[ends.family]));
  const body = { kind: 'error' as const, original, mtu: detail.mtu ?? 0, gateway: detail.gateway };
  const message = ends.family === 4 ? icmp4.encode({ type, code, body }) : icmp6.encode({ type, code, body });
  return ipPacket(ends, icmpProtocol(ends.family), message);
}

/** An echo request or reply as an IP packet. */
export function echoPacket(ends: IpEnds, reply: boolean, id: number, seq: number, data: Buffer): Buffer {
  const v4 = ends.family === 4;
  const type = v4 ? (reply ? icmp4.ECHO_REPLY : icmp4.ECHO_REQUEST) : reply ? icmp6.ECHO_REPLY : icmp6.ECHO_REQUEST;
  const message = v4 ? icmp4.encode(icmp4.echo(type as 0 | 8, id, seq, data)) : icmp6.encode(icmp6.echo(type as 128 | 129, id, seq, data));
  return ipPacket(ends, icmpProtocol(ends.family), message);
}
