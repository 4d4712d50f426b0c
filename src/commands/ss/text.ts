// ss's tokens: what each socket kind prints in each column, as misc/ss.c's
// inet_stats_print, unix_stats_print, packet_show_sock and netlink_show_one
// print it (the columns themselves: columns.ts).
import { protocolName, serviceName } from '../../stack/inventory/names.js';
import type { InetSocket, NetlinkDiagMsg, Owner, Owners, PacketDiagMsg, SocketEntry, UnixSocket } from '../../stack/inventory/index.js';
import { digits } from '../../output/bytes.js';
import { NETLINK_CONNECTED, PDI_AUXDATA, PDI_LOSS, PDI_ORIGDEV, PDI_RUNNING, PDI_VNETHDR, type PacketDiagRing } from '../../stack/abi/packet_diag.js';
import { tcpInfoText } from './tcpinfo.js';

/** sstate_name[] of ss, indexed by TCP_* */
export const SS_STATE = [
  'UNKNOWN',
  'ESTAB',
  'SYN-SENT',
  'SYN-RECV',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'TIME-WAIT',
  'UNCONN',
  'CLOSE-WAIT',
  'LAST-ACK',
  'LISTEN',
  'CLOSING',
];
const TIMER = ['off', 'on', 'keepalive', 'timewait', 'persist', 'unknown'];

export interface TextOptions {
  numeric: boolean;
  processes: boolean;
  extended: boolean;
  timers: boolean;
  memory: boolean;
  info: boolean;
  /** -O: the second line's fields on the first */
  oneline?: boolean;
  owners?: { get(inode: number): Owner[] | undefined };
  ifname(index: number): string | undefined;
  cgroupPath(id: number): string;
}

const UNIX_NETID: Record<number, string> = { 1: 'u_str', 5: 'u_seq' };

/** ss's netid for a record */
export function netid(s: SocketEntry): string {
  if (s.table === 'unix') return UNIX_NETID[s.type] ?? 'u_dgr';
  return s.table;
}

const IN6_ANY = '::';

/** an inet address as ss prints it: IPv6 in brackets, the IPv6 wildcard of a dual-stack socket as '*' */
export function inetAddr(address: string, family: number, v6only: boolean): string {
  if (family === 2) return address;
  if (!v6only && address === IN6_ANY) return '*';
  return address.includes(':') ? `[${address}]` : address;
}

/** a port as ss prints it: '*' for 0, else the service name unless numeric */
export function service(port: number, table: InetSocket['table'], numeric: boolean): string {
  if (port === 0) return '*';
  if (numeric) return String(port);
  if (table === 'raw') return protocolName(port) ?? String(port);
  return serviceName(port, table) ?? String(port);
}

/** print_ms_timer: "1min30sec", "2.500ms"-style fragments as ss writes them */
export function msTimer(timeout: number): string {
  let secs = Math.floor(timeout / 1000);
  const minutes = Math.floor(secs / 60);
  secs %= 60;
  let msecs = timeout % 1000;
  let buf = '';
  if (minutes) {
    msecs = 0;
    buf = `${minutes}min`;
    if (minutes > 9) secs = 0;
  }
  if (secs) {
    if (secs > 9) msecs = 0;
    buf += `${secs}${msecs ? '.' : 'sec'}`;
  }
  if (msecs) buf += `${String(msecs).padStart(3, '0')}ms`;
  return buf;
}

export function users(list: Owner[] | undefined): string {
  if (!list?.length) return '';
  return ` users:(${list.map((o) => `("${o.comm}",pid=${o.pid},fd=${o.fd})`).join(',')})`;
}

let usersLen = 0;
// ("comm",pid=N,fd=N): 13 characters and the three values, and a comma before each but the first
const addUser = (pid: number, fd: number, comm: string): void => {
  usersLen += (usersLen ? 14 : 13) + comm.length + digits(pid) + digits(fd);
};

/** users(owners.get(inode)).length, with nothing built */
export function usersLength(owners: Pick<Owners, 'forEach'> | undefined, inode: number): number {
  if (!owners) return 0;
  usersLen = 0;
  owners.forEach(inode, addUser);
  return usersLen ? usersLen + 9 : 0; // " users:(" and ")"
}

