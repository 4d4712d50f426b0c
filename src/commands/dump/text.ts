// tcpdump's wording for a dissected packet (tcpdump 4.99 print-*.c): the
// one line of `tcpdump -n -r F`, its -e -q -v variants, the -x/-X/-A dumps
// and the timestamp formats. Facts copied, not code.
import { formatIPv4, formatIPv6 } from '../../stack/packet/addr.js';
import {
  AFTER_FRAGMENT,
  type ArpLayer,
  type DnsLayer,
  type NtpLayer,
  type Icmp6Layer,
  type IcmpLayer,
  type Ipv4Layer,
  type Ipv6Layer,
  type Layer,
  type TcpLayer,
  type UdpLayer,
} from '../../stack/dissect/index.js';

export interface TextOptions {
  /** -e: the link-level header */
  link: boolean;
  /** -q: less protocol information */
  quiet: boolean;
  /** -v count */
  verbose: number;
  /** -S: absolute TCP sequence numbers */
  absolute: boolean;
  /** if_indextoname(3) for LINUX_SLL2's interface index; '?' is printed without it */
  ifname?: (ifindex: number) => string | undefined;
  /** without -n: addresses and ports as names (tcpdump's addrtoname.c); numbers without it */
  names?: NameTable;
}

/** What names.ts gives the printer: every lookup is synchronous (answered from a cache). */
export interface NameTable {
  host(address: string): string;
  mac(address: string): string;
  tcpPort(port: number): string;
  udpPort(port: number): string;
  /** getprotobynumber(3): "icmp" for 1, undefined without a name */
  protocol(n: number): string | undefined;
}

const host = (o: TextOptions, a: string) => (o.names ? o.names.host(a) : a);
const macName = (o: TextOptions, a: string) => (o.names ? o.names.mac(a) : a);
const tcpPort = (o: TextOptions, p: number) => (o.names ? o.names.tcpPort(p) : String(p));
const udpPort = (o: TextOptions, p: number) => (o.names ? o.names.udpPort(p) : String(p));
// print-ip.c: what a fragment or an undecoded payload carries, by /etc/protocols name without -n
const ipProto = (o: TextOptions, n: number) => o.names?.protocol(n) ?? `ip-proto-${n}`;

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

