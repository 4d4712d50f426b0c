// print-udp.c (tcpdump 4.99): the ports, the checksum verdict at -v, and the
// payloads it hands on (DNS, NTP). Facts copied, not code.
import type { Layer, UdpLayer } from '../../../stack/dissect/index.js';
import { dnsText } from './domain.js';
import { type TextOptions, endpoint, hex4, udpPort } from './netdissect.js';
import { ntpText } from './ntp.js';

export function udpText(u: UdpLayer, next: Layer | undefined, src: string, dst: string, o: TextOptions): string {
  let s = `${endpoint(o, src, udpPort(o, u.srcPort))} > ${endpoint(o, dst, udpPort(o, u.dstPort))}: `;
  // print-udp.c: IPv6's mandatory checksum at -v, IPv4's only at -vv
  if (u.sum && (o.verbose > 1 || (o.verbose && src.includes(':')))) {
    if (u.checksum === 0 && !src.includes(':')) s += '[no cksum] ';
    else s += u.sum.value === u.sum.good ? '[udp sum ok] ' : `[bad udp cksum 0x${hex4(u.sum.value)} -> 0x${hex4(u.sum.good)}!] `;
  }
  if (o.quiet) return s + `UDP, length ${u.length}`;
  if (next?.layer === 'dns') return s + dnsText(next, o).slice(1);
  if (next?.layer === 'truncated' && next.codec === 'ntp') return `${s} [|ntp]`;
  if (next?.layer === 'ntp') return s + ntpText(next, o);
  return s + `UDP, length ${u.length}`;
}
