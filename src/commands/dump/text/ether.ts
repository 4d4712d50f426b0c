// print-ether.c (the link header, its VLAN tags, ethertype_print's demux and
// the ethertypes it cannot print), print-sll.c (LINUX_SLL2's interface and
// packet type), print-null.c (loopback's AF) and print.c's one line per
// packet, as tcpdump 4.99 prints them. Facts copied, not code.
import type { Layer } from '../../../stack/dissect/index.js';
import { arpText } from './arp.js';
import { ip4Text } from './ip.js';
import { ip6Text } from './ip6.js';
import { type TextOptions, hex4, host, macName } from './netdissect.js';
import type { TcpState } from './tcp.js';

const ETHERTYPE_NAMES: Record<number, string> = {
  0x0800: 'IPv4',
  0x0806: 'ARP',
  0x8035: 'Reverse ARP',
  0x86dd: 'IPv6',
  0x8100: '802.1Q',
  0x88a8: '802.1Q-QinQ',
  0x9100: '802.1Q-QinQ',
  0x88cc: 'LLDP',
  0x8847: 'MPLS unicast',
  0x8848: 'MPLS multicast',
  0x888e: 'EAPOL',
  0x8863: 'PPPoE D',
  0x8864: 'PPPoE S',
  0x0842: 'Wake-on-LAN',
};

export function ethertypeName(t: number): string {
  return ETHERTYPE_NAMES[t] ?? 'Unknown';
}

/**
 * An Ethernet frame of a type tcpdump has no printer for: it prints the
 * link header even without -e, then the payload in hex and ASCII unless -q
 * or -x/-X dump it anyway (print-ether.c, ND_DEFAULTPRINT).
 */
export function undecodedEther(layers: Layer[]): boolean {
  const l = layers[0];
  return l?.layer === 'ether' && layers[1]?.layer === 'data' && l.ethertype > 1500 && ETHERTYPE_NAMES[l.ethertype] === undefined;
}

/** print-ether.c's link header: "src > dst, ethertype IPv4 (0x0800), length 98: " (-e, or a type it cannot print). */
function etherHeaderText(l: Extract<Layer, { layer: 'ether' }>, wire: number, o: TextOptions): string {
  const s = `${macName(o, l.src)} > ${macName(o, l.dst)}, `;
  const known = ETHERTYPE_NAMES[l.ethertype] !== undefined;
  if (o.quiet) return s + (known ? `${ethertypeName(l.ethertype)}, length ${wire}: ` : `Unknown Ethertype (0x${hex4(l.ethertype)}), length ${wire}: `);
  return s + `ethertype ${ethertypeName(l.ethertype)} (0x${hex4(l.ethertype)}), length ${wire}: `;
}

/** -e for Ethernet: "src > dst, ethertype IPv4 (0x0800), length 98: " (print-ether.c). */
function linkText(layers: Layer[], wire: number, o: TextOptions): string {
  const l = layers[0];
  if (!l) return '';
  if (l.layer === 'ether') {
    let s = etherHeaderText(l, wire, o);
    for (const v of layers) {
      if (v.layer !== 'vlan') continue;
      s +=
        `vlan ${v.id}, p ${v.pcp}${v.dei ? ', DEI' : ''}, ` +
        (o.quiet ? `${ethertypeName(v.ethertype)}, ` : `ethertype ${ethertypeName(v.ethertype)} (0x${hex4(v.ethertype)}), `);
    }
    return s;
  }
  if (l.layer === 'null') return `AF ${l.family === 2 ? 'IPv4' : 'IPv6'} (${l.family}), length ${wire}: `;
  if (l.layer === 'sll' && l.version === 2) {
    const addr = l.address ? `${l.address} ` : '';
    return `ifindex ${l.ifindex} ${addr}` + (o.quiet ? '' : `ethertype ${ethertypeName(l.ethertype)} (0x${hex4(l.ethertype)}), length ${wire}: `);
  }
  return '';
}

// sll_pkttype as print-sll.c names it
const SLL_PKTTYPES: Record<number, string> = { 0: 'In', 1: 'B', 2: 'M', 3: 'P', 4: 'Out' };

/** LINUX_SLL2's "va    Out " before every line (print-sll.c sll2_if_print). */
function sll2Prefix(layers: Layer[], o: TextOptions): string {
  const l = layers[0];
  if (l?.layer !== 'sll' || l.version !== 2) return '';
  const name = (l.ifindex !== undefined && o.ifname?.(l.ifindex)) || '?';
  return `${name.padEnd(5)} ${(SLL_PKTTYPES[l.packetType] ?? '?').padEnd(3)} `;
}

/** tcpdump's marks for a header the capture cut short: " [|ip6]", "IP  [|ip]" ... */
function truncatedText(l: Extract<Layer, { layer: 'truncated' }>, o: TextOptions): string {
  if (l.codec === 'ip') return l.error === 'empty' ? ' [|ip]' : 'IP  [|ip]';
  if (l.frag) return `IP6 ${host(o, l.src!)} > ${host(o, l.dst!)}: frag (${l.frag[0]}|${l.frag[1]})${l.frag[0] === 0 ? ' ' : ''}`;
  if (l.src !== undefined) return `IP6 ${host(o, l.src)} > ${host(o, l.dst!)}:  [|${l.codec}]`;
  return ` [|${l.codec}]`;
}

/** The line for a packet, without its timestamp and newline. */
export function packetText(layers: Layer[], wire: number, o: TextOptions, tcpState: TcpState): string {
  const head = sll2Prefix(layers, o) + (o.link ? linkText(layers, wire, o) : '');
  const i = layers.findIndex((l) => l.layer !== 'ether' && l.layer !== 'vlan' && l.layer !== 'sll' && l.layer !== 'null');
  if (i < 0) return head;
  return head + networkText(layers, i, wire, o, tcpState);
}

function networkText(layers: Layer[], i: number, wire: number, o: TextOptions, ts: TcpState): string {
  const l = layers[i]!;
  switch (l.layer) {
    case 'ipv4':
      return ip4Text(layers, i, o, ts);
    case 'ipv6':
      return ip6Text(layers, i, o, ts);
    case 'arp':
      return arpText(l, o);
    case 'truncated':
      return truncatedText(l, o);
    case 'data': {
      const link = layers[i - 1];
      const type = link && 'ethertype' in link ? link.ethertype : undefined;
      if (type !== undefined && type <= 1500) return `${o.link ? '' : ''}802.3, length ${type}: LLC`;
      if (o.link) return '';
      if (undecodedEther(layers)) return etherHeaderText(link as Extract<Layer, { layer: 'ether' }>, wire, o);
      if (type !== undefined) return `ethertype ${ethertypeName(type)} (0x${hex4(type)}), length ${wire}: `;
      return '';
    }
    default:
      return '';
  }
}
