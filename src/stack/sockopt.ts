// The socket option table (UNP 7.2, figures 7.1 and 7.2, plus the Linux
// options people ask about): for each option its level, number, value type,
// the socket types it applies to and a one-line description; typed get/set
// over a Socket; parsing of the values users type; formatting in the style
// of UNP's checkopts (figure 7.3/7.4). No printing here: commands print.
// Parsing lives in sockopt/parse.ts, formatting in sockopt/format.ts, what
// the kernel made of a value in sockopt/kernel.ts; all are exported here.
import * as C from './constants.js';
import { isSystemError, type SystemError } from './errors.js';
import { formatIPv6 } from './packet/addr.js';
import { encode as encodeSockaddr } from './sockaddr.js';
import { Socket } from './socket.js';
import * as structs from './structs.js';

// ---------- socket kinds ----------

/** The socket types sockopt compares (the columns of `sockopt --table`). */
export type SockKind = 'tcp4' | 'tcp6' | 'udp4' | 'udp6' | 'raw4' | 'raw6' | 'unix-stream' | 'unix-dgram';
export const SOCK_KINDS: readonly SockKind[] = ['tcp4', 'tcp6', 'udp4', 'udp6', 'raw4', 'raw6', 'unix-stream', 'unix-dgram'];

const KIND_ARGS: Record<SockKind, [domain: number, type: number, protocol: number]> = {
  tcp4: [C.AF_INET, C.SOCK_STREAM, 0],
  tcp6: [C.AF_INET6, C.SOCK_STREAM, 0],
  udp4: [C.AF_INET, C.SOCK_DGRAM, 0],
  udp6: [C.AF_INET6, C.SOCK_DGRAM, 0],
  raw4: [C.AF_INET, C.SOCK_RAW, C.IPPROTO_ICMP],
  raw6: [C.AF_INET6, C.SOCK_RAW, C.IPPROTO_ICMPV6],
  'unix-stream': [C.AF_UNIX, C.SOCK_STREAM, 0],
  'unix-dgram': [C.AF_UNIX, C.SOCK_DGRAM, 0],
};

/** socket(2) for a kind; raw kinds are ICMP / ICMPv6 (need CAP_NET_RAW). */
export function openKind(kind: SockKind): Socket {
  const [d, t, p] = KIND_ARGS[kind];
  return Socket.open(d, t, p);
}

/** The kind nearest a socket's domain and type (a ping socket counts as udp). */
export function kindOf(domain: number, type: number): SockKind | undefined {
  const v = domain === C.AF_INET ? '4' : domain === C.AF_INET6 ? '6' : '';
  if (domain === C.AF_UNIX) return type === C.SOCK_STREAM ? 'unix-stream' : type === C.SOCK_DGRAM ? 'unix-dgram' : undefined;
  if (!v) return undefined;
  if (type === C.SOCK_STREAM) return `tcp${v}` as SockKind;
  if (type === C.SOCK_DGRAM) return `udp${v}` as SockKind;
  if (type === C.SOCK_RAW) return `raw${v}` as SockKind;
  return undefined;
}

// ---------- value types ----------

/** Which bits ICMP_FILTER / ICMP6_FILTER block (a set bit blocks that type). */
export interface IcmpTypeFilter {
  blocked: number[];
}

export interface ValueTypes {
  flag: boolean;
  int: number;
  linger: structs.Linger;
  timeval: structs.Timeval;
  in_addr: string;
  ip_mreqn: structs.IpMreqn;
  ip_mreq_source: structs.IpMreqSource;
  ipv6_mreq: structs.Ipv6Mreq;
  group_req: structs.GroupReq;
  group_source_req: structs.GroupReq;
  sockaddr_in6: string;
  icmp6_filter: IcmpTypeFilter;
  icmp_filter: IcmpTypeFilter;
  ucred: structs.Ucred;
  string: string;
  bytes: Buffer;
  ip6_mtuinfo: structs.Ip6MtuInfo;
  tcp_info: structs.TcpInfo;
}
export type ValueType = keyof ValueTypes;
export type OptionValue = ValueTypes[ValueType];

export type Access = 'get' | 'set' | 'both';

