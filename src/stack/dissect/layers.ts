// What a dissected packet is: its layers, outermost first, each plain data.
import type { IPv4Header } from '../packet/ipv4.js';
import type { ExtensionHeader, IPv6Header } from '../packet/ipv6.js';
import type { TcpSegment } from '../packet/tcp.js';

export interface EtherLayer {
  layer: 'ether';
  src: string;
  dst: string;
  ethertype: number;
}
export interface VlanLayer {
  layer: 'vlan';
  tpid: number;
  id: number;
  pcp: number;
  dei: boolean;
  ethertype: number;
}
export interface SllLayer {
  layer: 'sll';
  version: 1 | 2;
  packetType: number;
  hatype: number;
  address: string;
  ethertype: number;
  ifindex?: number;
}
export interface NullLayer {
  layer: 'null';
  family: number;
}
export interface ArpLayer {
  layer: 'arp';
  hrd: number;
  pro: number;
  op: number;
  sha: string;
  spa: string;
  tha: string;
  tpa: string;
  /** bytes after the link header, padding included (what tcpdump calls length) */
  length: number;
}
export interface Ipv4Layer {
  layer: 'ipv4';
  header: IPv4Header;
  checksumOk: boolean;
  partial: boolean /** the header checksum it should carry, when it carries another */;
  goodChecksum?: number;
  /** the capture ends inside the header (its options): the bytes it holds */
  headerCut?: number;
}
export interface Ipv6Layer {
  layer: 'ipv6';
  header: IPv6Header;
  extensions: ExtensionHeader[];
  protocol: number;
  /** hop-by-hop options: type and value (RFC 8200 4.2) */
  hopOptions?: { type: number; value: Buffer }[];
  fragment?: { offset: number; more: boolean; id: number };
  /** bytes after the fragment header (frag (offset|length)) */
  fragmentLength?: number;
}
/** A transport checksum checked against its pseudo-header (dissect's `checksums` option, for -v). */
export interface ChecksumCheck {
  value: number;
  good: number;
}
export interface TcpLayer {
  layer: 'tcp';
  segment: TcpSegment /** payload bytes by the IP length */;
  length: number;
  sum?: ChecksumCheck;
  /** the capture ends inside the options: `segment.options` holds those read whole (print-tcp.c's walk) */
  optionsCut?: { name: string; mark: boolean };
}
export interface UdpLayer {
  layer: 'udp';
  srcPort: number;
  dstPort: number;
  ulen: number;
  checksum: number /** payload bytes by the IP length */;
  length: number;
  sum?: ChecksumCheck;
}
export interface IcmpLayer {
  layer: 'icmp';
  type: number;
  code: number;
  checksum: number;
  /** the ICMP message length (the IP payload) */
  length: number;
  id?: number;
  seq?: number;
  mtu?: number;
  gateway?: string;
  pointer?: number;
  /** the datagram an error quotes, dissected from its IP header */
  quote?: Layer[];
  short?: boolean;
}
export interface Icmp6Layer {
  layer: 'icmp6';
  type: number;
  code: number;
  checksum: number;
  length: number;
  id?: number;
  seq?: number;
  mtu?: number;
  pointer?: number;
  /** the capture holds its type byte alone */
  typeOnly?: boolean;
  /** NS/NA/redirect target; MLDv1 group */
  target?: string;
  naFlags?: { router: boolean; solicited: boolean; override: boolean };
  /** a router advertisement's fields (RFC 4861 4.2) */
  ra?: { hopLimit: number; flags: number; lifetime: number; reachable: number; retrans: number };
  /** MLDv2 report: the number of group records */
  records?: number;
  maxDelay?: number;
  quote?: Layer[];
  /** the capture ended before the fields the type needs */
  short?: boolean;
  sum?: ChecksumCheck;
  /** ND options (RFC 4861 4.6): type and link-layer address */
  ndOptions?: { type: number; length: number; address: string /** the bytes after type and length, in hex (-vv) */; data: string }[];
  /** MLDv2 report records: type and group (RFC 3810 5.2) */
  groups?: { type: number; group: string; sources: number /** the source addresses the capture holds */; addresses: string[] }[];
}
export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}
export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: string;
  /** the capture cut it: type 0, nothing printed (its name or fixed part cut), else its type only */
  cut?: boolean;
}
export interface DnsLayer {
  layer: 'dns';
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  length: number;
  /** the message ended inside a record */
  truncated: boolean;
  /** the capture holds less than the 12-byte header */
  short?: boolean;
  /** the question section was read (or skipped) whole */
  questionsRead?: boolean;
}
export interface NtpLayer {
  layer: 'ntp';
  version: number;
  mode: number;
  stratum: number;
  length: number;
  /** the message's bytes (the 48 header bytes and what follows), for -v's fields (RFC 5905 7.3) */
  header: Buffer;
}
/** Bytes the dissector does not decode further. */
export interface DataLayer {
  layer: 'data';
  length: number;
}
/** Where decoding gave up: what was being decoded and why. */
export interface TruncatedLayer {
  layer: 'truncated';
  codec: string;
  error: string /** the ports, when a short transport header still holds them */;
  ports?: [number, number] /** the addresses, when the network header was whole */;
  src?: string;
  dst?: string;
  /** an IPv6 fragment header cut after its offset: the offset and the fragment's length */
  frag?: [number, number];
}

export type Layer =
  | EtherLayer
  | VlanLayer
  | SllLayer
  | NullLayer
  | ArpLayer
  | Ipv4Layer
  | Ipv6Layer
  | TcpLayer
  | UdpLayer
  | IcmpLayer
  | Icmp6Layer
  | DnsLayer
  | NtpLayer
  | DataLayer
  | TruncatedLayer;

export interface Dissection {
  layers: Layer[];
  /** bytes of link-layer header (what -x leaves out) */
  linkHeaderLength: number;
}

/** the error of a first fragment captured to the end of its fragment header */
export const AFTER_FRAGMENT = 'nothing after the fragment header';