const IPPROTO_NAMES: Record<number, string> = {
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

export function ethertypeName(t: number): string {
  return ETHERTYPE_NAMES[t] ?? 'Unknown';
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

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
    case 'arp': {
      let t = arpText(l, o);
      if (o.verbose && l.hrd === 1 && l.pro === 0x0800) t = t.replace(/^(R?ARP), /, '$1, Ethernet (len 6), IPv4 (len 4), ');
      return o.link ? t.replace(/^R?ARP, /, '') : t;
    }
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

function ip4Text(layers: Layer[], i: number, o: TextOptions, ts: TcpState): string {
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

function ip6Text(layers: Layer[], i: number, o: TextOptions, ts: TcpState): string {
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

/** "192.0.2.1.58302" (print-tcp.c tcpport_string; IPv6 the same). */
const endpoint = (o: TextOptions, addr: string, port: string) => `${host(o, addr)}.${port}`;

function transportText(layers: Layer[], i: number, src: string, dst: string, o: TextOptions, ts: TcpState): string {
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

// print-tcp.c tcp_flag_values, in its order
const TCP_FLAGS: [number, string][] = [
  [0x01, 'F'],
  [0x02, 'S'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x10, '.'],
  [0x20, 'U'],
  [0x40, 'E'],
  [0x80, 'W'],
];

// the text of every flags byte, made once
const FLAG_TEXT = Array.from({ length: 256 }, (_, bits) => TCP_FLAGS.map(([b, c]) => (bits & b ? c : '')).join('') || 'none');

export function tcpFlagText(f: TcpLayer['segment']['flags']): string {
  const bits =
    (f.fin ? 1 : 0) | (f.syn ? 2 : 0) | (f.rst ? 4 : 0) | (f.psh ? 8 : 0) | (f.ack ? 0x10 : 0) | (f.urg ? 0x20 : 0) | (f.ece ? 0x40 : 0) | (f.cwr ? 0x80 : 0);
  return FLAG_TEXT[bits]!;
}

/** The options as print-tcp.c lists them, comma-separated. */
function tcpOptionsText(options: TcpLayer['segment']['options'], sackBase: number): string {
  let s = '';
  for (let i = 0; i < options.length; i++) s += (i ? ',' : '') + tcpOptionText(options[i]!, sackBase);
  return s;
}

/** A conversation's base sequence numbers (print-tcp.c struct tcp_seq_hash: tcp_seq, tcp_ack). */
interface SeqBase {
  seq: number;
  ack: number;
}

/**
 * tcpdump's per-conversation initial sequence numbers (print-tcp.c
 * tcp_seq_hash), keyed as its hash is: the lower endpoint first. Maps by
 * address, then address, then the two ports as one number: the address
 * strings are the formatter's cached ones, so no key is built per packet.
 */
export class TcpState {
  private readonly seqs = new Map<string, Map<string, Map<number, SeqBase>>>();
  private journal: { a: string; b: string; ports: number; was: SeqBase | undefined }[] | null = null;
  /** what relative() found: seq and ack as printed, and the base of SACK block edges */
  seq = 0;
  ack = 0;
  sack = 0;

  /** Note what the next packets change, so that undo() can take it back (a line printed twice). */
  mark(): void {
    this.journal = [];
  }

  /** Take back what changed since mark(). */
  undo(): void {
    for (const { a, b, ports, was } of (this.journal ?? []).reverse()) {
      const m = this.seqs.get(a)!.get(b)!;
      if (was) m.set(ports, was);
      else m.delete(ports);
    }
    this.journal = null;
  }

  /**
   * seq and ack as printed (this.seq, this.ack): relative to the conversation's first ACK-bearing segment unless -S;
   * this.sack is what SACK block edges are taken from (the base of ack, as print-tcp.c's thseq/thack).
   */
  relative(src: string, dst: string, sport: number, dport: number, seq: number, ack: number, syn: boolean): void {
    let rev = sport > dport;
    if (sport === dport) rev = compareAddress(src, dst) > 0;
    const a = rev ? dst : src,
      b = rev ? src : dst,
      ports = rev ? dport * 0x10000 + sport : sport * 0x10000 + dport;
    let byA = this.seqs.get(a);
    if (!byA) this.seqs.set(a, (byA = new Map()));
    let byB = byA.get(b);
    if (!byB) byA.set(b, (byB = new Map()));
    let th = byB.get(ports);
    if (!th || syn) {
      this.journal?.push({ a, b, ports, was: th });
      th = rev ? { ack: seq, seq: (ack - 1) >>> 0 } : { seq, ack: (ack - 1) >>> 0 };
      byB.set(ports, th);
      this.seq = seq;
      this.ack = ack;
      this.sack = rev ? th.seq : th.ack;
      return;
    }
    this.seq = (seq - (rev ? th.ack : th.seq)) >>> 0;
    this.ack = (ack - (rev ? th.seq : th.ack)) >>> 0;
    this.sack = rev ? th.seq : th.ack;
  }
}

/** memcmp of two addresses in network order. */
function compareAddress(a: string, b: string): number {
  const pa = a.includes(':')
    ? a
    : a
        .split('.')
        .map((x) => x.padStart(3, '0'))
        .join('.');
  const pb = b.includes(':')
    ? b
    : b
        .split('.')
        .map((x) => x.padStart(3, '0'))
        .join('.');
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/** A quoted transport header: a whole one, or the ports of one the capture (or the quote) cut. */
function quotedTransport(t: Layer | undefined): { layer: 'udp'; dstPort: number } | { layer: 'tcp'; segment: { dstPort: number } } | undefined {
  if (t?.layer === 'udp' || t?.layer === 'tcp') return t;
  if (t?.layer !== 'truncated' || !t.ports) return undefined;
  if (t.codec === 'udp') return { layer: 'udp', dstPort: t.ports[1] };
  if (t.codec === 'tcp') return { layer: 'tcp', segment: { dstPort: t.ports[1] } };
  return undefined;
}

function tcpText(t: TcpLayer, next: Layer | undefined, src: string, dst: string, o: TextOptions, ts: TcpState): string {
  const g = t.segment;
  let s = `${endpoint(o, src, tcpPort(o, g.srcPort))} > ${endpoint(o, dst, tcpPort(o, g.dstPort))}: `;
  if (o.quiet) return s + `tcp ${t.length}`;
  s += `Flags [${tcpFlagText(g.flags)}]`;
  if (o.verbose && t.sum) s += `, cksum 0x${hex4(t.sum.value)} ${t.sum.value === t.sum.good ? '(correct)' : `(incorrect -> 0x${hex4(t.sum.good)})`}`;
  let seq = g.seq,
    ack = g.ack,
    sack = 0;
  if (!o.absolute && g.flags.ack) {
    ts.relative(src, dst, g.srcPort, g.dstPort, g.seq, g.ack, g.flags.syn);
    seq = ts.seq;
    ack = ts.ack;
    sack = ts.sack;
  }
  const length = t.length;
  if (o.verbose > 1 || length > 0 || g.flags.syn || g.flags.fin || g.flags.rst) {
    s += `, seq ${seq}`;
    if (length > 0) s += `:${(seq + length) >>> 0}`;
  }
  if (g.flags.ack) s += `, ack ${ack}`;
  s += `, win ${g.window}`;
  if (g.flags.urg) s += `, urg ${g.urgent}`;
  if (t.optionsCut) {
    // print-tcp.c: the options read so far, the cut one's name, then the mark
    const sep = g.options.length ? ',' : '';
    return `${s}, options [${tcpOptionsText(g.options, sack)}${sep}${t.optionsCut.name} [|tcp]${t.optionsCut.mark ? '>' : ''}`;
  }
  if (g.options.length) s += `, options [${tcpOptionsText(g.options, sack)}]`;
  s += `, length ${length}`;
  if (next?.layer === 'dns') s += dnsText(next, o);
  return s;
}

function tcpOptionText(x: TcpLayer['segment']['options'][number], sackBase: number): string {
  switch (x.kind) {
    case 'eol':
      return 'eol';
    case 'nop':
      return 'nop';
    case 'mss':
      return `mss ${x.value}`;
    case 'windowScale':
      return `wscale ${x.shift}`;
    case 'sackPermitted':
      return 'sackOK';
    case 'sack':
      return `sack ${x.blocks.length} ${x.blocks.map(([a, b]) => `{${(a - sackBase) >>> 0}:${(b - sackBase) >>> 0}}`).join('')}`;
    case 'timestamps':
      return `TS val ${x.value} ecr ${x.echo}`;
    case 'unknown':
      return `unknown-${x.type} 0x${x.data.toString('hex')}`;
  }
}

function udpText(u: UdpLayer, next: Layer | undefined, src: string, dst: string, o: TextOptions): string {
  let s = `${endpoint(o, src, udpPort(o, u.srcPort))} > ${endpoint(o, dst, udpPort(o, u.dstPort))}: `;
  // print-udp.c: IPv6's mandatory checksum at -v, IPv4's only at -vv
  if (u.sum && (o.verbose > 1 || (o.verbose && src.includes(':')))) {
    if (u.checksum === 0 && !src.includes(':')) s += '[no cksum] ';
    else s += u.sum.value === u.sum.good ? '[udp sum ok] ' : `[bad udp cksum 0x${hex4(u.sum.value)} -> 0x${hex4(u.sum.good)}!] `;
  }
  if (o.quiet) return s + `UDP, length ${u.length}`;
  if (next?.layer === 'dns') return s + dnsText(next, o).slice(1);
  if (next?.layer === 'truncated' && next.codec === 'ntp') return `${s} [|ntp]`;
  if (next?.layer === 'ntp') return s + `NTPv${next.version}, ${NTP_MODES[next.mode]}, length ${next.length}` + (o.verbose ? ntpVerbose(next) : '');
  return s + `UDP, length ${u.length}`;
}

/** print-ntp.c ntp_time_print at -v: leap, stratum, poll, precision, delays, reference and the four timestamps. */
function ntpVerbose(n: NtpLayer): string {
  const b = n.header;
  let s = '';
  // print-ntp.c prints field by field: a capture cut inside the header ends at the first field it lacks
  const need = (k: number) => {
    if (b.length < k) throw NTP_CUT;
  };
  try {
    s = ntpFields(n, b, need);
  } catch (e) {
    if (e !== NTP_CUT) throw e;
    return ntpPartial + ' [|ntp]';
  }
  return s;
}

const NTP_CUT = new Error('cut');
let ntpPartial = '';

function ntpFields(n: NtpLayer, b: Buffer, need: (k: number) => void): string {
  const leap = b[0]! & 0xc0;
  let s = `\n\tLeap indicator: ${['', '+1s', '-1s', 'clock unsynchronized'][leap >> 6]} (${leap})`;
  const add = (k: number, t: () => string) => {
    ntpPartial = s;
    need(k);
    s += t();
  };
  if (n.mode === 0 || n.mode > 5) return s;
  const stratum = b[1] ?? 0;
  add(
    2,
    () => `, Stratum ${stratum} (${stratum === 0 ? 'unspecified' : stratum === 1 ? 'primary reference' : stratum <= 15 ? 'secondary reference' : 'reserved'})`,
  );
  add(3, () => {
    const poll = b.readInt8(2);
    return `, poll ${poll}${poll <= -32 || poll >= 32 ? '' : poll >= 0 ? ` (${2 ** poll}s)` : ` (1/${2 ** -poll}s)`}`;
  });
  add(4, () => `, precision ${b.readInt8(3)}`);
  const sfix = (at: number) => `${b.readUInt16BE(at)}.${String(Math.trunc((b.readUInt16BE(at + 2) / 65536) * 1000000)).padStart(6, '0')}`;
  add(8, () => `\n\tRoot Delay: ${sfix(4)}`);
  add(12, () => `, Root dispersion: ${sfix(8)}`);
  add(16, () => {
    if (stratum === 0) return ', Reference-ID: (unspec)';
    if (stratum === 1)
      return `, Reference-ID: ${[...b.subarray(12, 16)].map((c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : c ? `\\${c.toString(8).padStart(3, '0')}` : '')).join('')}`;
    return `, Reference-ID: 0x${b.readUInt32BE(12).toString(16).padStart(8, '0')}`;
  });
  add(24, () => `\n\t  Reference Timestamp:  ${ntpTime(b, 16)}`);
  add(32, () => `\n\t  Originator Timestamp: ${ntpTime(b, 24)}`);
  add(40, () => `\n\t  Receive Timestamp:    ${ntpTime(b, 32)}`);
  add(48, () => `\n\t  Transmit Timestamp:   ${ntpTime(b, 40)}`);
  s += `\n\t    Originator - Receive Timestamp:  ${ntpDelta(b, 24, 32)}\n\t    Originator - Transmit Timestamp: ${ntpDelta(b, 24, 40)}`;
  const extra = n.length - 48;
  if ((extra === 4 || extra === 20 || extra === 24) && b.length >= n.length) {
    s += `\n\tKey id: ${b.readUInt32BE(48)}`;
    if (extra > 4) s += `\n\tAuthentication: ${b.toString('hex', 52, n.length)}`;
  } else if (extra > 0) s += `\n\t(${extra} more bytes after the header)`;
  return s;
}

const ntpFraction = (f: number) => String(Math.trunc((f / 4294967296) * 1000000000)).padStart(9, '0');

/** p_ntp_time: "4005209883.704999923 (2026-12-02T14:18:03Z)". */
function ntpTime(b: Buffer, at: number): string {
  const i = b.readUInt32BE(at);
  let s = `${i}.${ntpFraction(b.readUInt32BE(at + 4))}`;
  if (i) s += ` (${new Date((i - 2208988800) * 1000).toISOString().replace(/\.\d+Z$/, 'Z')})`;
  return s;
}

/** p_ntp_delta: the second timestamp less the first, signed; the second itself when the first is zero. */
function ntpDelta(b: Buffer, from: number, to: number): string {
  const ou = b.readUInt32BE(from),
    ouf = b.readUInt32BE(from + 4),
    u = b.readUInt32BE(to),
    uf = b.readUInt32BE(to + 4);
  if (ou === 0 && ouf === 0) return ntpTime(b, to);
  let neg: boolean, i: number, f: number;
  if (u > ou) {
    neg = false;
    i = u - ou - (ouf > uf ? 1 : 0);
    f = (uf - ouf) >>> 0;
  } else if (u < ou) {
    neg = true;
    i = ou - u - (uf > ouf ? 1 : 0);
    f = (ouf - uf) >>> 0;
  } else {
    i = 0;
    neg = !(uf > ouf);
    f = neg ? ouf - uf : uf - ouf;
  }
  return `${neg ? '-' : '+'}${i}.${ntpFraction(f)}`;
}

const NTP_MODES = ['Reserved', 'Symmetric Active', 'Symmetric Passive', 'Client', 'Server', 'Broadcast', 'Control Message', 'Reserved'];

const DNS_TYPES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  13: 'HINFO',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  35: 'NAPTR',
  41: 'OPT',
  43: 'DS',
  46: 'RRSIG',
  47: 'NSEC',
  48: 'DNSKEY',
  64: 'SVCB',
  65: 'HTTPS',
  255: 'ANY',
  257: 'CAA',
};
const DNS_RCODES = ['', ' FormErr', ' ServFail', ' NXDomain', ' NotImp', ' Refused', ' YXDomain', ' YXRRSet', ' NXRRSet', ' NotAuth', ' NotZone'];
const DNS_OPS = [
  '',
  ' inv_q',
  ' stat',
  ' op3',
  ' notify',
  ' update',
  ' op6',
  ' op7',
  ' op8',
  ' updateA',
  ' updateD',
  ' updateDA',
  ' updateM',
  ' updateMA',
  ' zoneInit',
  ' zoneRef',
];

const dnsType = (t: number) => DNS_TYPES[t] ?? `Type${t}`;

/** print-domain.c ns_print, non-verbose: " 1234+ A? example.com. (29)". */
function dnsText(d: DnsLayer, _o: TextOptions): string {
  let s = ' ';
  // print-domain.c: a cut header prints nothing of it; any cut ends the line at " [|domain]", no length
  if (d.short) return `  [|domain]`;
  if (d.qr) {
    s += `${d.id}${DNS_OPS[d.opcode]}${DNS_RCODES[d.rcode] ?? ` Resp${d.rcode}`}${d.aa ? '*' : ''}${d.ra ? '' : '-'}${d.tc ? '|' : ''}`;
    if (d.qdcount !== 1) s += ` [${d.qdcount}q]`;
    if (!d.questionsRead) return `${s} [|domain]`;
    // -vv: the question section of a response too
    if (_o.verbose > 1) s += d.questions.map((q) => ` q: ${dnsType(q.type)}${q.class !== 1 ? ` ${q.class}` : ''}? ${q.name}`).join(',');
    s += ` ${d.ancount}/${d.nscount}/${d.arcount}`;
    s += d.answers
      .map((a) =>
        a.cut && a.type === 0
          ? ''
          : ` ${_o.verbose ? `${a.name} ${_o.verbose > 2 ? `[${relativeTime(a.ttl)}] ` : ''}` : ''}${a.class !== 1 ? `${a.class} ` : ''}${dnsType(a.type)}${a.data ? ` ${a.data}` : ''}`,
      )
      .join(',');
    if (d.truncated) return `${s} [|domain]`;
  } else {
    s += `${d.id}${DNS_OPS[d.opcode]}${d.rd ? '+' : ''}${d.cd ? '%' : ''}`;
    if (d.ancount) s += ` [${d.ancount}a]`;
    if (d.nscount) s += ` [${d.nscount}n]`;
    if (d.arcount) s += ` [${d.arcount}au]`;
    if (d.qdcount !== 1) s += ` [${d.qdcount}q]`;
    const q = d.questions[0];
    if (q) s += ` ${dnsType(q.type)}${q.class !== 1 ? ` ${q.class}` : ''}? ${q.name}`;
    else if (d.qdcount) return `${s} [|domain]`;
  }
  return s + ` (${d.length})`;
}

// print-domain.c unsigned_relts_print: 3725 -> "1h2m5s"
const RELTS: [number, string][] = [
  [31536000, 'y'],
  [604800, 'w'],
  [86400, 'd'],
  [3600, 'h'],
  [60, 'm'],
  [1, 's'],
];
function relativeTime(secs: number): string {
  if (secs === 0) return '0s';
  let s = '';
  for (const [unit, name] of RELTS) {
    if (secs >= unit) {
      s += `${Math.floor(secs / unit)}${name}`;
      secs %= unit;
    }
  }
  return s;
}

function arpText(a: ArpLayer, o: TextOptions): string {
  if (a.pro !== 0x0800) return `ARP, ${arpOp(a.op)}, length ${a.length}`;
  switch (a.op) {
    case 1:
      return `ARP, Request who-has ${host(o, a.tpa)}${a.tha !== '00:00:00:00:00:00' ? ` (${macName(o, a.tha)})` : ''} tell ${host(o, a.spa)}, length ${a.length}`;
    case 2:
      return `ARP, Reply ${host(o, a.spa)} is-at ${macName(o, a.sha)}, length ${a.length}`;
    case 3:
      return `RARP, Request who-is ${macName(o, a.tha)} tell ${macName(o, a.sha)}, length ${a.length}`;
    case 4:
      return `RARP, Reply ${macName(o, a.tha)} at ${host(o, a.tpa)}, length ${a.length}`;
    default:
      return `ARP, ${arpOp(a.op)}, length ${a.length}`;
  }
}

const arpOp = (op: number) => ['', 'Request', 'Reply', 'Reverse Request', 'Reverse Reply'][op] ?? `Unknown (${op})`;

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

function icmpText(c: IcmpLayer, src: string, dst: string, o: TextOptions, ts: TcpState): string {
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

const UNREACH6: Record<number, string> = {
  0: 'unreachable route',
  1: 'unreachable prohibited',
  2: 'beyond scope',
  3: 'unreachable address',
  4: 'unreachable port',
  5: 'unreachable policy',
  6: 'unreachable reject route',
};

// print-icmp6.c icmp6_opt_values
const ND_OPTIONS: Record<number, string> = {
  1: 'source link-address',
  2: 'destination link-address',
  3: 'prefix info',
  4: 'redirected header',
  5: 'mtu',
  7: 'advertisement interval',
  8: 'homeagent information',
  24: 'route info',
  25: 'rdnss',
  31: 'dnssl',
};
const bitNames = (v: number, names: [number, string][]) =>
  names
    .filter(([b]) => v & b)
    .map(([, n]) => n)
    .join(', ') || 'none';
const RA_FLAGS: [number, string][] = [
  [0x80, 'managed'],
  [0x40, 'other stateful'],
  [0x20, 'home agent'],
  [0x02, 'ipv6 only'],
];
const PI_FLAGS: [number, string][] = [
  [0x80, 'onlink'],
  [0x40, 'auto'],
  [0x20, 'router'],
];
const lifetime = (v: number) => (v === 0xffffffff ? 'infinity' : `${v}s`);

/** icmp6_opt_print: one line per option, what it holds, at -vv its bytes. */
function ndOptionText(x: NonNullable<Icmp6Layer['ndOptions']>[number], o: TextOptions): string {
  let s = `\n\t  ${ND_OPTIONS[x.type] ?? 'unknown'} option (${x.type}), length ${x.length} (${x.length / 8}): `;
  const b = Buffer.from(x.data, 'hex');
  if ((x.type === 1 || x.type === 2) && b.length) s += [...b].map((v) => hex2(v)).join(':');
  else if (x.type === 3 && b.length >= 30)
    s +=
      `${host(o, formatIPv6(b, 14))}/${b[0]}${x.length !== 32 ? 'badlen' : ''}, Flags [${bitNames(b[1]!, PI_FLAGS)}], ` +
      `valid time ${lifetime(b.readUInt32BE(2))}, pref. time ${lifetime(b.readUInt32BE(6))}`;
  else if (x.type === 5 && b.length >= 6) s += ` ${b.readUInt32BE(2)}${x.length !== 8 ? 'bad option length' : ''}`;
  if (o.verbose > 1 && b.length) s += hexText(b).replace(/\n\t/g, '\n\t    ');
  return s;
}
const MLD_RECORDS = ['', 'is_in', 'is_ex', 'to_in', 'to_ex', 'allow', 'block'];

/** print-icmp6.c at -v: the checksum verdict first, lengths moved, ND options and MLDv2 records spelled out. */
function icmp6Verbose(c: Icmp6Layer, o: TextOptions): string {
  const sum = c.sum ? (c.sum.value === c.sum.good ? '[icmp6 sum ok] ' : `[bad icmp6 cksum 0x${hex4(c.sum.value)} -> 0x${hex4(c.sum.good)}!] `) : '';
  const opts = (c.ndOptions ?? []).map((x) => ndOptionText(x, o)).join('');
  switch (c.type) {
    case 128:
    case 129:
      return `${sum}ICMP6, echo ${c.type === 128 ? 'request' : 'reply'}, id ${c.id}, seq ${c.seq}`;
    case 133:
      return `${sum}ICMP6, router solicitation, length ${c.length}${opts}`;
    case 134: {
      const r = c.ra;
      if (!r) return `${sum}ICMP6, router advertisement, length ${c.length}`;
      return (
        `${sum}ICMP6, router advertisement, length ${c.length}\n\thop limit ${r.hopLimit}, Flags [${bitNames(r.flags, RA_FLAGS)}], ` +
        `pref ${['medium', 'high', 'rsv', 'low'][(r.flags >> 3) & 3]}, router lifetime ${r.lifetime}s, reachable time ${r.reachable}ms, retrans timer ${r.retrans}ms${opts}`
      );
    }
    case 135:
      return `${sum}ICMP6, neighbor solicitation, length ${c.length}, who has ${host(o, c.target!)}${opts}`;
    case 136: {
      const f = c.naFlags!;
      const flags = [f.router ? 'router' : '', f.solicited ? 'solicited' : '', f.override ? 'override' : ''].filter(Boolean).join(', ') || 'none';
      return `${sum}ICMP6, neighbor advertisement, length ${c.length}, tgt is ${host(o, c.target!)}, Flags [${flags}]${opts}`;
    }
    case 143:
      return (
        `${sum}ICMP6, multicast listener report v2, ${c.records} group record(s)` +
        (c.groups ?? [])
          .map(
            (g) =>
              ` [gaddr ${host(o, g.group)} ${MLD_RECORDS[g.type] ?? `type-#${g.type}`}` +
              (o.verbose > 1 ? ` {${g.addresses.map((a) => ` ${host(o, a)}`).join('')} }]` : `, ${g.sources} source(s)]`),
          )
          .join('')
      );
    case 1:
    case 3:
      return sum + icmp6Text(c, { ...o, verbose: 0 }).replace(/, length \d+$/, '');
    default:
      return sum + icmp6Text(c, { ...o, verbose: 0 });
  }
}

function icmp6Text(c: Icmp6Layer, o: TextOptions): string {
  if (o.verbose && !c.short) return icmp6Verbose(c, o);
  let s = 'ICMP6, ';
  const q = c.quote;
  const qip = q?.[0]?.layer === 'ipv6' ? q[0] : undefined;
  switch (c.type) {
    case 128:
      s += `echo request, id ${c.id}, seq ${c.seq}`;
      break;
    case 129:
      s += `echo reply, id ${c.id}, seq ${c.seq}`;
      break;
    case 133:
      s += 'router solicitation';
      break;
    case 134:
      s += 'router advertisement';
      break;
    case 135:
      s += `neighbor solicitation, who has ${host(o, c.target!)}`;
      break;
    case 136:
      s += `neighbor advertisement, tgt is ${host(o, c.target!)}`;
      break;
    case 137:
      s += `redirect, ${host(o, c.target!)}`;
      break;
    case 130:
      s += `multicast listener query`;
      break;
    case 131:
      s += `multicast listener report max resp delay: ${c.maxDelay} addr: ${host(o, c.target!)}`;
      break;
    case 132:
      s += `multicast listener done max resp delay: ${c.maxDelay} addr: ${host(o, c.target!)}`;
      break;
    case 143:
      s += `multicast listener report v2, ${c.records} group record(s)`;
      break;
    case 1: {
      s += `destination unreachable, ${UNREACH6[c.code] ?? `unknown unreach code (${c.code})`}`;
      const t = quotedTransport(q?.[1]);
      if (c.code === 4 && qip) {
        const to = host(o, qip.header.dst);
        if (t?.layer === 'udp') s += `, ${to} udp port ${udpPort(o, t.dstPort)}`;
        else if (t?.layer === 'tcp') s += `, ${to} tcp port ${tcpPort(o, t.segment.dstPort)}`;
        else s += `, ${to}`;
      } else if (qip) s += ` ${host(o, qip.header.dst)}`;
      break;
    }
    case 2:
      s += `packet too big, mtu ${c.mtu}`;
      break;
    case 3:
      s +=
        c.code === 0
          ? `time exceeded in-transit${qip ? ` for ${host(o, qip.header.dst)}` : ''}`
          : c.code === 1
            ? 'ip6 reassembly time exceeded'
            : `time exceeded, unknown code (${c.code})`;
      break;
    case 4:
      s += `parameter problem, ${['erroneous - octet', 'next header - octet', 'option - octet'][c.code] ?? 'code-#'} ${c.pointer}`;
      break;
    default:
      s += `type-#${c.type}`;
  }
  if (c.typeOnly) return `${s.split(', ').slice(0, 2).join(', ')} [|icmp6]`;
  // print-icmp6.c reads nothing past the code of a router solicitation or advertisement without -v
  if (c.short && (c.type === 133 || c.type === 134) && !o.verbose) return `${s}, length ${c.length}`;
  // a port unreachable whose quoted ports the capture cut prints no address
  if (c.short && c.type === 1 && c.code === 4) return `${s.slice(0, s.indexOf('unreachable port') + 'unreachable port'.length)} [|icmp6]`;
  if (c.short) return s.replace(/, (who has|tgt is|id|\S+ group|[0-9a-f:]+ udp port|[0-9a-f:]+ tcp port|max resp).*$/, '').replace(/ for $/, '') + ' [|icmp6]';
  return s + `, length ${c.length}`;
}

// ---------- the dumps (print-ascii.c) ----------

const graph = (c: number) => c > 0x20 && c < 0x7f;

/** -x: "\n\t0x0000:  4500 0054 ..." lines of 16 bytes. */
export function hexText(b: Buffer): string {
  let s = '';
  for (let off = 0; off < b.length; off += 16) {
    s += `\n\t0x${hex4(off)}: `;
    const end = Math.min(b.length, off + 16);
    for (let i = off; i < end; i += 2) s += i + 1 < end ? ` ${hex2(b[i]!)}${hex2(b[i + 1]!)}` : ` ${hex2(b[i]!)}`;
  }
  return s;
}

/** -X: hex and ASCII side by side. */
export function hexAsciiText(b: Buffer): string {
  let s = '';
  for (let off = 0; off < b.length; off += 16) {
    const end = Math.min(b.length, off + 16);
    let h = '',
      a = '';
    for (let i = off; i < end; i += 2) {
      h += i + 1 < end ? ` ${hex2(b[i]!)}${hex2(b[i + 1]!)}` : ` ${hex2(b[i]!)}`;
      a += graph(b[i]!) ? String.fromCharCode(b[i]!) : '.';
      if (i + 1 < end) a += graph(b[i + 1]!) ? String.fromCharCode(b[i + 1]!) : '.';
    }
    s += `\n\t0x${hex4(off)}: ${h.padEnd(40)}  ${a}`;
  }
  return s;
}

/** -A: the bytes as ASCII, CR before LF dropped. */
export function asciiText(b: Buffer): string {
  let s = '\n';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 13) {
      // print-ascii.c: a CR is a dot only with two more bytes after it, the next not a LF
      if (b.length - (i + 1) > 1 && b[i + 1] !== 10) s += '.';
    } else s += graph(c) || c === 9 || c === 32 || c === 10 ? String.fromCharCode(c) : '.';
  }
  return s;
}

const hex2 = (n: number) => (n < 16 ? '0' : '') + n.toString(16);

// ---------- timestamps (print.c ts_print) ----------

export type TimeFormat = 'default' | 'none' | 'unix' | 'delta' | 'date' | 'since-first';

const two = (n: number) => (n < 10 ? '0' : '') + n;

// the zeros before a fraction's digits (no padStart per packet); none for a fraction out of range
const ZEROS = ['000000000', '00000000', '0000000', '000000', '00000', '0000', '000', '00', '0', ''];

function fraction(nsec: number, nano: boolean): string {
  const s = String(nano ? nsec : Math.floor(nsec / 1000));
  return (ZEROS[s.length + (nano ? 0 : 3)] ?? '') + s;
}

export class Clock {
  // the date part changes once a second: kept between packets
  private lastSec = -1;
  private lastText = '';
  private first: [number, number] | undefined;
  private prev: [number, number] | undefined;
  constructor(
    private readonly format: TimeFormat,
    private readonly nano: boolean,
  ) {}

  /** The timestamp and its trailing space ('' for -t). */
  text(sec: number, nsec: number): string {
    switch (this.format) {
      case 'none':
        return '';
      case 'unix':
        return `${sec}.${fraction(nsec, this.nano)} `;
      case 'default':
      case 'date': {
        if (sec !== this.lastSec) {
          const d = new Date(sec * 1000);
          const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.`;
          this.lastText = this.format === 'date' ? `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${time}` : time;
          this.lastSec = sec;
        }
        return `${this.lastText}${fraction(nsec, this.nano)} `;
      }
      case 'delta':
      case 'since-first': {
        const ref = this.format === 'delta' ? this.prev : this.first;
        this.first ??= [sec, nsec];
        this.prev = [sec, nsec];
        return deltaText(ref ? [sec, nsec] : [0, 0], ref ?? [0, 0], this.nano) + ' ';
      }
    }
  }
}

function deltaText([s, n]: [number, number], [s0, n0]: [number, number], nano: boolean): string {
  // the difference in the printed unit; negative when a later packet carries an earlier time
  const unit = nano ? 1e9 : 1e6;
  const frac = (x: number) => (nano ? x : Math.floor(x / 1000));
  let d = (s - s0) * unit + (frac(n) - frac(n0));
  const neg = d < 0;
  if (neg) d = -d;
  const ds = Math.floor(d / unit);
  const f = String(d - ds * unit).padStart(nano ? 9 : 6, '0');
  return `${neg ? '-' : ' '}${two(Math.floor(ds / 3600))}:${two(Math.floor(ds / 60) % 60)}:${two(ds % 60)}.${f}`;
}
