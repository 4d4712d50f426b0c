// The C structs socket options carry, as pure encode/decode over bytes
// (x86_64/aarch64 Linux layouts: int 4 bytes, long and time_t 8).
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './packet/addr.js';

export interface Linger {
  onoff: number; // l_onoff
  linger: number; // l_linger, seconds
}

export const linger = {
  size: 8,
  encode(v: Linger): Buffer {
    const b = Buffer.alloc(8);
    b.writeInt32LE(v.onoff, 0);
    b.writeInt32LE(v.linger, 4);
    return b;
  },
  decode(b: Buffer): Linger {
    return { onoff: b.readInt32LE(0), linger: b.readInt32LE(4) };
  },
};

export interface Timeval {
  sec: number; // tv_sec
  usec: number; // tv_usec
}

export const timeval = {
  size: 16,
  encode(v: Timeval): Buffer {
    const b = Buffer.alloc(16);
    b.writeBigInt64LE(BigInt(v.sec), 0);
    b.writeBigInt64LE(BigInt(v.usec), 8);
    return b;
  },
  decode(b: Buffer): Timeval {
    return { sec: Number(b.readBigInt64LE(0)), usec: Number(b.readBigInt64LE(8)) };
  },
  /** seconds (1.5) -> { sec: 1, usec: 500000 } */
  fromSeconds(s: number): Timeval {
    const sec = Math.floor(s);
    return { sec, usec: Math.round((s - sec) * 1e6) };
  },
};

export interface Ucred {
  pid: number;
  uid: number;
  gid: number;
}

export const ucred = {
  size: 12,
  encode(v: Ucred): Buffer {
    const b = Buffer.alloc(12);
    b.writeInt32LE(v.pid, 0);
    b.writeUInt32LE(v.uid, 4);
    b.writeUInt32LE(v.gid, 8);
    return b;
  },
  decode(b: Buffer): Ucred {
    return { pid: b.readInt32LE(0), uid: b.readUInt32LE(4), gid: b.readUInt32LE(8) };
  },
};

export const int = {
  size: 4,
  encode(v: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v, 0);
    return b;
  },
  decode(b: Buffer): number {
    return b.length >= 4 ? b.readInt32LE(0) : b.length ? b[0] : 0;
  },
};

/** struct in_addr */
export const inAddr = {
  size: 4,
  encode(a: string): Buffer {
    const b = parseIPv4(a);
    if (!b) throw new TypeError(`not an IPv4 address: ${a}`);
    return b;
  },
  decode(b: Buffer): string {
    return formatIPv4(b, 0);
  },
};

export interface IpMreqn {
  multiaddr: string;
  address: string; // local interface address (0.0.0.0: any)
  ifindex: number;
}

/** struct ip_mreqn (accepted by IP_ADD_MEMBERSHIP and IP_MULTICAST_IF) */
export const ipMreqn = {
  size: 12,
  encode(v: IpMreqn): Buffer {
    const b = Buffer.alloc(12);
    inAddr.encode(v.multiaddr).copy(b, 0);
    inAddr.encode(v.address).copy(b, 4);
    b.writeInt32LE(v.ifindex, 8);
    return b;
  },
  decode(b: Buffer): IpMreqn {
    return { multiaddr: formatIPv4(b, 0), address: formatIPv4(b, 4), ifindex: b.length >= 12 ? b.readInt32LE(8) : 0 };
  },
};

export interface Ipv6Mreq {
  multiaddr: string;
  ifindex: number;
}

/** struct ipv6_mreq */
export const ipv6Mreq = {
  size: 20,
  encode(v: Ipv6Mreq): Buffer {
    const b = Buffer.alloc(20);
    const a = parseIPv6(v.multiaddr);
    if (!a) throw new TypeError(`not an IPv6 address: ${v.multiaddr}`);
    a.copy(b, 0);
    b.writeInt32LE(v.ifindex, 16);
    return b;
  },
  decode(b: Buffer): Ipv6Mreq {
    return { multiaddr: formatIPv6(b, 0), ifindex: b.readInt32LE(16) };
  },
};

/** struct icmp6_filter: 256 bits, a set bit blocks that type (RFC 3542 3.2). */
export const icmp6Filter = {
  size: 32,
  encode(blocked: Set<number>): Buffer {
    const b = Buffer.alloc(32);
    for (const t of blocked) b[t >> 3] |= 1 << (t & 7);
    return b;
  },
  decode(b: Buffer): Set<number> {
    const s = new Set<number>();
    for (let t = 0; t < 256; t++) if (b[t >> 3] & (1 << (t & 7))) s.add(t);
    return s;
  },
};

export interface IpMreqSource {
  multiaddr: string;
  address: string; // local interface address (0.0.0.0: any)
  sourceaddr: string;
}

