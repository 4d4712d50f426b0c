// ss's text: the column model of iproute2 misc/ss.c (6.1, with the Process
// column of 6.8: see Layout). Every field is a
// token of a column; widths come from the longest token (the header's
// included) plus the column's left delimiter. On a pipe the columns are as
// compact as that; on a TTY the spare width of the terminal is spread over
// them (render_calc_width). Output is buffered as ss buffers it, and
// rendered when about 4 MiB of tokens have piled up (BUF_CHUNKS_MAX).
import { protocolName, serviceName } from '../../stack/inventory/names.js';
import type { InetSocket, NetlinkDiagMsg, Owner, Owners, PacketDiagMsg, SocketEntry, UnixSocket } from '../../stack/inventory/index.js';
import { digits } from '../../output/bytes.js';
import { NETLINK_CONNECTED, PDI_AUXDATA, PDI_LOSS, PDI_ORIGDEV, PDI_RUNNING, PDI_VNETHDR, type PacketDiagRing } from '../../stack/abi/packet_diag.js';
import { tcpInfoText } from './tcpinfo.js';

export const COL = { NETID: 0, STATE: 1, RECVQ: 2, SENDQ: 3, ADDR: 4, SERV: 5, RADDR: 6, RSERV: 7, PROC: 8, EXT: 9 } as const;
export const ALIGN_RIGHT = new Set<number>([COL.ADDR, COL.RADDR]);
export const LDELIM = ['', ' ', ' ', ' ', ' ', '', ' ', '', '', ''];
// The last column's header is never printed (print_header stops before it).
export const HEADER = ['Netid', 'State', 'Recv-Q', 'Send-Q', 'Local Address:', 'Port', 'Peer Address:', 'Port', 'Process', ''];

/**
 * Where "Process" goes. iproute2 6.1 numbered its columns EXT then PROC while
 * the headers read "Process" then "": the Process header sat over the EXT
 * column, printed with or without -p (glued to "Peer Address:Port" when the
 * port column is four wide, as with -l), and users:(...) shared EXT's token.
 * iproute2 6.8 (commits 1607bf53, 87d804ca) made PROC the ninth column, shown
 * only with -p, and EXT the last: that fixed layout is sockit's; '6.1'
 * reproduces the old one (SOCKIT_SS_LAYOUT=6.1, for comparing with ss 6.1).
 */
export type Layout = 'fixed' | '6.1';

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

/** A 1 MiB chunk less its header, and when ss renders (at the 5th chunk). */
const CHUNK = 1024 * 1024 - 16;
const RENDER_AT = 4 * CHUNK;

/**
 * ss's column bookkeeping, apart from how lines are kept: each line's token
 * lengths measured as ss measures them, when ss renders (RENDER_AT), and
 * the widths the render uses. Table keeps token strings; the fast listing
 * (fast.ts) keeps numbers and writes bytes.
 */
export abstract class Columns {
  protected readonly maxLen = new Array<number>(10).fill(0);
  private bytes = 0;
  protected readonly disabled: boolean[];
  // ss measures a field when it moves past it: the last written column of a
  // line is measured when the next line starts, so the final line's never is
  // before the render (fixed: EXT; 6.1: the token under "Process")
  protected readonly held: number;
  protected pending = 0;
  /** the token lengths of the line being added (measure() reads them) */
  protected readonly lens = new Int32Array(10);

  constructor(
    disabled: boolean[],
    protected readonly screenWidth: number | null,
    protected readonly layout: Layout = 'fixed',
    processes = false,
  ) {
    this.disabled = [...disabled];
    if (layout === 'fixed') this.disabled[COL.PROC] = !processes;
    this.held = layout === 'fixed' ? COL.EXT : COL.PROC;
  }

  abstract render(): void;

  /** Measure the line in `lens`; true when ss renders now (the caller renders). */
  protected measure(): boolean {
    const held = this.held;
    const maxLen = this.maxLen;
    const lens = this.lens;
    if (this.pending > maxLen[held]!) maxLen[held] = this.pending;
    let bytes = 0;
    for (let i = 0; i < 10; i++) {
      if (this.disabled[i]) continue;
      const n = lens[i]!;
      if (i !== held && n > maxLen[i]!) maxLen[i] = n;
      bytes += 2 + ((n + 1) & ~1);
    }
    this.pending = this.disabled[held] ? 0 : lens[held]!;
    return this.counted(bytes);
  }

  /** `bytes` more in ss's token buffer (2 and the even-rounded length per shown token): true when ss renders now. */
  protected counted(bytes: number): boolean {
    this.bytes += bytes;
    if (this.bytes < RENDER_AT) return false;
    // ss renders as it leaves a line's last column: 6.1's held token was
    // measured by then (the empty PROC came after it), the fixed EXT is not
    if (this.held !== COL.EXT && this.pending > this.maxLen[this.held]!) this.maxLen[this.held] = this.pending;
    this.pending = 0;
    return true;
  }

