// Dissectors in a registry: link type -> ethertype -> IP protocol -> port.
// Each step reads one header with the codecs of src/stack/packet and hands
// the rest on; decoding never throws (a short or bad header becomes a
// `truncated` layer and the walk stops there).
import * as ipv4 from '../packet/ipv4.js';
import * as ipv6 from '../packet/ipv6.js';
import * as tcp from '../packet/tcp.js';
import * as udp from '../packet/udp.js';
import * as ntp from '../packet/ntp.js';
import { formatIPv4, formatIPv6 } from '../packet/addr.js';
import { fold, sum16 } from '../packet/checksum.js';
import * as lt from '../capture/linktype.js';
import { decodeDns } from './dns.js';
import { AFTER_FRAGMENT, type Dissection, type Icmp6Layer, type IcmpLayer, type Layer } from './layers.js';

export * from './layers.js';

export const ETHERTYPE_IP = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_REVARP = 0x8035;
export const ETHERTYPE_8021Q = 0x8100;
export const ETHERTYPE_8021AD = 0x88a8;
export const ETHERTYPE_QINQ = 0x9100;
export const ETHERTYPE_IPV6 = 0x86dd;

export const IPPROTO_ICMP = 1,
  IPPROTO_TCP = 6,
  IPPROTO_UDP = 17,
  IPPROTO_ICMPV6 = 58;

type Next = (buf: Buffer, p: number, layers: Layer[], wire: number) => void;

// formatted MAC addresses, direct-mapped by their last bytes: a file holds few
const macKey = new Float64Array(64).fill(-1);
const macText: string[] = new Array<string>(64).fill('');

export function mac(b: Buffer, o: number): string {
  const hi = (b[o]! << 8) | b[o + 1]!,
    lo = ((b[o + 2]! << 24) | (b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!) >>> 0;
  const v = hi * 4294967296 + lo;
  const slot = (lo ^ (lo >>> 11) ^ hi) & 63;
  if (macKey[slot] === v) return macText[slot]!;
  macKey[slot] = v;
  return (macText[slot] = macString(b, o));
}

function macString(b: Buffer, o: number): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + (b[o + i]! < 16 ? '0' : '') + b[o + i]!.toString(16);
  return s;
}