export interface SockOpt {
  name: string;
  /** the level; for `perFamily` options the IPv4 one */
  level: number;
  levelName: string;
  /** the option number (meaningless when `undefined` is set) */
  optname: number;
  type: ValueType;
  appliesTo: readonly SockKind[];
  access: Access;
  description: string;
  /** why Linux has no such option (UNP lists it; checkopts prints "(undefined)") */
  undefined?: string;
  /** the capability setting it needs */
  privilege?: string;
  /** names accepted for integer values */
  names?: Readonly<Record<string, number>>;
  /** IPPROTO_IP on IPv4 sockets, IPPROTO_IPV6 on IPv6 ones (RFC 3678 MCAST_*) */
  perFamily?: boolean;
}

/** An error in a value the user typed (or a value an option cannot take). */
export class OptionValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OptionValueError';
  }
}

// ---------- the table ----------

const ALL = SOCK_KINDS;
const INET: readonly SockKind[] = ['tcp4', 'tcp6', 'udp4', 'udp6', 'raw4', 'raw6'];
const V4: readonly SockKind[] = ['tcp4', 'udp4', 'raw4'];
const V6: readonly SockKind[] = ['tcp6', 'udp6', 'raw6'];
const TCP: readonly SockKind[] = ['tcp4', 'tcp6'];
const STREAM: readonly SockKind[] = ['tcp4', 'tcp6', 'unix-stream'];
const INET_DGRAM: readonly SockKind[] = ['udp4', 'udp6', 'raw4', 'raw6'];
const V4_DGRAM: readonly SockKind[] = ['udp4', 'raw4'];
const V6_DGRAM: readonly SockKind[] = ['udp6', 'raw6'];
const UNIX: readonly SockKind[] = ['unix-stream', 'unix-dgram'];
const NONE: readonly SockKind[] = [];

const LEVEL_NAMES: Record<number, string> = {
  [C.SOL_SOCKET]: 'SOL_SOCKET',
  [C.IPPROTO_IP]: 'IPPROTO_IP',
  [C.IPPROTO_IPV6]: 'IPPROTO_IPV6',
  [C.IPPROTO_ICMPV6]: 'IPPROTO_ICMPV6',
  [C.IPPROTO_TCP]: 'IPPROTO_TCP',
  [C.IPPROTO_SCTP]: 'IPPROTO_SCTP',
  [C.SOL_RAW]: 'SOL_RAW',
};

// ip(7) / ipv6(7) IP_MTU_DISCOVER values
const PMTUDISC = { dont: 0, want: 1, do: 2, probe: 3, interface: 4, omit: 5 } as const;

type Extra = Partial<Pick<SockOpt, 'privilege' | 'names' | 'perFamily' | 'undefined'>>;

function opt<N extends string, T extends ValueType>(
  name: N,
  level: number,
  optname: number,
  type: T,
  appliesTo: readonly SockKind[],
  access: Access,
  description: string,
  extra: Extra = {},
): SockOpt & { name: N; type: T } {
  return { name, level, levelName: LEVEL_NAMES[level] ?? String(level), optname, type, appliesTo, access, description, ...extra };
}

/** An option UNP lists that Linux does not have. */
function missing<N extends string, T extends ValueType>(name: N, level: number, type: T, description: string, why: string) {
  return opt(name, level, -1, type, NONE, 'both', description, { undefined: why });
}

const S = C.SOL_SOCKET,
  IP = C.IPPROTO_IP,
  IP6 = C.IPPROTO_IPV6,
  TCPL = C.IPPROTO_TCP,
  SCTP = C.IPPROTO_SCTP;
const NO_SCTP = 'sockit has no SCTP sockets';