function skmem(m: UnixSocket['skmeminfo'] | undefined, meminfo?: InetSocket['meminfo']): string {
  if (!m) return meminfo ? ` mem:(r${meminfo.rmem},w${meminfo.wmem},f${meminfo.fmem},t${meminfo.tmem})` : '';
  let s = ` skmem:(r${m.rmem_alloc ?? 0},rb${m.rcvbuf ?? 0},t${m.wmem_alloc ?? 0},tb${m.sndbuf ?? 0},f${m.fwd_alloc ?? 0},w${m.wmem_queued ?? 0},o${m.optmem ?? 0}`;
  if (m.backlog !== undefined) s += `,bl${m.backlog}`;
  if (m.drops !== undefined) s += `,d${m.drops}`;
  return s + ')';
}

const shutdownMark = (mask: number): string => ` ${mask & 1 ? '-' : '<'}-${mask & 2 ? '-' : '>'}`;

// the Recv-Q/Send-Q tokens of small queues (most sockets' 0), made once
const QUEUE = Array.from({ length: 1024 }, (_, n) => String(n).padEnd(6));
const queue = (n: number): string => (n < 1024 ? QUEUE[n]! : String(n).padEnd(6));

/** The ten tokens of one inet socket (COL order). */
export function inetTokens(s: InetSocket, o: TextOptions): string[] {
  const v6only = s.family === 10 && s.v6only === 1;
  const ifname = s.ifindex ? o.ifname(s.ifindex) : undefined;
  const local = inetAddr(s.src, s.family, v6only);
  const proc = o.processes ? users(o.owners?.get(s.inode)) : '';
  let ext = '';
  if (o.timers && s.timer) ext += ` timer:(${TIMER[Math.min(s.timer, 5)]},${msTimer(s.expires)},${s.retrans})`;
  if (o.extended) {
    if (s.uid) ext += ` uid:${s.uid}`;
    ext += ` ino:${s.inode} sk:${s.cookie}`;
    if (s.mark) ext += ` fwmark:0x${s.mark.toString(16)}`;
    if (s.cgroupId) ext += ` cgroup:${o.cgroupPath(s.cgroupId)}`;
    if (s.family === 10 && s.v6only !== undefined) ext += ` v6only:${s.v6only}`;
    if (s.shutdown !== undefined) ext += shutdownMark(s.shutdown);
  }
  // ss: a second line for -m, and for -i but on UDP sockets (inet_show_sock)
  // (ss's /proc readers print no second line)
  if (!s.proc && (o.memory || (o.info && s.table !== 'udp')))
    ext += (o.oneline ? '' : '\n\t') + skmem(s.skmeminfo, s.meminfo) + (o.info ? tcpInfoText(s, o.numeric, o.timers) : '');
  return [
    netid(s),
    SS_STATE[s.state] ?? 'UNKNOWN',
    queue(s.rqueue),
    queue(s.wqueue),
    (ifname ? `${local}%${ifname}` : local) + ':',
    service(s.sport, s.table, o.numeric),
    inetAddr(s.dst, s.family, v6only) + ':',
    service(s.dport, s.table, o.numeric),
    proc,
    ext,
  ];
}

/** The ten tokens of one unix socket. */
export function unixTokens(s: UnixSocket, o: TextOptions): string[] {
  const proc = o.processes ? users(o.owners?.get(s.inode)) : '';
  let ext = '';
  if (o.memory) ext += skmem(s.skmeminfo);
  if (o.extended) {
    if (s.shutdown !== undefined) ext += shutdownMark(s.shutdown);
    if (s.vfs)
      // ss applies glibc's major()/minor() to the kernel's s_dev, and so do we
      ext += ` ino:${s.vfs.ino} dev:${(s.vfs.dev >>> 8) & 0xfff}/${(s.vfs.dev & 0xff) | ((s.vfs.dev >>> 12) & 0xfff00)}`;
    if (s.icons) ext += ' peers:' + s.icons.map((i) => ` ${i}`).join('');
  }
  return [
    netid(s),
    SS_STATE[s.state] ?? 'UNKNOWN',
    String(s.rqueue ?? 0).padEnd(6),
    String(s.wqueue ?? 0).padEnd(6),
    `${s.name ?? '*'} `,
    String(s.inode),
    '* ',
    String(s.peer ?? 0),
    proc,
    ext,
  ];
}