/** struct ip_mreq_source (IP_{ADD,DROP}_SOURCE_MEMBERSHIP, IP_{BLOCK,UNBLOCK}_SOURCE) */
export const ipMreqSource = {
  size: 12,
  encode(v: IpMreqSource): Buffer {
    return Buffer.concat([inAddr.encode(v.multiaddr), inAddr.encode(v.address), inAddr.encode(v.sourceaddr)]);
  },
  decode(b: Buffer): IpMreqSource {
    return { multiaddr: formatIPv4(b, 0), address: formatIPv4(b, 4), sourceaddr: formatIPv4(b, 8) };
  },
};

export interface GroupReq {
  ifindex: number; // gr_interface
  group: string; // an IPv4 or IPv6 address
  source?: string; // group_source_req only
}

// struct group_req / group_source_req (RFC 3678 5.2): a uint32 interface,
// 4 bytes of padding, then sockaddr_storage (128 bytes) per address.
const SS = 128;
function storage(addr: string): Buffer {
  const b = Buffer.alloc(SS);
  const v4 = parseIPv4(addr);
  if (v4) {
    b.writeUInt16LE(2, 0);
    v4.copy(b, 4);
    return b;
  }
  const v6 = parseIPv6(addr);
  if (!v6) throw new TypeError(`not an IP address: ${addr}`);
  b.writeUInt16LE(10, 0);
  v6.copy(b, 8);
  return b;
}
function fromStorage(b: Buffer, o: number): string {
  return b.readUInt16LE(o) === 2 ? formatIPv4(b, o + 4) : formatIPv6(b, o + 8);
}

/** struct group_req (MCAST_JOIN_GROUP, MCAST_LEAVE_GROUP) */
export const groupReq = {
  size: 8 + SS,
  encode(v: GroupReq): Buffer {
    const head = Buffer.alloc(8);
    head.writeUInt32LE(v.ifindex >>> 0, 0);
    return Buffer.concat([head, storage(v.group)]);
  },
  decode(b: Buffer): GroupReq {
    return { ifindex: b.readUInt32LE(0), group: fromStorage(b, 8) };
  },
};

/** struct group_source_req (MCAST_{JOIN,LEAVE}_SOURCE_GROUP, MCAST_{BLOCK,UNBLOCK}_SOURCE) */
export const groupSourceReq = {
  size: 8 + 2 * SS,
  encode(v: GroupReq): Buffer {
    if (v.source === undefined) throw new TypeError('group_source_req needs a source address');
    return Buffer.concat([groupReq.encode(v), storage(v.source)]);
  },
  decode(b: Buffer): GroupReq {
    return { ...groupReq.decode(b), source: fromStorage(b, 8 + SS) };
  },
};

export interface Ip6MtuInfo {
  address: string; // ip6m_addr.sin6_addr
  ifindex: number; // ip6m_addr.sin6_scope_id
  mtu: number; // ip6m_mtu
}

/** struct ip6_mtuinfo (IPV6_PATHMTU, RFC 3542 11.1): sockaddr_in6 then uint32 mtu */
export const ip6MtuInfo = {
  size: 32,
  decode(b: Buffer): Ip6MtuInfo {
    return { address: formatIPv6(b, 8), ifindex: b.readUInt32LE(24), mtu: b.readUInt32LE(28) };
  },
};

/** ICMP_FILTER (SOL_RAW, raw(7)): a 32-bit mask, a set bit blocks that ICMP type. */
export const icmpFilter = {
  size: 4,
  encode(blocked: Set<number>): Buffer {
    let m = 0;
    for (const t of blocked) if (t >= 0 && t < 32) m |= 1 << t;
    const b = Buffer.alloc(4);
    b.writeUInt32LE(m >>> 0, 0);
    return b;
  },
  decode(b: Buffer): Set<number> {
    const m = b.length >= 4 ? b.readUInt32LE(0) : 0;
    const s = new Set<number>();
    for (let t = 0; t < 32; t++) if (m & (1 << t)) s.add(t);
    return s;
  },
};

/**
 * struct tcp_info (TCP_INFO, <linux/tcp.h>), fields named as the kernel
 * names them without `tcpi_`. The kernel fills min(optlen, its own size),
 * so fields past the returned length are left out (older kernels).
 * Times are microseconds except last_* (milliseconds); counts in segments.
 */
export interface TcpInfo {
  state: number;
  ca_state: number;
  retransmits: number;
  probes: number;
  backoff: number;
  options: number;
  snd_wscale: number;
  rcv_wscale: number;
  delivery_rate_app_limited: number;
  fastopen_client_fail: number;
  rto: number;
  ato: number;
  snd_mss: number;
  rcv_mss: number;
  unacked: number;
  sacked: number;
  lost: number;
  retrans: number;
  fackets: number;
  last_data_sent: number;
  last_ack_sent: number;
  last_data_recv: number;
  last_ack_recv: number;
  pmtu: number;
  rcv_ssthresh: number;
  rtt: number;
  rttvar: number;
  snd_ssthresh: number;
  snd_cwnd: number;
  advmss: number;
  reordering: number;
  rcv_rtt: number;
  rcv_space: number;
  total_retrans: number;
  pacing_rate?: bigint;
  max_pacing_rate?: bigint;
  bytes_acked?: bigint;
  bytes_received?: bigint;
  segs_out?: number;
  segs_in?: number;
  notsent_bytes?: number;
  min_rtt?: number;
  data_segs_in?: number;
  data_segs_out?: number;
  delivery_rate?: bigint;
  busy_time?: bigint;
  rwnd_limited?: bigint;
  sndbuf_limited?: bigint;
  delivered?: number;
  delivered_ce?: number;
  bytes_sent?: bigint;
  bytes_retrans?: bigint;
  dsack_dups?: number;
  reord_seen?: number;
  rcv_ooopack?: number;
  snd_wnd?: number;
  rcv_wnd?: number;
  rehash?: number;
  total_rto?: number;
  total_rto_recoveries?: number;
  total_rto_time?: number;
}