// Typed entries: each keeps its literal name and value type (see ValueOf).
const TYPED = [
  // SOL_SOCKET (UNP 7.5, figure 7.1)
  opt('SO_BROADCAST', S, C.SO_BROADCAST, 'flag', INET_DGRAM, 'both', 'Permit sending of broadcast datagrams'),
  opt('SO_DEBUG', S, C.SO_DEBUG, 'flag', TCP, 'both', 'Enable debug tracing', { privilege: 'CAP_NET_ADMIN' }),
  opt('SO_DONTROUTE', S, C.SO_DONTROUTE, 'flag', INET, 'both', 'Bypass routing table lookup'),
  opt('SO_ERROR', S, C.SO_ERROR, 'int', ALL, 'get', 'Get pending error and clear'),
  opt('SO_KEEPALIVE', S, C.SO_KEEPALIVE, 'flag', TCP, 'both', 'Periodically test if connection still alive'),
  opt('SO_LINGER', S, C.SO_LINGER, 'linger', STREAM, 'both', 'Linger on close if data to send'),
  opt('SO_OOBINLINE', S, C.SO_OOBINLINE, 'flag', TCP, 'both', 'Leave received out-of-band data inline'),
  opt('SO_RCVBUF', S, C.SO_RCVBUF, 'int', ALL, 'both', 'Receive buffer size'),
  opt('SO_SNDBUF', S, C.SO_SNDBUF, 'int', ALL, 'both', 'Send buffer size'),
  opt('SO_RCVLOWAT', S, C.SO_RCVLOWAT, 'int', ALL, 'both', 'Receive buffer low-water mark'),
  opt('SO_SNDLOWAT', S, C.SO_SNDLOWAT, 'int', ALL, 'get', 'Send buffer low-water mark (fixed at 1 on Linux)'),
  opt('SO_RCVTIMEO', S, C.SO_RCVTIMEO, 'timeval', ALL, 'both', 'Receive timeout'),
  opt('SO_SNDTIMEO', S, C.SO_SNDTIMEO, 'timeval', ALL, 'both', 'Send timeout'),
  opt('SO_REUSEADDR', S, C.SO_REUSEADDR, 'flag', INET, 'both', 'Allow local address reuse'),
  opt('SO_REUSEPORT', S, C.SO_REUSEPORT, 'flag', INET, 'both', 'Allow local port reuse (load-balanced across sockets)'),
  opt('SO_TYPE', S, C.SO_TYPE, 'int', ALL, 'get', 'Get socket type'),
  missing('SO_USELOOPBACK', S, 'flag', 'Routing socket gets copy of what it sends', 'BSD routing sockets only'),
  // SOL_SOCKET, Linux
  opt('SO_BINDTODEVICE', S, C.SO_BINDTODEVICE, 'string', INET, 'both', 'Send and receive only through this interface'),
  opt('SO_MARK', S, C.SO_MARK, 'int', INET, 'both', 'Firewall mark (fwmark) for routing and filtering', { privilege: 'CAP_NET_ADMIN' }),
  opt('SO_PRIORITY', S, C.SO_PRIORITY, 'int', ALL, 'both', 'Queueing priority of sent packets (0-6 unprivileged)', { privilege: 'CAP_NET_ADMIN' }),
  opt('SO_TIMESTAMP', S, C.SO_TIMESTAMP, 'flag', ALL, 'both', 'Receive time as SCM_TIMESTAMP (timeval) ancillary data'),
  opt('SO_TIMESTAMPNS', S, C.SO_TIMESTAMPNS, 'flag', ALL, 'both', 'Receive time as SCM_TIMESTAMPNS (timespec) ancillary data'),
  opt('SO_PROTOCOL', S, C.SO_PROTOCOL, 'int', ALL, 'get', 'Get socket protocol'),
  opt('SO_DOMAIN', S, C.SO_DOMAIN, 'int', ALL, 'get', 'Get socket domain (address family)'),
  opt('SO_ACCEPTCONN', S, C.SO_ACCEPTCONN, 'flag', STREAM, 'get', 'Socket is listening'),
  opt('SO_RCVBUFFORCE', S, C.SO_RCVBUFFORCE, 'int', ALL, 'set', 'Receive buffer size beyond net.core.rmem_max', { privilege: 'CAP_NET_ADMIN' }),
  opt('SO_SNDBUFFORCE', S, C.SO_SNDBUFFORCE, 'int', ALL, 'set', 'Send buffer size beyond net.core.wmem_max', { privilege: 'CAP_NET_ADMIN' }),
  opt('SO_PASSCRED', S, C.SO_PASSCRED, 'flag', UNIX, 'both', 'Receive SCM_CREDENTIALS ancillary data'),
  opt('SO_PEERCRED', S, C.SO_PEERCRED, 'ucred', UNIX, 'get', 'Credentials of the peer process'),

  // IPPROTO_IP (UNP 7.6)
  opt('IP_HDRINCL', IP, C.IP_HDRINCL, 'flag', ['raw4'], 'both', 'IP header included with data'),
  opt('IP_OPTIONS', IP, C.IP_OPTIONS, 'bytes', V4, 'both', 'IP header options'),
  missing('IP_RECVDSTADDR', IP, 'flag', 'Return destination IP address', 'BSD; Linux has IP_PKTINFO'),
  missing('IP_RECVIF', IP, 'flag', 'Return received interface index', 'BSD; Linux has IP_PKTINFO'),
  opt('IP_TOS', IP, C.IP_TOS, 'int', V4, 'both', 'Type-of-service (DSCP and ECN) of sent packets'),
  opt('IP_TTL', IP, C.IP_TTL, 'int', V4, 'both', 'TTL of sent unicast packets (-1: the system default)'),
  opt('IP_MULTICAST_IF', IP, C.IP_MULTICAST_IF, 'in_addr', V4_DGRAM, 'both', 'Interface (its address) for outgoing multicast'),
  opt('IP_MULTICAST_TTL', IP, C.IP_MULTICAST_TTL, 'int', V4_DGRAM, 'both', 'TTL of outgoing multicast'),
  opt('IP_MULTICAST_LOOP', IP, C.IP_MULTICAST_LOOP, 'flag', V4_DGRAM, 'both', 'Loopback of outgoing multicast'),
  opt('IP_ADD_MEMBERSHIP', IP, C.IP_ADD_MEMBERSHIP, 'ip_mreqn', V4_DGRAM, 'set', 'Join a multicast group'),
  opt('IP_DROP_MEMBERSHIP', IP, C.IP_DROP_MEMBERSHIP, 'ip_mreqn', V4_DGRAM, 'set', 'Leave a multicast group'),
  opt('IP_BLOCK_SOURCE', IP, C.IP_BLOCK_SOURCE, 'ip_mreq_source', V4_DGRAM, 'set', 'Block multicast source'),
  opt('IP_UNBLOCK_SOURCE', IP, C.IP_UNBLOCK_SOURCE, 'ip_mreq_source', V4_DGRAM, 'set', 'Unblock multicast source'),
  opt('IP_ADD_SOURCE_MEMBERSHIP', IP, C.IP_ADD_SOURCE_MEMBERSHIP, 'ip_mreq_source', V4_DGRAM, 'set', 'Join source-specific group'),
  opt('IP_DROP_SOURCE_MEMBERSHIP', IP, C.IP_DROP_SOURCE_MEMBERSHIP, 'ip_mreq_source', V4_DGRAM, 'set', 'Leave source-specific group'),
  // IPPROTO_IP, Linux
  opt('IP_RECVTTL', IP, C.IP_RECVTTL, 'flag', V4_DGRAM, 'both', 'Receive the TTL as ancillary data'),
  opt('IP_RECVTOS', IP, C.IP_RECVTOS, 'flag', V4_DGRAM, 'both', 'Receive the TOS as ancillary data'),
  opt('IP_PKTINFO', IP, C.IP_PKTINFO, 'flag', V4_DGRAM, 'both', 'Receive destination address and interface as ancillary data'),
  opt('IP_RECVERR', IP, C.IP_RECVERR, 'flag', V4, 'both', 'Queue extended errors (ICMP) for MSG_ERRQUEUE'),
  opt('IP_MTU_DISCOVER', IP, C.IP_MTU_DISCOVER, 'int', V4, 'both', 'Path MTU discovery: 0 dont, 1 want, 2 do, 3 probe', { names: PMTUDISC }),
  opt('IP_MTU', IP, C.IP_MTU, 'int', V4, 'get', 'Path MTU of a connected socket'),
  opt('IP_FREEBIND', IP, C.IP_FREEBIND, 'flag', V4, 'both', 'Allow binding to an address not (yet) configured'),
  opt('IP_TRANSPARENT', IP, C.IP_TRANSPARENT, 'flag', V4, 'both', 'Transparent proxying (TPROXY)', { privilege: 'CAP_NET_ADMIN' }),
  opt('IP_BIND_ADDRESS_NO_PORT', IP, C.IP_BIND_ADDRESS_NO_PORT, 'flag', ['tcp4', 'udp4'], 'both', 'Delay port allocation of bind(2) to connect(2)'),
  opt('IP_MULTICAST_ALL', IP, C.IP_MULTICAST_ALL, 'flag', V4_DGRAM, 'both', 'Receive multicast of groups joined by any socket'),

  // IPPROTO_IP or IPPROTO_IPV6 (UNP 21.6, RFC 3678)
  opt('MCAST_JOIN_GROUP', IP, C.MCAST_JOIN_GROUP, 'group_req', INET_DGRAM, 'set', 'Join a multicast group (IPv4 or IPv6)', { perFamily: true }),
  opt('MCAST_LEAVE_GROUP', IP, C.MCAST_LEAVE_GROUP, 'group_req', INET_DGRAM, 'set', 'Leave a multicast group', { perFamily: true }),
  opt('MCAST_BLOCK_SOURCE', IP, C.MCAST_BLOCK_SOURCE, 'group_source_req', INET_DGRAM, 'set', 'Block multicast source', { perFamily: true }),
  opt('MCAST_UNBLOCK_SOURCE', IP, C.MCAST_UNBLOCK_SOURCE, 'group_source_req', INET_DGRAM, 'set', 'Unblock multicast source', { perFamily: true }),
  opt('MCAST_JOIN_SOURCE_GROUP', IP, C.MCAST_JOIN_SOURCE_GROUP, 'group_source_req', INET_DGRAM, 'set', 'Join source-specific group', { perFamily: true }),
  opt('MCAST_LEAVE_SOURCE_GROUP', IP, C.MCAST_LEAVE_SOURCE_GROUP, 'group_source_req', INET_DGRAM, 'set', 'Leave source-specific group', { perFamily: true }),

  // IPPROTO_ICMPV6 (UNP 7.7)
  opt('ICMP6_FILTER', C.IPPROTO_ICMPV6, C.ICMP6_FILTER, 'icmp6_filter', ['raw6'], 'both', 'ICMPv6 message types to pass'),
  // SOL_RAW, Linux raw(7)
  opt('ICMP_FILTER', C.SOL_RAW, C.ICMP_FILTER, 'icmp_filter', ['raw4'], 'both', 'ICMP message types (0-31) to block on a raw ICMP socket'),

  // IPPROTO_IPV6 (UNP 7.8, 22.8)
  opt('IPV6_CHECKSUM', IP6, C.IPV6_CHECKSUM, 'int', ['raw6'], 'both', 'Offset of checksum field for raw sockets (-1: none)'),
  opt('IPV6_DONTFRAG', IP6, C.IPV6_DONTFRAG, 'flag', V6_DGRAM, 'both', 'Drop instead of fragment large packets'),
  opt('IPV6_NEXTHOP', IP6, C.IPV6_NEXTHOP, 'sockaddr_in6', V6, 'set', 'Specify next-hop address', { privilege: 'CAP_NET_RAW' }),
  opt('IPV6_PATHMTU', IP6, C.IPV6_PATHMTU, 'ip6_mtuinfo', V6, 'get', 'Retrieve current path MTU'),
  opt('IPV6_RECVDSTOPTS', IP6, C.IPV6_RECVDSTOPTS, 'flag', V6, 'both', 'Receive destination options'),
  opt('IPV6_RECVHOPLIMIT', IP6, C.IPV6_RECVHOPLIMIT, 'flag', V6, 'both', 'Receive unicast hop limit'),
  opt('IPV6_RECVHOPOPTS', IP6, C.IPV6_RECVHOPOPTS, 'flag', V6, 'both', 'Receive hop-by-hop options'),
  opt('IPV6_RECVPATHMTU', IP6, C.IPV6_RECVPATHMTU, 'flag', V6, 'both', 'Receive path MTU'),
  opt('IPV6_RECVPKTINFO', IP6, C.IPV6_RECVPKTINFO, 'flag', V6, 'both', 'Receive packet information'),
  opt('IPV6_RECVRTHDR', IP6, C.IPV6_RECVRTHDR, 'flag', V6, 'both', 'Receive source route'),
  opt('IPV6_RECVTCLASS', IP6, C.IPV6_RECVTCLASS, 'flag', V6, 'both', 'Receive traffic class'),
  opt('IPV6_TCLASS', IP6, C.IPV6_TCLASS, 'int', V6, 'both', 'Traffic class of sent packets (-1: default)'),
  opt('IPV6_UNICAST_HOPS', IP6, C.IPV6_UNICAST_HOPS, 'int', V6, 'both', "Default unicast hop limit (-1: the route's)"),
  missing('IPV6_USE_MIN_MTU', IP6, 'int', 'Use minimum MTU', 'Linux has IPV6_MTU_DISCOVER and IPV6_MTU'),
  opt('IPV6_V6ONLY', IP6, C.IPV6_V6ONLY, 'flag', V6, 'both', 'Disable v4 compatibility'),
  opt('IPV6_MULTICAST_IF', IP6, C.IPV6_MULTICAST_IF, 'int', V6_DGRAM, 'both', 'Interface (index) for outgoing multicast'),
  opt('IPV6_MULTICAST_HOPS', IP6, C.IPV6_MULTICAST_HOPS, 'int', V6_DGRAM, 'both', 'Hop limit for outgoing multicast'),
  opt('IPV6_MULTICAST_LOOP', IP6, C.IPV6_MULTICAST_LOOP, 'flag', V6_DGRAM, 'both', 'Loopback of outgoing multicast'),
  opt('IPV6_JOIN_GROUP', IP6, C.IPV6_JOIN_GROUP, 'ipv6_mreq', V6_DGRAM, 'set', 'Join a multicast group'),
  opt('IPV6_LEAVE_GROUP', IP6, C.IPV6_LEAVE_GROUP, 'ipv6_mreq', V6_DGRAM, 'set', 'Leave a multicast group'),
  // IPPROTO_IPV6, Linux
  opt('IPV6_RECVERR', IP6, C.IPV6_RECVERR, 'flag', V6, 'both', 'Queue extended errors (ICMPv6) for MSG_ERRQUEUE'),
  opt('IPV6_MTU_DISCOVER', IP6, C.IPV6_MTU_DISCOVER, 'int', V6, 'both', 'Path MTU discovery: 0 dont, 1 want, 2 do, 3 probe', { names: PMTUDISC }),
  opt('IPV6_MTU', IP6, C.IPV6_MTU, 'int', V6, 'both', 'Path MTU of a connected socket'),

  // IPPROTO_TCP (UNP 7.9, figure 7.2, and tcp(7))
  opt('TCP_MAXSEG', TCPL, C.TCP_MAXSEG, 'int', TCP, 'both', 'TCP maximum segment size'),
  opt('TCP_NODELAY', TCPL, C.TCP_NODELAY, 'flag', TCP, 'both', 'Disable Nagle algorithm'),
  opt('TCP_KEEPIDLE', TCPL, C.TCP_KEEPIDLE, 'int', TCP, 'both', 'Idle seconds before keepalive probes'),
  opt('TCP_KEEPINTVL', TCPL, C.TCP_KEEPINTVL, 'int', TCP, 'both', 'Seconds between keepalive probes'),
  opt('TCP_KEEPCNT', TCPL, C.TCP_KEEPCNT, 'int', TCP, 'both', 'Keepalive probes before giving up'),
  opt('TCP_CORK', TCPL, C.TCP_CORK, 'flag', TCP, 'both', 'Send only full segments until uncorked'),
  opt('TCP_QUICKACK', TCPL, C.TCP_QUICKACK, 'flag', TCP, 'both', 'Acknowledge at once (quickack mode, not permanent)'),
  opt('TCP_CONGESTION', TCPL, C.TCP_CONGESTION, 'string', TCP, 'both', 'Congestion control algorithm'),
  opt('TCP_USER_TIMEOUT', TCPL, C.TCP_USER_TIMEOUT, 'int', TCP, 'both', 'Milliseconds unacknowledged data may wait before the connection is dropped'),
  opt('TCP_SYNCNT', TCPL, C.TCP_SYNCNT, 'int', TCP, 'both', 'SYN retransmits before connect gives up'),
  opt('TCP_LINGER2', TCPL, C.TCP_LINGER2, 'int', TCP, 'both', 'Lifetime of orphaned FIN_WAIT2 sockets (seconds)'),
  opt('TCP_DEFER_ACCEPT', TCPL, C.TCP_DEFER_ACCEPT, 'int', TCP, 'both', 'Wake the listener only when data arrives (seconds)'),
  opt('TCP_WINDOW_CLAMP', TCPL, C.TCP_WINDOW_CLAMP, 'int', TCP, 'both', 'Bound on the advertised window'),
  opt('TCP_FASTOPEN', TCPL, C.TCP_FASTOPEN, 'int', TCP, 'both', 'TCP Fast Open queue length of a listener (RFC 7413)'),
  opt('TCP_NOTSENT_LOWAT', TCPL, C.TCP_NOTSENT_LOWAT, 'int', TCP, 'both', 'Unsent bytes below which the socket is writable'),
  opt('TCP_INFO', TCPL, C.TCP_INFO, 'tcp_info', TCP, 'get', 'Connection state, RTT, window and counters'),
] as const;