// ll_proto_n2a's names (iproute2 lib/ll_proto.c), by ethertype; the first of a value wins
const LL_PROTO: [number, string][] = [
  [0x0060, 'loop'],
  [0x0200, 'pup'],
  [0x0201, 'pupat'],
  [0x0800, 'ip'],
  [0x0805, 'x25'],
  [0x0806, 'arp'],
  [0x08ff, 'bpq'],
  [0x0a00, 'ieeepup'],
  [0x0a01, 'ieeepupat'],
  [0x6000, 'dec'],
  [0x6001, 'dna_dl'],
  [0x6002, 'dna_rc'],
  [0x6003, 'dna_rt'],
  [0x6004, 'lat'],
  [0x6005, 'diag'],
  [0x6006, 'cust'],
  [0x6007, 'sca'],
  [0x8035, 'rarp'],
  [0x809b, 'atalk'],
  [0x80f3, 'aarp'],
  [0x8137, 'ipx'],
  [0x86dd, 'ipv6'],
  [0x8863, 'ppp_disc'],
  [0x8864, 'ppp_ses'],
  [0x884c, 'atmmpoa'],
  [0x8884, 'atmfate'],
  [0x0001, '802_3'],
  [0x0002, 'ax25'],
  [0x0003, 'all'],
  [0x0004, '802_2'],
  [0x0005, 'snap'],
  [0x0006, 'ddcmp'],
  [0x0007, 'wan_ppp'],
  [0x0008, 'ppp_mp'],
  [0x0009, 'localtalk'],
  [0x000c, 'can'],
  [0x0010, 'ppptalk'],
  [0x0011, 'tr_802_2'],
  [0x0015, 'mobitex'],
  [0x0016, 'control'],
  [0x0017, 'irda'],
  [0x0018, 'econet'],
  [0x88ca, 'tipc'],
  [0x8892, 'profinet'],
  [0x88a2, 'aoe'],
  [0x88a4, 'ethercat'],
  [0x8100, '802.1Q'],
  [0x88a8, '802.1ad'],
  [0x8847, 'mpls_uc'],
  [0x8848, 'mpls_mc'],
  [0x6558, 'teb'],
  [0x88cc, 'LLDP'],
];
const LL_NAMES = new Map<number, string>();
for (const [v, n] of LL_PROTO) if (!LL_NAMES.has(v)) LL_NAMES.set(v, n);

/** ll_proto_n2a: an ethertype's name, "[2048]" with -n or when it has none */
export function llProtoName(proto: number, numeric: boolean): string {
  return (!numeric && LL_NAMES.get(proto)) || `[${proto}]`;
}

// nl_proto_n2a's names (iproute2 lib/rt_names.c), by NETLINK_* protocol
const NL_PROTO = [
  'rtnl',
  'unused',
  'usersock',
  'fw',
  'tcpdiag',
  'nflog',
  'xfrm',
  'selinux',
  'iscsi',
  'audit',
  'fiblookup',
  'connector',
  'nft',
  'ip6fw',
  'dec-rt',
  'uevent',
  'genl',
  undefined,
  'scsi-trans',
  'ecryptfs',
  'rdma',
  'crypto',
];

export function nlProtoName(proto: number, numeric: boolean): string {
  return (!numeric && NL_PROTO[proto]) || String(proto);
}

/** a number as get_u16/get_u32 with base 0 read it: decimal, 0x hex or 0 octal; null when it is none */
function cNumber(text: string, max: number): number | null {
  let v: number;
  if (/^0x[0-9a-f]+$/i.test(text)) v = parseInt(text.slice(2), 16);
  else if (/^0[0-7]*$/.test(text)) v = parseInt(text, 8);
  else if (/^[1-9]\d*$/.test(text)) v = Number(text);
  else return null;
  return v <= max ? v : null;
}

/** ll_proto_a2n: an ethertype by its name (any case) or number, host order */
export function llProtoNumber(name: string): number | null {
  const lower = name.toLowerCase();
  for (const [v, n] of LL_PROTO) if (n.toLowerCase() === lower) return v;
  return cNumber(name, 0xffff);
}

/** nl_proto_a2n: a NETLINK_* protocol by its name or number */
export function nlProtoNumber(name: string): number | null {
  const i = NL_PROTO.indexOf(name);
  return i >= 0 ? i : cNumber(name, 0xffffffff);
}

const FANOUT = ['hash', 'lb', 'cpu', 'roll', 'random', 'qm'];
const ring = (r: PacketDiagRing) =>
  `blk_size:${r.blockSize},blk_nr:${r.blockNr},frm_size:${r.frameSize},frm_nr:${r.frameNr},tmo:${r.retireTmo},features:0x${r.features.toString(16)}`;

