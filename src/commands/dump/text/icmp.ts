// print-icmp.c (tcpdump 4.99): echo, unreachable, time exceeded, redirect
// and the rest, and at -v the quoted IP header. Facts copied, not code.
import type { IcmpLayer, Layer } from '../../../stack/dissect/index.js';
import { ip4Text } from './ip.js';
import { type TextOptions, host, tcpPort, udpPort } from './netdissect.js';
import type { TcpState } from './tcp.js';

/** A quoted transport header: a whole one, or the ports of one the capture (or the quote) cut (print-icmp6.c's too). */
export function quotedTransport(t: Layer | undefined): { layer: 'udp'; dstPort: number } | { layer: 'tcp'; segment: { dstPort: number } } | undefined {
  if (t?.layer === 'udp' || t?.layer === 'tcp') return t;
  if (t?.layer !== 'truncated' || !t.ports) return undefined;
  if (t.codec === 'udp') return { layer: 'udp', dstPort: t.ports[1] };
  if (t.codec === 'tcp') return { layer: 'tcp', segment: { dstPort: t.ports[1] } };
  return undefined;
}

// print-icmp.c unreach / time exceeded wording
const UNREACH: Record<number, string> = {
  0: 'net %d unreachable',
  1: 'host %d unreachable',
  5: '%d unreachable - source route failed',
  6: 'net %d unreachable - unknown',
  7: 'host %d unreachable - unknown',
  8: 'host %d unreachable - isolated',
  9: 'net %d unreachable - admin prohibited',
  10: 'host %d unreachable - admin prohibited',
  11: 'net %d unreachable - tos prohibited',
  12: 'host %d unreachable - tos prohibited',
  13: 'host %d unreachable - admin prohibited filter',
  14: 'host %d unreachable - host precedence violation',
  15: 'host %d unreachable - precedence cutoff',
};

export function icmpText(c: IcmpLayer, src: string, dst: string, o: TextOptions, ts: TcpState): string {
  if (c.short) return `${host(o, src)} > ${host(o, dst)}:  [|icmp]`;
  let s = `${host(o, src)} > ${host(o, dst)}: ICMP `;
  const q = c.quote;
  const qip = q?.[0]?.layer === 'ipv4' ? q[0] : undefined;
  switch (c.type) {
    case 0:
      s += `echo reply, id ${c.id}, seq ${c.seq}`;
      break;
    case 8:
      s += `echo request, id ${c.id}, seq ${c.seq}`;
      break;
    case 3: {
      const to = qip ? host(o, qip.header.dst) : '';
      if (c.code === 2) s += `${to} protocol ${qip?.header.protocol} unreachable`;
      else if (c.code === 3) {
        const t = quotedTransport(q?.[1]);
        if (t?.layer === 'udp') s += `${to} udp port ${udpPort(o, t.dstPort)} unreachable`;
        else if (t?.layer === 'tcp') s += `${to} tcp port ${tcpPort(o, t.segment.dstPort)} unreachable`;
        else s += `${to} protocol ${qip?.header.protocol} port unreachable`;
      } else if (c.code === 4) s += `${to} unreachable - need to frag (mtu ${c.mtu})`;
      else s += (UNREACH[c.code] ?? `${to} unreachable - #${c.code}`).replace('%d', to);
      break;
    }
    case 11:
      s += c.code === 0 ? 'time exceeded in-transit' : c.code === 1 ? 'ip reassembly time exceeded' : `time exceeded-#${c.code}`;
      break;
    case 5:
      s += `redirect ${qip ? host(o, qip.header.dst) : ''} to ${['net', 'host', 'tos-net', 'tos-host'][c.code] ?? `#${c.code}`} ${c.gateway ? host(o, c.gateway) : c.gateway}`;
      break;
    case 12:
      s += c.code === 0 ? `parameter problem - octet ${c.pointer}` : `parameter problem - code ${c.code}`;
      break;
    case 13:
      s += `time stamp query id ${c.id} seq ${c.seq}`;
      break;
    case 14:
      s += `time stamp reply id ${c.id} seq ${c.seq}`;
      break;
    case 4:
      s += 'source quench';
      break;
    default:
      s += `type-#${c.type}`;
  }
  s += `, length ${c.length}`;
  if (o.verbose && q && qip) {
    const inner = ip4Text(q, 0, { ...o }, ts);
    s += `\n\t${inner}`;
  }
  return s;
}