// IPPROTO_SCTP (UNP 7.10, figure 7.2)
const SCTP_OPTIONS: readonly SockOpt[] = [
  'SCTP_ADAPTION_LAYER',
  'SCTP_ASSOCINFO',
  'SCTP_AUTOCLOSE',
  'SCTP_DEFAULT_SEND_PARAM',
  'SCTP_DISABLE_FRAGMENTS',
  'SCTP_EVENTS',
  'SCTP_GET_PEER_ADDR_INFO',
  'SCTP_I_WANT_MAPPED_V4_ADDR',
  'SCTP_INITMSG',
  'SCTP_MAXBURST',
  'SCTP_MAXSEG',
  'SCTP_NODELAY',
  'SCTP_PEER_ADDR_PARAMS',
  'SCTP_PRIMARY_ADDR',
  'SCTP_RTOINFO',
  'SCTP_SET_PEER_PRIMARY_ADDR',
  'SCTP_STATUS',
].map((n) => missing(n, SCTP, 'int', 'SCTP option (UNP 7.10)', NO_SCTP));

/** Every option sockit knows, in checkopts order: by level, the book's options first. */
export const OPTIONS: readonly SockOpt[] = [...TYPED, ...SCTP_OPTIONS];

type Entry = (typeof TYPED)[number];
/** The names of the options sockit can get or set. */
export type OptionName = Entry['name'];
type TypeOf<N extends string> = Extract<Entry, { name: N }>['type'];
/** The typed value of option N, e.g. number for 'SO_RCVBUF', Linger for 'SO_LINGER'. */
export type ValueOf<N extends string> = N extends OptionName ? ValueTypes[TypeOf<N>] : OptionValue;