export interface LinkTextOptions extends TextOptions {
  bpf: boolean;
}

/** " uid:N ino:N sk:X": sock_details_print */
function details(uid: number | undefined, inode: number, cookie: string): string {
  return `${uid ? ` uid:${uid}` : ''} ino:${inode} sk:${cookie}`;
}

/** The ten tokens of one packet socket (packet_stats_print, packet_show_sock). */
export function packetTokens(s: PacketDiagMsg, o: LinkTextOptions): string[] {
  const nl = o.oneline ? ' ' : '\n\t';
  const proc = o.processes ? users(o.owners?.get(s.inode)) : '';
  let ext = '';
  if (o.extended) {
    ext += details(s.uid, s.inode, s.cookie);
    const i = s.info;
    if (i) {
      const flags = [
        [PDI_RUNNING, 'running'],
        [PDI_AUXDATA, ' auxdata'],
        [PDI_ORIGDEV, ' origdev'],
        [PDI_VNETHDR, ' vnethdr'],
        [PDI_LOSS, ' loss'],
      ]
        .filter(([bit]) => i.flags & (bit as number))
        .map(([, n]) => n)
        .join('');
      ext += `${nl}ver:${i.version} cpy_thresh:${i.copyThresh} flags( ${i.flags ? flags : '0'} )`;
    }
    if (s.rxRing) ext += `${nl}ring_rx(${ring(s.rxRing)})`;
    if (s.txRing) ext += `${nl}ring_tx(${ring(s.txRing)})`;
    if (s.fanout !== undefined) {
      const type = (s.fanout >>> 16) & 0xffff;
      ext += `${nl}fanout(id:${s.fanout & 0xffff},type:${FANOUT[type] ?? `0x${type.toString(16)}`})`;
    }
  }
  if (o.bpf && s.filter)
    ext += `${nl}bpf filter (${s.filter.length}): ${s.filter.map((f) => ` 0x${f.code.toString(16).padStart(2, '0')} ${f.jt} ${f.jf} ${f.k},`).join('')}`;
  if (o.memory) ext += skmem(s.skmeminfo);
  const index = s.info?.index ?? s.proc?.ifindex ?? 0;
  return [
    s.type === 3 ? 'p_raw' : 'p_dgr',
    SS_STATE[7]!,
    String(s.proc ? s.proc.rmem : (s.skmeminfo?.rmem_alloc ?? 0)).padEnd(6),
    '0     ',
    `${s.protocol === 3 ? '*' : llProtoName(s.protocol, o.numeric)}:`,
    index ? (o.ifname(index) ?? `if${index}`) : '*',
    '*',
    '',
    proc,
    ext,
  ];
}

/** The ten tokens of one netlink socket (netlink_show_one); `comm` names a pid as /proc/PID/stat does */
export function netlinkTokens(s: NetlinkDiagMsg, o: TextOptions, comm: (pid: number) => string | undefined): string[] {
  const pid = s.portid | 0;
  let name: string;
  if (pid === -1) name = '*';
  else if (o.numeric) name = String(pid);
  else if (pid === 0) name = 'kernel';
  else {
    const c = pid > 0 ? comm(pid) : undefined;
    name = c !== undefined ? `${c}/${pid}` : String(pid);
  }
  const connected = s.state === NETLINK_CONNECTED;
  let ext = '';
  // from /proc/net/netlink ss prints the sk pointer and the Dump column; from netlink_diag zeros, and -m's skmem only
  if (o.extended) ext += ` sk=${s.proc?.sk ?? 0} cb=${s.proc?.cb ?? 0} groups=0x${(s.groups ?? 0).toString(16).padStart(8, '0')}`;
  if (o.memory && !s.proc) ext += `\t${skmem(s.skmeminfo)}`;
  return [
    'nl',
    SS_STATE[7]!,
    String(s.proc ? s.proc.rmem : (s.skmeminfo?.rmem_alloc ?? 0)).padEnd(6),
    String(s.proc ? s.proc.wmem : (s.skmeminfo?.wmem_alloc ?? 0)).padEnd(6),
    `${nlProtoName(s.protocol, o.numeric)}:`,
    name,
    connected ? `${s.dstGroup | 0}:` : '*',
    connected ? String(s.dstPortid | 0) : '',
    '',
    ext,
  ];
}