type TcpInfoField = Exclude<keyof TcpInfo, 'snd_wscale' | 'rcv_wscale' | 'delivery_rate_app_limited' | 'fastopen_client_fail'>;

/** [field, byte offset, size]: the layout of struct tcp_info after its 8 one-byte fields. */
export const TCP_INFO_LAYOUT: readonly (readonly [TcpInfoField, number, 1 | 2 | 4 | 8])[] = (() => {
  const out: [TcpInfoField, number, 1 | 2 | 4 | 8][] = [];
  const bytes: TcpInfoField[] = ['state', 'ca_state', 'retransmits', 'probes', 'backoff', 'options'];
  bytes.forEach((f, i) => out.push([f, i, 1]));
  const rest: [TcpInfoField, 2 | 4 | 8][] = [
    ['rto', 4],
    ['ato', 4],
    ['snd_mss', 4],
    ['rcv_mss', 4],
    ['unacked', 4],
    ['sacked', 4],
    ['lost', 4],
    ['retrans', 4],
    ['fackets', 4],
    ['last_data_sent', 4],
    ['last_ack_sent', 4],
    ['last_data_recv', 4],
    ['last_ack_recv', 4],
    ['pmtu', 4],
    ['rcv_ssthresh', 4],
    ['rtt', 4],
    ['rttvar', 4],
    ['snd_ssthresh', 4],
    ['snd_cwnd', 4],
    ['advmss', 4],
    ['reordering', 4],
    ['rcv_rtt', 4],
    ['rcv_space', 4],
    ['total_retrans', 4],
    ['pacing_rate', 8],
    ['max_pacing_rate', 8],
    ['bytes_acked', 8],
    ['bytes_received', 8],
    ['segs_out', 4],
    ['segs_in', 4],
    ['notsent_bytes', 4],
    ['min_rtt', 4],
    ['data_segs_in', 4],
    ['data_segs_out', 4],
    ['delivery_rate', 8],
    ['busy_time', 8],
    ['rwnd_limited', 8],
    ['sndbuf_limited', 8],
    ['delivered', 4],
    ['delivered_ce', 4],
    ['bytes_sent', 8],
    ['bytes_retrans', 8],
    ['dsack_dups', 4],
    ['reord_seen', 4],
    ['rcv_ooopack', 4],
    ['snd_wnd', 4],
    ['rcv_wnd', 4],
    ['rehash', 4],
    ['total_rto', 2],
    ['total_rto_recoveries', 2],
    ['total_rto_time', 4],
  ];
  let off = 8;
  for (const [f, size] of rest) {
    off = Math.ceil(off / size) * size; // natural alignment
    out.push([f, off, size]);
    off += size;
  }
  return out;
})();

export const tcpInfo = {
  /** the size of the struct as this decoder knows it (the kernel may return less) */
  size: 248,
  /** Decode what the kernel returned; null when even the fixed head is missing. */
  decode(b: Buffer): TcpInfo | null {
    if (b.length < 104) return null; // the layout of Linux 2.6 (through total_retrans)
    const v: Record<string, number | bigint> = {};
    for (const [f, off, size] of TCP_INFO_LAYOUT) {
      if (off + size > b.length) break;
      v[f] = size === 1 ? b[off] : size === 2 ? b.readUInt16LE(off) : size === 4 ? b.readUInt32LE(off) : b.readBigUInt64LE(off);
    }
    v.snd_wscale = b[6] & 0x0f;
    v.rcv_wscale = b[6] >> 4;
    v.delivery_rate_app_limited = b[7] & 1;
    v.fastopen_client_fail = (b[7] >> 1) & 3;
    return v as unknown as TcpInfo;
  },
};

/** TCP states as <net/tcp_states.h> numbers them (tcp_info.state, /proc/net/tcp st). */
export const TCP_STATES = [
  '',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
] as const;

/** tcp_info.ca_state (enum tcp_ca_state) */
export const TCP_CA_STATES = ['Open', 'Disorder', 'CWR', 'Recovery', 'Loss'] as const;

/** tcp_info.options bits (TCPI_OPT_*) */
export const TCPI_OPTIONS: readonly [number, string][] = [
  [1, 'timestamps'],
  [2, 'sack'],
  [4, 'wscale'],
  [8, 'ecn'],
  [16, 'ecn_seen'],
  [32, 'syn_data'],
  [64, 'usec_ts'],
];