const BY_NAME = new Map<string, SockOpt>(OPTIONS.map((o) => [o.name, o]));
const ALIASES: Record<string, string> = {
  IPV6_ADD_MEMBERSHIP: 'IPV6_JOIN_GROUP',
  IPV6_DROP_MEMBERSHIP: 'IPV6_LEAVE_GROUP',
  IPV6_HOPLIMIT: 'IPV6_UNICAST_HOPS',
};

/** The option called `name` (any case; the book's and the kernel's aliases accepted). */
export function findOption(name: string): SockOpt | undefined {
  const n = name.trim().toUpperCase();
  return BY_NAME.get(n) ?? BY_NAME.get(ALIASES[n] ?? '');
}

export function requireOption(name: string): SockOpt {
  const o = findOption(name);
  if (!o) throw new OptionValueError(`unknown socket option '${name}'`);
  return o;
}

/** The socket UNP's checkopts opens for an option: by level (figure 7.3). */
export function bookKind(o: SockOpt): SockKind {
  switch (o.level) {
    case C.IPPROTO_IPV6:
      return 'tcp6';
    case C.IPPROTO_ICMPV6:
      return 'raw6';
    case C.SOL_RAW:
      return 'raw4';
    default:
      return 'tcp4';
  }
}

/** The level to use on this socket (MCAST_* follow the socket's family). */
export function levelFor(o: SockOpt, sock: { domain: number }): number {
  return o.perFamily && sock.domain === C.AF_INET6 ? C.IPPROTO_IPV6 : o.level;
}

