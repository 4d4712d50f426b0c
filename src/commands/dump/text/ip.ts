// print-ip.c (tcpdump 4.99): the IPv4 header and its -v line, ip_optprint's
// options (a cut header's too), and ip_demux_print: what carries on to the
// transport printers, for IPv6 as well. Facts copied, not code.
import { formatIPv4 } from '../../../stack/packet/addr.js';
import type { Ipv4Layer, Layer } from '../../../stack/dissect/index.js';
import { icmpText } from './icmp.js';
import { icmp6Text } from './icmp6.js';
import { type TextOptions, endpoint, host, ipProto, tcpPort, udpPort } from './netdissect.js';
import { type TcpState, tcpText } from './tcp.js';
import { udpText } from './udp.js';

export const IPPROTO_NAMES: Record<number, string> = {
  0: 'Options',
  1: 'ICMP',
  2: 'IGMP',
  4: 'IPIP',
  6: 'TCP',
  17: 'UDP',
  41: 'IPv6',
  43: 'Routing',
  44: 'Fragment',
  47: 'GRE',
  50: 'ESP',
  51: 'AH',
  58: 'ICMPv6',
  59: 'none',
  60: 'DSTOPT',
  89: 'OSPF',
  103: 'PIM',
  112: 'VRRP',
  132: 'SCTP',
};

export function ip4Text(layers: Layer[], i: number, o: TextOptions, ts: TcpState): string {
  const ip = layers[i] as Ipv4Layer;
  const h = ip.header;
  let s = o.link ? '' : 'IP ';
  if (o.verbose) {
    const flags = [h.mf ? '+' : '', h.df ? 'DF' : ''].filter(Boolean).join(', ') || 'none';
    s +=
      `(tos 0x${h.tos.toString(16)}${ecn(h.tos)}, ttl ${h.ttl}, id ${h.id}, offset ${h.fragmentOffset}, flags [${flags}], ` +
      `proto ${IPPROTO_NAMES[h.protocol] ?? 'unknown'} (${h.protocol}), length ${h.totalLength}`;
    if (ip.headerCut !== undefined) {
      const cut = cutOptionsText(h.options, h.headerLength - 20, o);
      if (cut.jumped) return `${s}, options (${cut.text} [|ip]`;
      s += `, options (${cut.text})`;
      if (cut.truncated) return `${s})\n    ${host(o, h.src)} > ${host(o, h.dst)}:  [|ip]`;
    }
    s +=
      (h.options.length && ip.headerCut === undefined ? `, options (${ipOptionsText(h.options, o)})` : '') +
      `${ip.checksumOk ? '' : `, bad cksum ${h.checksum.toString(16)} (->${(ip.goodChecksum ?? 0).toString(16)})!`})\n    `;
  }
  const inner = layers[i + 1];
  if (ip.headerCut !== undefined && h.fragmentOffset === 0) {
    // print-ip.c: the addresses (not for TCP and UDP, whose printers print them), then the caplen check
    const addrs = h.protocol === 6 || h.protocol === 17 ? '' : `${host(o, h.src)} > ${host(o, h.dst)}: `;
    return `${s}${addrs} [remaining caplen(${ip.headerCut}) < header length(${h.headerLength})] [|ip]`;
  }
  if (h.fragmentOffset !== 0 || !inner) return s + `${host(o, h.src)} > ${host(o, h.dst)}: ` + ipProto(o, h.protocol);
  // print-ip.c ip_demux_print's default: a protocol it has no printer for, and the length past the header
  if (inner.layer === 'data') return s + `${host(o, h.src)} > ${host(o, h.dst)}:  ${ipProto(o, h.protocol)} ${h.totalLength - h.headerLength}`;
  return s + transportText(layers, i + 1, h.src, h.dst, o, ts);
}

// print-ip.c ip_option_values
const IPOPT_NAMES: Record<number, string> = {
  0: 'EOL',
  1: 'NOP',
  68: 'timestamp',
  130: 'security',
  131: 'LSRR',
  137: 'SSRR',
  7: 'RR',
  148: 'RA',
  82: 'traceroute',
};

/** print-ip.c ip_optprint: "NOP,RR 192.0.2.2, 0.0.0.0", "timestamp TS{TSONLY 51480272@ ^ 0@}", "RA". */
function ipOptionsText(b: Buffer, o: TextOptions): string {
  let s = '';
  for (let i = 0; i < b.length; ) {
    if (i) s += ',';
    const code = b[i]!;
    s += IPOPT_NAMES[code] ?? `unknown ${code}`;
    let len = 1;
    if (code !== 0 && code !== 1) {
      len = b[i + 1] ?? 0;
      if (len < 2) return s + ` [bad length ${len}]`;
    }
    if (len > b.length - i) return s + ` [bad length ${len}]`;
    const opt = b.subarray(i, i + len);
    if (code === 0) return s;
    if (code === 7 || code === 131 || code === 137) s += routeText(opt, o);
    else if (code === 68) s += timestampText(opt, o);
    else if (code === 148) {
      if (len < 4) s += ` [bad length ${len}]`;
      else if (opt.readUInt16BE(2)) s += ` value ${opt.readUInt16BE(2)}`;
    }
    i += len;
  }
  return s;
}