function hexAddress(b: Buffer, o: number, n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(b[o + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

const cut = (layers: Layer[], codec: string, error: string): void => {
  layers.push({ layer: 'truncated', codec, error });
};

/** link type -> how long its header is and what follows (registry 1). */
const LINK: Record<number, (buf: Buffer, layers: Layer[], wire: number) => number> = {
  [lt.LINKTYPE_ETHERNET]: ether,
  [lt.LINKTYPE_RAW]: (buf, layers, wire) => {
    ipAny(buf, 0, layers, wire);
    return 0;
  },
  [lt.LINKTYPE_IPV4]: (buf, layers, wire) => {
    ip4(buf, 0, layers, wire);
    return 0;
  },
  [lt.LINKTYPE_IPV6]: (buf, layers, wire) => {
    ip6(buf, 0, layers, wire);
    return 0;
  },
  [lt.LINKTYPE_NULL]: (buf, layers, wire) => loopback(buf, layers, wire, true),
  [lt.LINKTYPE_LOOP]: (buf, layers, wire) => loopback(buf, layers, wire, false),
  [lt.LINKTYPE_LINUX_SLL]: sll,
  [lt.LINKTYPE_LINUX_SLL2]: sll2,
};

/** ethertype -> dissector (registry 2). */
const ETHERTYPES: Record<number, Next> = {
  [ETHERTYPE_IP]: ip4,
  [ETHERTYPE_IPV6]: ip6,
  [ETHERTYPE_ARP]: arp,
  [ETHERTYPE_REVARP]: arp,
  [ETHERTYPE_8021Q]: vlan,
  [ETHERTYPE_8021AD]: vlan,
  [ETHERTYPE_QINQ]: vlan,
};

/** IP protocol -> dissector (registry 3); `src`/`dst` for the pseudo-header users. */
const PROTOCOLS: Record<number, Next> = {
  [IPPROTO_TCP]: tcpLayer,
  [IPPROTO_UDP]: udpLayer,
  [IPPROTO_ICMP]: icmp4,
  [IPPROTO_ICMPV6]: icmp6,
};

/** well-known UDP/TCP port -> dissector (registry 4). */
const PORTS: Record<number, (buf: Buffer, p: number, end: number, layers: Layer[], tcpTransport: boolean, length: number) => void> = {
  53: (buf, p, end, layers, overTcp, length) => {
    if (overTcp) p += 2; // RFC 1035 4.2.2: a two-byte length first
    layers.push(decodeDns(buf, p, end, overTcp ? end - p : length));
  },
  123: (buf, p, end, layers, _overTcp, length) => {
    const r = ntp.decode(buf.subarray(0, end), p);
    // print-ntp.c needs one byte for its summary (version, mode); -v's fields end where the capture does
    if (!r.ok && end > p && end - p < length)
      return void layers.push({ layer: 'ntp', version: (buf[p]! >> 3) & 7, mode: buf[p]! & 7, stratum: buf[p + 1] ?? 0, length, header: buf.subarray(p, end) });
    if (!r.ok && end === p && length > 0) return cut(layers, 'ntp', 'empty');
    if (!r.ok) return cut(layers, 'ntp', r.error);
    layers.push({ layer: 'ntp', version: r.value.version, mode: r.value.mode, stratum: r.value.stratum, length: end - p, header: buf.subarray(p, end) });
  },
};

export interface DissectOptions {
  /** check IP, TCP, UDP and ICMPv6 checksums (what tcpdump -v reports) */
  checksums?: boolean;
}

let checking = false;

/** Decode a captured frame of a link type; `wire` is its length on the wire. */
export function dissect(linktype: number, buf: Buffer, wire = buf.length, opts: DissectOptions = {}): Dissection {
  checking = opts.checksums === true;
  const layers: Layer[] = [];
  const link = LINK[linktype];
  if (!link) return { layers: [{ layer: 'data', length: buf.length }], linkHeaderLength: 0 };
  const linkHeaderLength = link(buf, layers, wire);
  return { layers, linkHeaderLength };
}

function ether(buf: Buffer, layers: Layer[], wire: number): number {
  if (buf.length < 14) {
    cut(layers, 'ether', `truncated: need 14 bytes, have ${buf.length}`);
    return buf.length;
  }
  const ethertype = buf.readUInt16BE(12);
  layers.push({ layer: 'ether', dst: mac(buf, 0), src: mac(buf, 6), ethertype });
  let p = 14,
    type = ethertype;
  // tags are part of the link header for -x (tcpdump counts them in hdrlen)
  while ((type === ETHERTYPE_8021Q || type === ETHERTYPE_8021AD || type === ETHERTYPE_QINQ) && buf.length - p >= 4) {
    const tci = buf.readUInt16BE(p);
    type = buf.readUInt16BE(p + 2);
    layers.push({ layer: 'vlan', tpid: type, id: tci & 0xfff, pcp: tci >> 13, dei: (tci & 0x1000) !== 0, ethertype: type });
    p += 4;
  }
  // fix the tpid field: it is the ethertype that announced the tag
  let announced = ethertype;
  for (const l of layers)
    if (l.layer === 'vlan') {
      const inner = l.ethertype;
      l.tpid = announced;
      announced = inner;
    }
  if (type <= 1500) {
    layers.push({ layer: 'data', length: buf.length - p });
    return p;
  } // 802.3 length field (LLC not decoded)
  next(type, buf, p, layers, wire - p);
  return p;
}

function vlan(buf: Buffer, p: number, layers: Layer[], wire: number): void {
  // reached only from a cooked header: ether() unwraps its own tags
  if (buf.length - p < 4) return cut(layers, 'vlan', 'truncated');
  const tci = buf.readUInt16BE(p),
    type = buf.readUInt16BE(p + 2);
  layers.push({ layer: 'vlan', tpid: ETHERTYPE_8021Q, id: tci & 0xfff, pcp: tci >> 13, dei: (tci & 0x1000) !== 0, ethertype: type });
  next(type, buf, p + 4, layers, wire - 4);
}

function next(type: number, buf: Buffer, p: number, layers: Layer[], wire: number): void {
  const d = ETHERTYPES[type];
  if (d) d(buf, p, layers, wire);
  else layers.push({ layer: 'data', length: buf.length - p });
}

function loopback(buf: Buffer, layers: Layer[], wire: number, hostOrder: boolean): number {
  if (buf.length < 4) {
    cut(layers, 'null', 'truncated');
    return buf.length;
  }
  // DLT_NULL: the AF_ value in the writer's byte order; DLT_LOOP: network order
  let family = hostOrder ? buf.readUInt32LE(0) : buf.readUInt32BE(0);
  if (hostOrder && (family & 0xffff0000) !== 0) family = buf.readUInt32BE(0);
  layers.push({ layer: 'null', family });
  if (family === 2) ip4(buf, 4, layers, wire - 4);
  else if (family === 10 || family === 24 || family === 28 || family === 30) ip6(buf, 4, layers, wire - 4);
  else layers.push({ layer: 'data', length: buf.length - 4 });
  return 4;
}

function sll(buf: Buffer, layers: Layer[], wire: number): number {
  if (buf.length < 16) {
    cut(layers, 'sll', 'truncated');
    return buf.length;
  }
  const halen = Math.min(buf.readUInt16BE(4), 8);
  const ethertype = buf.readUInt16BE(14);
  layers.push({ layer: 'sll', version: 1, packetType: buf.readUInt16BE(0), hatype: buf.readUInt16BE(2), address: hexAddress(buf, 6, halen), ethertype });
  next(ethertype, buf, 16, layers, wire - 16);
  return 16;
}

function sll2(buf: Buffer, layers: Layer[], wire: number): number {
  if (buf.length < 20) {
    cut(layers, 'sll2', 'truncated');
    return buf.length;
  }
  const ethertype = buf.readUInt16BE(0);
  const halen = Math.min(buf[11]!, 8);
  layers.push({
    layer: 'sll',
    version: 2,
    ethertype,
    ifindex: buf.readUInt32BE(4),
    hatype: buf.readUInt16BE(8),
    packetType: buf[10]!,
    address: hexAddress(buf, 12, halen),
  });
  next(ethertype, buf, 20, layers, wire - 20);
  return 20;
}

function arp(buf: Buffer, p: number, layers: Layer[]): void {
  const have = buf.length - p;
  if (have < 8) return cut(layers, 'arp', 'truncated');
  const hln = buf[p + 4]!,
    pln = buf[p + 5]!;
  if (have < 8 + 2 * hln + 2 * pln) return cut(layers, 'arp', 'truncated');
  const addr = (o: number, n: number, proto: boolean) => (proto && n === 4 ? formatIPv4(buf, o) : n === 6 && !proto ? mac(buf, o) : hexAddress(buf, o, n));
  const o = p + 8;
  layers.push({
    layer: 'arp',
    hrd: buf.readUInt16BE(p),
    pro: buf.readUInt16BE(p + 2),
    op: buf.readUInt16BE(p + 6),
    sha: addr(o, hln, false),
    spa: addr(o + hln, pln, true),
    tha: addr(o + hln + pln, hln, false),
    tpa: addr(o + 2 * hln + pln, pln, true),
    length: have,
  });
}

function ipAny(buf: Buffer, p: number, layers: Layer[], wire: number): void {
  if (buf.length - p < 1) return cut(layers, 'ip', 'truncated');
  const v = buf[p]! >> 4;
  if (v === 6) ip6(buf, p, layers, wire);
  else ip4(buf, p, layers, wire);
}

/**
 * The pseudo-header of the transport header being decoded (RFC 793 3.1,
 * RFC 8200 8.1): the version of the IP header before it (0: none, a
 * fragment's) and the partial sum of its addresses. Numbers, not a closure:
 * nothing allocated per packet.
 */
let pseudoVersion = 0,
  pseudoAddrs = 0;

function pseudoSum(protocol: number, length: number): number {
  return pseudoVersion === 4 ? pseudoAddrs + protocol + length : pseudoAddrs + Math.floor(length / 0x10000) + (length & 0xffff) + protocol;
}

function ip4(buf: Buffer, p: number, layers: Layer[], _wire?: number): void {
  const r = ipv4.decodeHeader(buf, p);
  if (!r.ok) {
    if (buf.length === p) return cut(layers, 'ip', 'empty');
    if (ip4Cut(buf, p, layers)) return;
    return cut(layers, 'ip', r.error);
  }
  const { header, end, partial } = r.value;
  const l4: Layer = { layer: 'ipv4', header, checksumOk: header.checksumOk, partial };
  if (!header.checksumOk) l4.goodChecksum = ~fold(sum16(buf, p, p + header.headerLength) - header.checksum) & 0xffff;
  layers.push(l4);
  // a fragment's checksum covers bytes it does not hold: not checked (tcpdump neither)
  pseudoVersion = header.mf ? 0 : 4;
  if (checking) pseudoAddrs = sum16(buf, p + 12, p + 20);
  if (header.fragmentOffset !== 0) {
    layers.push({ layer: 'data', length: header.totalLength - header.headerLength });
    return;
  }
  upper(header.protocol, buf, p + header.headerLength, end, header.totalLength - header.headerLength, layers);
}

/** An IPv4 header the capture cut inside its options: the fixed header, the options held (print-ip.c's caplen check). */
function ip4Cut(buf: Buffer, p: number, layers: Layer[]): boolean {
  const have = buf.length - p;
  if (have < ipv4.MIN_HEADER || buf[p]! >> 4 !== 4) return false;
  const headerLength = (buf[p]! & 0x0f) * 4;
  if (headerLength <= have) return false;
  const fixed = Buffer.from(buf.subarray(p, p + ipv4.MIN_HEADER));
  fixed[0] = 0x45;
  const r = ipv4.decode(fixed, 0);
  if (!r.ok || r.value.header.totalLength < headerLength) return false;
  const header = { ...r.value.header, headerLength, options: Buffer.from(buf.subarray(p + ipv4.MIN_HEADER)), checksumOk: true };
  layers.push({ layer: 'ipv4', header, checksumOk: true, partial: true, headerCut: have });
  return true;
}

function ip6(buf: Buffer, p: number, layers: Layer[], _wire?: number): void {
  const r = ipv6.decode(buf, p);
  if (!r.ok) {
    // a short fixed header, or an extension header cut off (tcpdump's [|ip6] and [|hbhopt])
    if (buf.length - p < ipv6.HEADER || buf[p]! >> 4 !== 6) return cut(layers, 'ip6', r.error);
    // print-frag6.c: the offset field is all the summary needs
    if (buf[p + 6] === ipv6.NEXT_FRAGMENT && buf.length - p >= ipv6.HEADER + 4) {
      const off = buf.readUInt16BE(p + ipv6.HEADER + 2) & 0xfff8;
      const frag: [number, number] = [off, buf.readUInt16BE(p + 4) - 8];
      layers.push({ layer: 'truncated', codec: 'frag6', error: r.error, src: formatIPv6(buf, p + 8), dst: formatIPv6(buf, p + 24), frag });
      return;
    }
    layers.push({
      layer: 'truncated',
      codec: buf[p + 6] === 0 ? 'hbhopt' : buf[p + 6] === ipv6.NEXT_FRAGMENT ? 'frag6' : 'ip6',
      error: r.error,
      src: formatIPv6(buf, p + 8),
      dst: formatIPv6(buf, p + 24),
    });
    return;
  }
  const v = r.value;
  const start = v.payload.byteOffset - buf.byteOffset;
  const upperLength = v.header.payloadLength - (start - p - ipv6.HEADER);
  let fragmentLength: number | undefined;
  if (v.fragment) {
    // the bytes after the fragment header
    let q = p + ipv6.HEADER;
    for (const e of v.extensions) {
      q += e.length;
      if (e.type === ipv6.NEXT_FRAGMENT) break;
    }
    fragmentLength = v.header.payloadLength - (q - p - ipv6.HEADER);
  }
  const l6: Layer = { layer: 'ipv6', header: v.header, extensions: v.extensions, protocol: v.protocol, fragment: v.fragment, fragmentLength };
  if (v.header.nextHeader === 0 && v.extensions[0]) l6.hopOptions = hopOptions(buf, p + ipv6.HEADER + 2, p + ipv6.HEADER + v.extensions[0].length);
  layers.push(l6);
  pseudoVersion = v.fragment ? 0 : 6;
  if (checking) pseudoAddrs = sum16(buf, p + 8, p + 40);
  if (v.fragment && v.fragment.offset !== 0) {
    layers.push({ layer: 'data', length: fragmentLength ?? 0 });
    return;
  }
  // print-ip6.c: a first fragment whose capture ends with its fragment header ends there
  if (v.fragment && start >= buf.length) return cut(layers, 'frag6', AFTER_FRAGMENT);
  upper(v.protocol, buf, start, start + v.payload.length, upperLength, layers);
}

function hopOptions(buf: Buffer, p: number, end: number): { type: number; value: Buffer }[] {
  const out: { type: number; value: Buffer }[] = [];
  while (p < end) {
    const type = buf[p]!;
    if (type === 0) {
      out.push({ type, value: buf.subarray(p, p) });
      p++;
      continue;
    } // Pad1
    if (p + 2 > end) break;
    const len = buf[p + 1]!;
    out.push({ type, value: buf.subarray(p + 2, Math.min(end, p + 2 + len)) });
    p += 2 + len;
  }
  return out;
}

/** The checksum check of a transport message of `length` bytes at p, when all of it was captured. */
function sumCheck(buf: Buffer, p: number, length: number, protocol: number, field: number): { value: number; good: number } | undefined {
  if (!checking || pseudoVersion === 0 || buf.length - p < length || length < 0) return undefined;
  const value = buf.readUInt16BE(p + field);
  return { value, good: ~fold(sum16(buf, p, p + length, pseudoSum(protocol, length)) - value) & 0xffff };
}

/** IP payload from `p` to `end` (captured); `length` is what the IP header says it holds. */
function upper(protocol: number, buf: Buffer, p: number, end: number, length: number, layers: Layer[]): void {
  const d = PROTOCOLS[protocol];
  // the transport dissectors end where buf does: a view only when the frame holds more (padding)
  const view = end === buf.length ? buf : buf.subarray(0, end);
  if (d) d(view, p, layers, length);
  else layers.push({ layer: 'data', length });
}

function truncatedPorts(buf: Buffer, p: number, layers: Layer[], codec: string, error: string): void {
  layers.push({ layer: 'truncated', codec, error, ports: buf.length - p >= 4 ? [buf.readUInt16BE(p), buf.readUInt16BE(p + 2)] : undefined });
}

function tcpLayer(buf: Buffer, p: number, layers: Layer[], length: number): void {
  const r = tcp.decode(buf, p);
  if (!r.ok) {
    const have = buf.length - p;
    if (have >= tcp.MIN_HEADER && (buf[p + 12]! >> 4) * 4 > have && tcpCut(buf, p, layers, length)) return;
    return truncatedPorts(buf, p, layers, r.codec, r.error);
  }
  const seg = r.value;
  layers.push({ layer: 'tcp', segment: seg, length: length - seg.headerLength, sum: sumCheck(buf, p, length, IPPROTO_TCP, 16) });
  if (length - seg.headerLength <= 0) return;
  const port = PORTS[seg.srcPort] ?? PORTS[seg.dstPort];
  if (port) port(buf, p + seg.headerLength, buf.length, layers, true, length - seg.headerLength);
}

// print-tcp.c's option names, for an option whose data the capture cut
const TCP_OPTION_NAMES: Record<number, string> = { 2: 'mss', 3: 'wscale', 4: 'sackOK', 5: 'sack', 8: 'TS' };

/**
 * A TCP header whose options the capture cut: the fixed header, then the
 * options read whole, as tcpdump walks them (its type and length bytes read,
 * the name printed, then the data checked: a cut there is " [|tcp]", with a
 * ">" once an option was printed whole). False when an option is malformed.
 */
function tcpCut(buf: Buffer, p: number, layers: Layer[], length: number): boolean {
  const fixed = Buffer.from(buf.subarray(p, p + tcp.MIN_HEADER));
  const headerLength = (fixed[12]! >> 4) * 4;
  fixed[12] = (5 << 4) | (fixed[12]! & 0x0f);
  const r = tcp.decode(fixed, 0);
  if (!r.ok) return false;
  const options: tcp.TcpOption[] = [];
  let q = p + tcp.MIN_HEADER,
    left = headerLength - tcp.MIN_HEADER,
    name = '',
    mark = false;
  while (left > 0) {
    if (q >= buf.length) break;
    const type = buf[q]!;
    let len = 1;
    if (type > 1) {
      if (q + 1 >= buf.length) break;
      len = buf[q + 1]!;
      if (len < 2 || len > left) return false;
      if (q + len > buf.length) {
        name = TCP_OPTION_NAMES[type] ?? `unknown-${type}`;
        mark = options.length > 0;
        break;
      }
    }
    const one = tcp.decodeOptions(buf, q, q + len);
    if (!one.ok) return false;
    options.push(...one.value);
    if (type === 0) break;
    q += len;
    left -= len;
  }
  layers.push({ layer: 'tcp', segment: { ...r.value, headerLength, options }, length: length - headerLength, optionsCut: { name, mark } });
  return true;
}

function udpLayer(buf: Buffer, p: number, layers: Layer[], _length: number): void {
  const r = udp.decode(buf, p);
  if (!r.ok) return truncatedPorts(buf, p, layers, r.codec, r.error);
  const u = r.value;
  layers.push({
    layer: 'udp',
    srcPort: u.srcPort,
    dstPort: u.dstPort,
    ulen: u.length,
    checksum: u.checksum,
    length: u.length - udp.HEADER,
    sum: sumCheck(buf, p, u.length, IPPROTO_UDP, 6),
  });
  const port = PORTS[u.srcPort] ?? PORTS[u.dstPort];
  if (port) port(buf, p + udp.HEADER, Math.min(buf.length, p + u.length), layers, false, u.length - udp.HEADER);
}

function icmp4(buf: Buffer, p: number, layers: Layer[], length: number): void {
  if (buf.length - p < 4) return cut(layers, 'icmp', 'truncated');
  const type = buf[p]!,
    code = buf[p + 1]!;
  const l: IcmpLayer = { layer: 'icmp', type, code, checksum: buf.readUInt16BE(p + 2), length };
  layers.push(l);
  if (buf.length - p < 8) {
    l.short = true;
    return;
  }
  if (type === 0 || type === 8 || type === 13 || type === 14 || type === 15 || type === 16) {
    l.id = buf.readUInt16BE(p + 4);
    l.seq = buf.readUInt16BE(p + 6);
  } else if (type === 3 || type === 11 || type === 12 || type === 5 || type === 4) {
    if (type === 3 && code === 4) l.mtu = buf.readUInt16BE(p + 6);
    if (type === 5) l.gateway = formatIPv4(buf, p + 4);
    if (type === 12) l.pointer = buf[p + 4];
    const q: Layer[] = [];
    if (buf.length - p > 8) ip4(buf, p + 8, q);
    l.quote = q;
    if (q[0]?.layer !== 'ipv4') l.short = true;
    // print-icmp.c: a port unreachable reads the quoted destination port
    else if (type === 3 && code === 3 && buf.length - (p + 8 + q[0].header.headerLength) < 4) l.short = true;
  }
}

function icmp6(buf: Buffer, p: number, layers: Layer[], length: number): void {
  if (buf.length === p) return cut(layers, 'icmp6', 'truncated');
  if (buf.length - p < 4) {
    // print-icmp6.c: the type's name from one byte, the code's from two, then the mark
    const l: Icmp6Layer = { layer: 'icmp6', type: buf[p]!, code: buf[p + 1] ?? 0, checksum: 0, length, short: true };
    if (buf.length - p < 2) l.typeOnly = true;
    layers.push(l);
    return;
  }
  const type = buf[p]!,
    code = buf[p + 1]!;
  const l: Icmp6Layer = { layer: 'icmp6', type, code, checksum: buf.readUInt16BE(p + 2), length, sum: sumCheck(buf, p, length, IPPROTO_ICMPV6, 2) };
  layers.push(l);
  const have = buf.length - p;
  if (type >= 133 && type <= 137) l.ndOptions = ndOptions(buf, p + (type === 133 ? 8 : type === 134 ? 16 : type === 137 ? 40 : 24), buf.length);
  if (type === 134 && have >= 16)
    l.ra = {
      hopLimit: buf[p + 4]!,
      flags: buf[p + 5]!,
      lifetime: buf.readUInt16BE(p + 6),
      reachable: buf.readUInt32BE(p + 8),
      retrans: buf.readUInt32BE(p + 12),
    };
  if (type === 143 && have >= 8) l.groups = mldRecords(buf, p + 8, buf.length, buf.readUInt16BE(p + 6));
  const need = (n: number) => {
    if (have < n) l.short = true;
    return have >= n;
  };
  if (type === 128 || type === 129) {
    if (need(8)) {
      l.id = buf.readUInt16BE(p + 4);
      l.seq = buf.readUInt16BE(p + 6);
    }
  } else if (type === 135 || type === 136 || type === 137) {
    if (need(24)) l.target = formatIPv6(buf, p + 8);
    if (type === 136 && have >= 5)
      l.naFlags = { router: (buf[p + 4]! & 0x80) !== 0, solicited: (buf[p + 4]! & 0x40) !== 0, override: (buf[p + 4]! & 0x20) !== 0 };
  } else if (type === 130 || type === 131 || type === 132) {
    if (need(24)) {
      l.maxDelay = buf.readUInt16BE(p + 4);
      l.target = formatIPv6(buf, p + 8);
    }
  } else if (type === 143) {
    if (need(8)) l.records = buf.readUInt16BE(p + 6);
  } else if (type >= 1 && type <= 4) {
    if (type === 2 && have >= 8) l.mtu = buf.readUInt32BE(p + 4);
    if (type === 4 && have >= 8) l.pointer = buf.readUInt32BE(p + 4);
    const q: Layer[] = [];
    if (have > 8) ip6(buf, p + 8, q);
    l.quote = q;
    if (q[0]?.layer !== 'ipv6' && type !== 2) l.short = true;
    // print-icmp6.c get_upperlayer: a port unreachable needs the quoted transport's ports
    else if (type === 1 && code === 4 && q[1]?.layer === 'truncated' && !q[1].ports) l.short = true;
  }
}

function ndOptions(buf: Buffer, p: number, end: number): { type: number; length: number; address: string; data: string }[] {
  const out: { type: number; length: number; address: string; data: string }[] = [];
  while (p + 2 <= end) {
    const type = buf[p]!,
      len = buf[p + 1]! * 8;
    if (len === 0 || p + len > end) break;
    out.push({ type, length: len, address: (type === 1 || type === 2) && len === 8 ? mac(buf, p + 2) : '', data: buf.toString('hex', p + 2, p + len) });
    p += len;
  }
  return out;
}

function mldRecords(buf: Buffer, p: number, end: number, n: number): { type: number; group: string; sources: number; addresses: string[] }[] {
  const out: { type: number; group: string; sources: number; addresses: string[] }[] = [];
  for (let i = 0; i < n && p + 20 <= end; i++) {
    const sources = buf.readUInt16BE(p + 2);
    const addresses: string[] = [];
    for (let k = 0; k < sources && p + 20 + 16 * (k + 1) <= end; k++) addresses.push(formatIPv6(buf, p + 20 + 16 * k));
    out.push({ type: buf[p]!, group: formatIPv6(buf, p + 4), sources, addresses });
    p += 20 + 16 * sources + 4 * buf[p + 1]!;
  }
  return out;
}