// ---------- codecs: bytes <-> typed values ----------

interface Codec<T> {
  /** getsockopt buffer size */
  size: number;
  decode(b: Buffer): T;
  encode(v: T): Buffer | number;
}

function filterOf(s: Set<number>): IcmpTypeFilter {
  return { blocked: [...s].sort((a, b) => a - b) };
}

/** The error for setting what can only be read (for the parsers in sockopt/parse.ts too). */
export function readOnly(what: string): never {
  throw new OptionValueError(`${what} is read-only`);
}

function cstring(b: Buffer): string {
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString('latin1');
}

const CODECS: { [T in ValueType]: Codec<ValueTypes[T]> } = {
  flag: { size: 4, decode: (b) => structs.int.decode(b) !== 0, encode: (v) => (v ? 1 : 0) },
  int: { size: 4, decode: (b) => structs.int.decode(b), encode: (v) => v },
  linger: { size: structs.linger.size, decode: structs.linger.decode, encode: structs.linger.encode },
  timeval: { size: structs.timeval.size, decode: structs.timeval.decode, encode: structs.timeval.encode },
  in_addr: { size: 4, decode: structs.inAddr.decode, encode: structs.inAddr.encode },
  ip_mreqn: { size: structs.ipMreqn.size, decode: structs.ipMreqn.decode, encode: structs.ipMreqn.encode },
  ip_mreq_source: { size: structs.ipMreqSource.size, decode: structs.ipMreqSource.decode, encode: structs.ipMreqSource.encode },
  ipv6_mreq: { size: structs.ipv6Mreq.size, decode: structs.ipv6Mreq.decode, encode: structs.ipv6Mreq.encode },
  group_req: { size: structs.groupReq.size, decode: structs.groupReq.decode, encode: structs.groupReq.encode },
  group_source_req: { size: structs.groupSourceReq.size, decode: structs.groupSourceReq.decode, encode: structs.groupSourceReq.encode },
  sockaddr_in6: {
    size: 28,
    decode: (b) => formatIPv6(b, 8),
    encode: (v) => encodeSockaddr({ family: 10, address: v, port: 0 }),
  },
  icmp6_filter: {
    size: structs.icmp6Filter.size,
    decode: (b) => filterOf(structs.icmp6Filter.decode(b)),
    encode: (v) => structs.icmp6Filter.encode(new Set(v.blocked)),
  },
  icmp_filter: {
    size: structs.icmpFilter.size,
    decode: (b) => filterOf(structs.icmpFilter.decode(b)),
    encode: (v) => structs.icmpFilter.encode(new Set(v.blocked)),
  },
  ucred: { size: structs.ucred.size, decode: structs.ucred.decode, encode: () => readOnly('SO_PEERCRED') },
  // IFNAMSIZ and TCP_CA_NAME_MAX are both 16
  string: { size: 16, decode: cstring, encode: (v) => Buffer.from(v, 'latin1') },
  bytes: { size: 40, decode: (b) => Buffer.from(b), encode: (v) => v },
  ip6_mtuinfo: { size: structs.ip6MtuInfo.size, decode: structs.ip6MtuInfo.decode, encode: () => readOnly('IPV6_PATHMTU') },
  tcp_info: {
    // ask for more than the decoder knows: the kernel returns min(asked, its size)
    size: 512,
    decode: (b) => {
      const v = structs.tcpInfo.decode(b);
      if (!v) throw new OptionValueError(`TCP_INFO: the kernel returned ${b.length} bytes, fewer than the 104 of Linux 2.6`);
      return v;
    },
    encode: () => readOnly('TCP_INFO'),
  },
};