function routeText(opt: Buffer, o: TextOptions): string {
  const length = opt.length;
  if (length < 3) return ` [bad length ${length}]`;
  let s = (length + 1) & 3 ? ` [bad length ${length}]` : '';
  const ptr = opt[2]! - 1;
  if (ptr < 3 || (ptr + 1) & 3 || ptr > length + 1) s += ` [bad ptr ${opt[2]}]`;
  for (let len = 3; len + 4 <= length; len += 4) {
    s += ` ${host(o, formatIPv4(opt, len))}`;
    if (ptr > len) s += ',';
  }
  return s;
}

function timestampText(opt: Buffer, o: TextOptions): string {
  const length = opt.length;
  if (length < 4) return `[bad length ${length}]`;
  let s = ' TS{';
  const flags = opt[3]!;
  const hoplen = (flags & 0xf) !== 0 ? 8 : 4;
  if ((length - 4) & (hoplen - 1)) s += `[bad length ${length}]`;
  const ptr = opt[2]! - 1;
  let len = 0;
  if (ptr < 4 || (ptr - 4) & (hoplen - 1) || ptr > length + 1) s += `[bad ptr ${opt[2]}]`;
  const kind = ['TSONLY', 'TS+ADDR', undefined, 'PRESPEC'][flags & 0xf];
  if (!kind) s += `[bad ts type ${flags & 0xf}]`;
  else {
    s += kind;
    for (len = 4; len + hoplen <= length; len += hoplen) {
      s += `${ptr === len ? ' ^ ' : ' '}${opt.readUInt32BE(len + hoplen - 4)}@${hoplen === 8 ? host(o, formatIPv4(opt, len)) : ''}`;
    }
  }
  s += ptr === len ? ' ^ ' : '';
  return s + (flags >> 4 ? ` [${flags >> 4} hops not recorded]} ` : '}');
}

function ecn(tos: number): string {
  return ['', ',ECT(1)', ',ECT(0)', ',CE'][tos & 3]!;
}

// print-ip.c ip_option_values
const IP_OPTION_NAMES: Record<number, string> = { 0: 'EOL', 1: 'NOP', 7: 'RR', 68: 'timestamp', 130: 'security', 131: 'LSRR', 137: 'SSRR', 148: 'RA' };

/**
 * print-ip.c ip_optprint over options the capture cut (`have` of `length`
 * bytes): the whole ones as usual; at a cut option its name and
 * " [truncated-option]"; `jumped` when even its type or length byte is
 * missing (tcpdump's longjmp: the line ends at once).
 */
function cutOptionsText(have: Buffer, length: number, o: TextOptions): { text: string; truncated: boolean; jumped: boolean } {
  let text = '',
    q = 0,
    left = length;
  while (left > 0) {
    if (q > 0) text += ',';
    if (q >= have.length) return { text, truncated: false, jumped: true };
    const code = have[q]!;
    let len = 1;
    if (code > 1) {
      if (q + 1 >= have.length) return { text: text + (IP_OPTION_NAMES[code] ?? `unknown ${code}`), truncated: false, jumped: true };
      len = have[q + 1]!;
      if (len < 2 || len > left) return { text: `${text}${IP_OPTION_NAMES[code] ?? `unknown ${code}`} [bad length ${len}]`, truncated: false, jumped: false };
    }
    if (q + len > have.length) return { text: `${text}${IP_OPTION_NAMES[code] ?? `unknown ${code}`} [truncated-option]`, truncated: true, jumped: false };
    text += ipOptionsText(have.subarray(q, q + len), o);
    if (code === 0) break;
    q += len;
    left -= len;
  }
  return { text, truncated: false, jumped: false };
}

export function transportText(layers: Layer[], i: number, src: string, dst: string, o: TextOptions, ts: TcpState): string {
  const l = layers[i]!;
  switch (l.layer) {
    case 'tcp':
      return tcpText(l, layers[i + 1], src, dst, o, ts);
    case 'udp':
      return udpText(l, layers[i + 1], src, dst, o);
    case 'icmp':
      return icmpText(l, src, dst, o, ts);
    case 'icmp6':
      return icmp6Text(l, o);
    case 'data':
      return '';
    case 'truncated':
      // print-udp.c: the ports, then "[|udp]" after an empty summary
      if (l.ports && l.codec === 'udp') return `${endpoint(o, src, udpPort(o, l.ports[0]))} > ${endpoint(o, dst, udpPort(o, l.ports[1]))}:  [|udp]`;
      if (l.ports && l.codec === 'tcp') return `${endpoint(o, src, tcpPort(o, l.ports[0]))} > ${endpoint(o, dst, tcpPort(o, l.ports[1]))}:  [|tcp]`;
      if (l.codec === 'icmp6') return ' [|icmp6]';
      // print-tcp.c: without both ports, the addresses then the mark
      if (!l.ports && l.codec === 'tcp') return `${host(o, src)} > ${host(o, dst)}: [|tcp]`;
      return `${host(o, src)} > ${host(o, dst)}:  [|${l.codec}]`;
    default:
      return `${host(o, src)} > ${host(o, dst)}: `;
  }
}