  /** After a render: nothing buffered, nothing measured. */
  protected reset(): void {
    this.bytes = 0;
    this.pending = 0;
    this.maxLen.fill(0);
  }

  /** The shown columns in order, each with its delimiter (none before the first), width and alignment. */
  protected layoutColumns(): { cols: number[]; delim: string[]; width: number[]; right: boolean[] } {
    const w = this.widths();
    const cols: number[] = [];
    for (let i = 0; i < 10; i++) if (!this.disabled[i]) cols.push(i);
    return {
      cols,
      delim: cols.map((c, k) => (k ? LDELIM[c]! : '')),
      width: cols.map((c) => w[c]!),
      right: cols.map((c) => ALIGN_RIGHT.has(c) && w[c]! > 0),
    };
  }

  /** Column k of a layout holding `text`: its delimiter and the text padded to the width (before it when right-aligned). */
  protected static cell(cols: { delim: string[]; width: number[]; right: boolean[] }, k: number, text: string): string {
    const d = cols.delim[k]!,
      w = cols.width[k]!;
    const room = w ? w - d.length - text.length : 0;
    const pad = room > 0 ? ' '.repeat(room) : '';
    return cols.right[k] ? d + pad + text : d + text + pad;
  }

  private widths(): number[] {
    const w = new Array<number>(10).fill(0);
    let first = true;
    for (let i = 0; i < 10; i++) {
      if (this.disabled[i]) continue;
      w[i] = !first && this.maxLen[i] ? this.maxLen[i] + LDELIM[i].length : this.maxLen[i];
      if (this.screenWidth !== null) w[i] = Math.min(w[i], this.screenWidth);
      if (w[i]) first = false;
    }
    if (this.screenWidth !== null) spread(w, this.screenWidth);
    return w;
  }
}

export class Table extends Columns {
  // each line's tokens, kept until the render (ss keeps its token buffer too): the
  // widths are the longest tokens of everything buffered
  private rows: string[][] = [];

  constructor(
    disabled: boolean[],
    private readonly write: (s: string) => void,
    screenWidth: number | null,
    layout: Layout = 'fixed',
    processes = false,
  ) {
    super(disabled, screenWidth, layout, processes);
  }

  header(): void {
    this.add(HEADER.slice());
  }

  /** One line's tokens: COL.PROC holds users:(...), COL.EXT the rest. */
  row(tokens: string[]): void {
    // 6.1 wrote users:(...) and the rest into the one token under "Process"
    if (this.layout === '6.1') tokens = [...tokens.slice(0, COL.PROC), tokens[COL.PROC]! + tokens[COL.EXT]!, ''];
    this.add(tokens);
  }

  private add(tokens: string[]): void {
    for (let i = 0; i < 10; i++) this.lens[i] = tokens[i]!.length;
    this.rows.push(tokens);
    if (this.measure()) this.render();
  }

  render(): void {
    if (this.rows.length === 0) return;
    const { cols, delim, width, right } = this.layoutColumns();
    const ncols = cols.length;
    let out = '';
    for (const t of this.rows) {
      let line = '';
      for (let k = 0; k < ncols; k++) {
        const tok = t[cols[k]!]!;
        const d = delim[k]!;
        const room = width[k]! - d.length - tok.length;
        // a right-aligned column pads before its token, the others after (a width of 0: no padding)
        if (room > 0 && width[k]) line += right[k] ? d + spaces(room) + tok : d + tok + spaces(room);
        else line += d + tok;
      }
      out += line + '\n';
      if (out.length >= WRITE_CHUNK) {
        this.write(out);
        out = '';
      }
    }
    if (out) this.write(out);
    this.rows = [];
    this.reset();
  }
}

const WRITE_CHUNK = 64 * 1024;
// every padding up to 256 made once: a slice this short would be a copy on each call
const PADDING = Array.from({ length: 257 }, (_, n) => ' '.repeat(n));
const spaces = (n: number): string => (n <= 256 ? PADDING[n]! : ' '.repeat(n));

/** render_calc_width's second pass: break lines at the screen width, spread the spare space. */
function spread(w: number[], screen: number): void {
  let len = 0,
    linecols = 0,
    eol = -1;
  for (let c = 0; c < 10; c++) {
    if (!w[c]) continue;
    linecols++;
    len += w[c];
    let last = true;
    for (let t = c + 1; t < 10; t++)
      if (w[t]) {
        last = false;
        break;
      }
    if (!last && len < screen) continue;
    if (len !== screen) {
      if (len > screen) {
        len -= w[c];
        c--;
        linecols--;
      }
      const pad = screen - len;
      const spacing = linecols ? Math.floor(pad / linecols) : 0;
      let rem = linecols ? pad % linecols : 0;
      for (let t = c; t > eol; t--) {
        if (!w[t]) continue;
        w[t] += spacing;
        if (rem) {
          w[t]++;
          rem--;
        }
      }
    }
    eol = c;
    len = 0;
    linecols = 0;
  }
}

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