function codec(o: SockOpt): Codec<OptionValue> {
  return CODECS[o.type] as Codec<OptionValue>;
}

/** Throws for an option Linux does not have (for the parsers in sockopt/parse.ts too). */
export function usable(o: SockOpt): void {
  if (o.undefined) throw new OptionValueError(`${o.name} is not defined on Linux (${o.undefined})`);
}

// ---------- get / set ----------

/** getsockopt(2) as bytes, exactly what the kernel wrote. */
export function getRaw(sock: Socket, o: SockOpt): Buffer {
  usable(o);
  return sock.getsockopt(levelFor(o, sock), o.optname, codec(o).size);
}

/** getsockopt(2), decoded: getOption(s, 'SO_RCVBUF') is a number. Throws the system error. */
export function getOption<N extends OptionName>(sock: Socket, name: N): ValueOf<N>;
/** getsockopt(2) of an option looked up at run time (findOption / requireOption). */
export function getOption(sock: Socket, option: SockOpt): OptionValue;
export function getOption(sock: Socket, name: string | SockOpt): OptionValue {
  const o = typeof name === 'string' ? requireOption(name) : name;
  return codec(o).decode(getRaw(sock, o));
}

/** setsockopt(2) with a typed value: setOption(s, 'SO_RCVBUF', 65536). Throws the system error. */
export function setOption<N extends OptionName>(sock: Socket, name: N, value: ValueOf<N>): void;
/** setsockopt(2) of an option looked up at run time, with a value from parseValue. */
export function setOption(sock: Socket, option: SockOpt, value: OptionValue): void;
export function setOption(sock: Socket, name: string | SockOpt, value: OptionValue): void {
  const o = typeof name === 'string' ? requireOption(name) : name;
  usable(o);
  if (o.access === 'get') readOnly(o.name);
  sock.setsockopt(levelFor(o, sock), o.optname, codec(o).encode(value));
}

/** The outcome of reading one option: its value or the kernel's error. */
export type Reading =
  | { option: SockOpt; value: OptionValue; error?: undefined; undefined?: undefined }
  | { option: SockOpt; error: SystemError; value?: undefined; undefined?: undefined }
  | { option: SockOpt; undefined: string; value?: undefined; error?: undefined };

/** Read an option without throwing for the kernel's refusals (UNP checkopts). */
export function readOption(sock: Socket, o: SockOpt): Reading {
  if (o.undefined) return { option: o, undefined: o.undefined };
  try {
    return { option: o, value: getOption(sock, o) };
  } catch (e) {
    if (isSystemError(e)) return { option: o, error: e };
    throw e;
  }
}

export * from './sockopt/parse.js';
export * from './sockopt/format.js';
export * from './sockopt/kernel.js';
export * from './sockopt/session.js';
