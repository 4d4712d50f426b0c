// print-ip6.c (tcpdump 4.99): the IPv6 header, its -v line and the extension
// headers it names (HBH with print-ip6opts.c's options, DSTOPT, srcrt, frag).
// Facts copied, not code.
import { AFTER_FRAGMENT, type Ipv6Layer, type Layer } from '../../../stack/dissect/index.js';
import { IPPROTO_NAMES, transportText } from './ip.js';
import { type TextOptions, hex4, host, ipProto } from './netdissect.js';
import type { TcpState } from './tcp.js';

export function ip6Text(layers: Layer[], i: number, o: TextOptions, ts: TcpState): string {
  const ip = layers[i] as Ipv6Layer;
  const h = ip.header;
  let s = o.link ? '' : 'IP6 ';
  if (o.verbose) {
    s += '(';
    if (h.trafficClass) s += `class 0x${h.trafficClass.toString(16)}, `;
    if (h.flowLabel) s += `flowlabel 0x${h.flowLabel.toString(16).padStart(5, '0')}, `;
    s += `hlim ${h.hopLimit}, next-header ${IPPROTO_NAMES[h.nextHeader] ?? 'unknown'} (${h.nextHeader}) payload length: ${h.payloadLength}) `;
  }
  // ip6_print: the addresses here unless the first header is TCP/UDP/DCCP/SCTP, whose line names the ports
  if (![6, 17, 33, 132].includes(h.nextHeader)) s += `${host(o, h.src)} > ${host(o, h.dst)}: `;
  for (const e of ip.extensions) {
    if (e.type === 0) s += o.verbose ? `HBH ${hopOptionsText(ip)}` : 'HBH ';
    else if (e.type === 60) s += 'DSTOPT ';
    else if (e.type === 43) s += 'srcrt ';
    else if (e.type === 44 && ip.fragment) {
      s += `frag (${o.verbose ? `0x${ip.fragment.id.toString(16).padStart(8, '0')}:` : ''}${ip.fragment.offset}|${ip.fragmentLength})`;
      if (ip.fragment.offset !== 0) return s;
      s += ' ';
      const next = layers[i + 1];
      if (next?.layer === 'truncated' && next.error === AFTER_FRAGMENT) return s;
    }
  }
  const inner = layers[i + 1];
  if (!inner || inner.layer === 'data') return s + `${ipProto(o, ip.protocol)} ${inner?.layer === 'data' ? inner.length : 0}`;
  return s + transportText(layers, i + 1, h.src, h.dst, o, ts);
}

/** print-ip6opts.c: "(rtalert: 0x0000) (padn) " */
function hopOptionsText(ip: Ipv6Layer): string {
  let s = '';
  for (const x of ip.hopOptions ?? []) {
    if (x.type === 0) s += '(pad1)';
    else if (x.type === 1) s += '(padn)';
    else if (x.type === 5 && x.value.length === 2) s += `(rtalert: 0x${hex4(x.value.readUInt16BE(0))})`;
    else if (x.type === 0xc2 && x.value.length === 4) s += `(jumbo: ${x.value.readUInt32BE(0)})`;
    else s += `(opt_type 0x${x.type.toString(16).padStart(2, '0')}: len=${x.value.length})`;
    s += ' ';
  }
  return s;
}
