// What every traceroute probe socket gets before its first send (traceroute
// 2.x's tune_socket): the device and source to bind, DF handling, TOS /
// traffic class, a firewall mark, kernel receive stamps and the received
// TTL, and IP_RECVERR so ICMP errors about our probes reach the socket's
// error queue (ip(7), ipv6(7)).
import * as C from '../constants.js';
import { Socket, inetAddress } from '../socket.js';
import type { Family } from './index.js';
import { PMTU, type PmtuMode } from './icmp.js';

export interface TuneOptions {
  /** bind to this source address (else the wildcard) */
  source?: string;
  /** SO_BINDTODEVICE */
  device?: string;
  /** IP_TOS / IPV6_TCLASS */
  tos?: number;
  /** IP_MTU_DISCOVER / IPV6_MTU_DISCOVER; traceroute uses 'dont', or 'probe' with -F */
  pmtu?: PmtuMode;
  /** SO_MARK */
  mark?: number;
}

export function tuneSocket(s: Socket, family: Family, o: TuneOptions): void {
  const v4 = family === 4;
  if (o.device) s.setsockopt(C.SOL_SOCKET, C.SO_BINDTODEVICE, Buffer.from(o.device + '\0'));
  if (o.mark !== undefined) s.setsockopt(C.SOL_SOCKET, C.SO_MARK, o.mark);
  s.bind(inetAddress(o.source ?? (v4 ? '0.0.0.0' : '::'), 0));
  const pmtu = PMTU[o.pmtu ?? 'dont'];
  if (v4) {
    s.setsockopt(C.IPPROTO_IP, C.IP_MTU_DISCOVER, pmtu);
    if (o.tos) s.setsockopt(C.IPPROTO_IP, C.IP_TOS, o.tos);
    s.setsockopt(C.IPPROTO_IP, C.IP_RECVERR, 1);
    s.setsockopt(C.IPPROTO_IP, C.IP_RECVTTL, 1);
  } else {
    s.setsockopt(C.IPPROTO_IPV6, C.IPV6_MTU_DISCOVER, pmtu);
    if (o.tos) s.setsockopt(C.IPPROTO_IPV6, C.IPV6_TCLASS, o.tos);
    s.setsockopt(C.IPPROTO_IPV6, C.IPV6_RECVERR, 1);
    s.setsockopt(C.IPPROTO_IPV6, C.IPV6_RECVHOPLIMIT, 1);
  }
  s.setsockopt(C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1);
}

/** Unicast TTL / hop limit for what the socket sends next. */
export function setTtl(s: Socket, family: Family, ttl: number): void {
  if (family === 4) s.setsockopt(C.IPPROTO_IP, C.IP_TTL, ttl);
  else s.setsockopt(C.IPPROTO_IPV6, C.IPV6_UNICAST_HOPS, ttl);
}

/** ICMP types that are notices, not errors about a probe (redirect, source quench). */
export function isNotice(family: Family, type: number): boolean {
  return family === 4 && (type === 4 || type === 5);
}

/** A UDP port unreachable: the probe reached a host that has nothing on the port. */
export function isPortUnreachable(family: Family, type: number, code: number): boolean {
  return family === 4 ? type === 3 && code === 3 : type === 1 && code === 4;
}

/**
 * Switch the kernel's receive timestamps on now and keep them on until the
 * returned function is called. The kernel turns them on lazily (a deferred
 * static-key flip when the first socket asks for SO_TIMESTAMP*); a packet
 * that arrives before the flip is stamped only when read, which would add
 * the reader's latency to the first round trips. Call this early, before
 * name resolution, so the flip is done by the first probe.
 */
export function holdTimestamps(): () => void {
  let s: Socket | null = null;
  try {
    s = Socket.open(C.AF_INET, C.SOCK_DGRAM);
    s.setsockopt(C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1);
  } catch {
    s?.close();
    s = null;
  }
  return () => s?.close();
}
