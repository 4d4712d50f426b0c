// sockit ss: iproute2's ss(8) over the sockit inventory (sock_diag). The
// tables, families and states are chosen as misc/ss.c chooses them
// (filter_db_set, filter_af_set, filter_merge_defaults); the state filter
// goes to the kernel, the expression filter is evaluated here.
import {
  ALL_STATES,
  Inventory,
  processComm,
  scanOwners,
  type InetSocket,
  type InetTable,
  type Owner,
  type SocketEntry,
  type UnixSocket,
} from '../../stack/inventory/index.js';
import { bytecodeFor, parseFilter, matches, FilterError, type Filter } from '../../stack/inventory/filter.js';

/** SOCKIT_BYTECODE=0: no INET_DIAG_REQ_BYTECODE, every socket filtered in the process (for comparing) */
const BYTECODE_ENV = 'SOCKIT_BYTECODE';
import { cgroupPath, interfaceIndex, interfaceName } from '../../stack/inventory/system.js';
import { servPort } from '../../stack/hostserv.js';
import {
  INET_DIAG_INFO,
  INET_DIAG_MEMINFO,
  INET_DIAG_SKMEMINFO,
  INET_DIAG_CONG,
  INET_DIAG_VEGASINFO,
  extBit,
  UDIAG_SHOW_MEMINFO,
  UDIAG_SHOW_VFS,
  UDIAG_SHOW_ICONS,
} from '../../stack/abi/sock_diag.js';
import { Failure, PermissionError, UsageError, jsonLine, makeCommand, onTerminate, parseArgs, strerrorOf } from '../common.js';
import {
  COL,
  SS_STATE,
  Table,
  inetTokens,
  llProtoNumber,
  netid,
  netlinkTokens,
  nlProtoNumber,
  packetTokens,
  unixTokens,
  type Layout,
  type LinkTextOptions,
} from './text.js';
import {
  NDIAG_SHOW_GROUPS,
  NDIAG_SHOW_MEMINFO,
  NETLINK_CONNECTED,
  PACKET_SHOW_FANOUT,
  PACKET_SHOW_FILTER,
  PACKET_SHOW_INFO,
  PACKET_SHOW_RING_CFG,
} from '../../stack/abi/packet_diag.js';
import type { NetlinkDiagMsg, PacketDiagMsg } from '../../stack/inventory/index.js';
import { fstatSync } from 'node:fs';
import type { JsonRecord } from '../../output/index.js';

/** SOCKIT_SS_LAYOUT=6.1: iproute2 6.1's Process column (sockit-ss(1) BUGS), for comparing with that ss */
const LAYOUT_ENV = 'SOCKIT_SS_LAYOUT';
import { socketRecord } from '../lib/inventory-json.js';
import { sockstat, summaryText } from './summary.js';
import { FastInetTable } from './fast.js';
import { WasmInetTable } from './lines.js';
import { stdoutSink } from '../../cli/stdio.js';
import { Inlining } from '../../cli/tiering.js';

// the socket tables (ss's *_DB) sockit knows
type Db = 'tcp' | 'udp' | 'raw' | 'u_dgr' | 'u_str' | 'u_seq' | 'p_raw' | 'p_dgr' | 'nl';
type Family = 4 | 6 | 'unix' | 'link' | 'netlink';
const UNIX_DBS: Db[] = ['u_dgr', 'u_str', 'u_seq'];
const INET_DBS: Db[] = ['tcp', 'udp', 'raw'];
const PACKET_DBS: Db[] = ['p_raw', 'p_dgr'];

// TCP_* states as bits (ss's SS_*)
const S = { ESTABLISHED: 1, SYN_SENT: 2, SYN_RECV: 3, FIN_WAIT1: 4, FIN_WAIT2: 5, TIME_WAIT: 6, CLOSE: 7, CLOSE_WAIT: 8, LAST_ACK: 9, LISTEN: 10, CLOSING: 11 };
const SS_ALL = (1 << 12) - 1;
const SS_CONN = SS_ALL & ~((1 << S.LISTEN) | (1 << S.CLOSE) | (1 << S.TIME_WAIT) | (1 << S.SYN_RECV));
const DB_STATES: Record<Db, number> = {
  tcp: SS_CONN,
  udp: 1 << S.ESTABLISHED,
  raw: 1 << S.ESTABLISHED,
  u_dgr: 1 << S.CLOSE,
  u_str: SS_CONN,
  u_seq: SS_CONN,
  p_raw: 1 << S.CLOSE,
  p_dgr: 1 << S.CLOSE,
  nl: 1 << S.CLOSE,
};
const DB_FAMILY: Record<Db, 'inet' | 'unix' | 'link' | 'netlink'> = {
  tcp: 'inet',
  udp: 'inet',
  raw: 'inet',
  u_dgr: 'unix',
  u_str: 'unix',
  u_seq: 'unix',
  p_raw: 'link',
  p_dgr: 'link',
  nl: 'netlink',
};
/** default_afs: the states a family brings */
const FAMILY_STATES: Record<string, number> = { 4: SS_CONN, 6: SS_CONN, unix: SS_CONN, link: 1 << S.CLOSE, netlink: 1 << S.CLOSE };

const STATE_NAMES: Record<string, number> = {
  established: 1 << S.ESTABLISHED,
  'syn-sent': 1 << S.SYN_SENT,
  'syn-recv': 1 << S.SYN_RECV,
  'syn-rcv': 1 << S.SYN_RECV,
  'fin-wait-1': 1 << S.FIN_WAIT1,
  'fin-wait-2': 1 << S.FIN_WAIT2,
  'time-wait': 1 << S.TIME_WAIT,
  unconnected: 1 << S.CLOSE,
  close: 1 << S.CLOSE,
  closed: 1 << S.CLOSE,
  'close-wait': 1 << S.CLOSE_WAIT,
  'last-ack': 1 << S.LAST_ACK,
  listening: 1 << S.LISTEN,
  closing: 1 << S.CLOSING,
  all: SS_ALL,
  connected: SS_ALL & ~((1 << S.CLOSE) | (1 << S.LISTEN)),
  synchronized: SS_ALL & ~((1 << S.CLOSE) | (1 << S.LISTEN) | (1 << S.SYN_SENT)),
  bucket: (1 << S.SYN_RECV) | (1 << S.TIME_WAIT),
  big: SS_ALL & ~((1 << S.SYN_RECV) | (1 << S.TIME_WAIT)),
};

const QUERY: Record<string, Db[]> = {
  all: [...INET_DBS, ...UNIX_DBS, ...PACKET_DBS, 'nl'],
  inet: INET_DBS,
  packet: PACKET_DBS,
  packet_raw: ['p_raw'],
  packet_dgram: ['p_dgr'],
  netlink: ['nl'],
  tcp: ['tcp'],
  udp: ['udp'],
  raw: ['raw'],
  unix: UNIX_DBS,
  unix_stream: ['u_str'],
  u_str: ['u_str'],
  unix_dgram: ['u_dgr'],
  u_dgr: ['u_dgr'],
  unix_seqpacket: ['u_seq'],
  u_seq: ['u_seq'],
};

interface Options {
  tcp?: boolean;
  udp?: boolean;
  raw?: boolean;
  unix?: boolean;
  listening?: boolean;
  all?: boolean;
  numeric?: boolean;
  resolve?: boolean;
  processes?: boolean;
  extended?: boolean;
  options?: boolean;
  memory?: boolean;
  info?: boolean;
  header: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
  family?: string[];
  query?: string[];
  json?: boolean;
  summary?: boolean;
  kill?: boolean;
  packet?: boolean;
  bpf?: boolean;
  oneline?: boolean;
  watch?: number;
}

export interface Selection {
  dbs: Set<Db>;
  families: Set<Family>;
  states: number;
}

/** Turn ss's options and leading state words into tables, families and states (misc/ss.c main). */
export function select(o: Options, args: string[]): { sel: Selection; rest: string[] } {
  const dbs = new Set<Db>();
  const families = new Set<Family>();
  let states = 0,
    stateFilter = 0,
    doDefault = true;
  const dbSet = (d: Db) => {
    dbs.add(d);
    states |= DB_STATES[d];
    doDefault = false;
  };
  const afSet = (f: Family) => {
    families.add(f);
    states |= FAMILY_STATES[f]!;
    doDefault = false;
  };
  // getopt order does not matter for these: each only adds
  if (o.tcp) dbSet('tcp');
  if (o.udp) dbSet('udp');
  if (o.raw) dbSet('raw');
  if (o.packet) {
    dbSet('p_raw');
    dbSet('p_dgr');
  }
  if (o.unix) afSet('unix');
  if (o.ipv4) afSet(4);
  if (o.ipv6) afSet(6);
  for (const f of o.family ?? []) {
    if (f === 'inet') afSet(4);
    else if (f === 'inet6') afSet(6);
    else if (f === 'unix' || f === 'link' || f === 'netlink') afSet(f);
    else throw new UsageError(`"${f}" is invalid family (sockit knows inet, inet6, unix, link and netlink)`);
  }
  if (o.all) stateFilter = SS_ALL;
  if (o.listening) stateFilter = (1 << S.LISTEN) | (1 << S.CLOSE);
  if (o.query?.length) {
    dbs.clear();
    stateFilter ||= SS_CONN;
    doDefault = false;
    for (const q of o.query.flatMap((x) => x.split(','))) {
      const off = q.startsWith('!');
      const list = QUERY[off ? q.slice(1) : q];
      if (!list) throw new UsageError(`"${q}" is illegal socket table id`);
      for (const d of list) off ? dbs.delete(d) : dbSet(d);
    }
  }
  let i = 0,
    saw = false;
  while (i < args.length && (args[i] === 'state' || args[i] === 'exclude' || args[i] === 'excl')) {
    const word = args[i + 1];
    if (word === undefined) throw new UsageError(`bad filter at '${args[i]}': expected a state name after it`);
    const bits = STATE_NAMES[word.toLowerCase()];
    if (bits === undefined) throw new UsageError(`wrong state name: ${word}`);
    if (args[i] === 'state') stateFilter = (saw ? stateFilter : 0) | bits;
    else stateFilter = (saw ? stateFilter : SS_ALL) & ~bits;
    saw = true;
    i += 2;
  }
  if (doDefault) {
    stateFilter ||= SS_CONN;
    for (const d of QUERY.all) dbSet(d);
  }
  if (stateFilter) states = stateFilter;
  // filter_merge_defaults: a table brings its families, a family its tables
  for (const d of dbs) {
    const fam = DB_FAMILY[d];
    if (fam !== 'inet') families.add(fam);
    else if (!families.has(4) && !families.has(6)) {
      families.add(4);
      families.add(6);
    }
  }
  if (families.has('unix') && !UNIX_DBS.some((d) => dbs.has(d))) UNIX_DBS.forEach((d) => dbs.add(d));
  if (families.has('link') && !PACKET_DBS.some((d) => dbs.has(d))) PACKET_DBS.forEach((d) => dbs.add(d));
  if (families.has('netlink')) dbs.add('nl');
  if ((families.has(4) || families.has(6)) && !INET_DBS.some((d) => dbs.has(d))) INET_DBS.forEach((d) => dbs.add(d));
  return { sel: { dbs, families, states }, rest: args.slice(i) };
}

/** whether any option chose tables or families (ss's do_default cleared) */
function selectsTables(o: Options): boolean {
  return Boolean(o.tcp || o.udp || o.raw || o.unix || o.packet || o.ipv4 || o.ipv6 || o.family?.length || o.query?.length);
}

function command() {
  return makeCommand('ss')
    .description('socket statistics: iproute2 ss over netlink sock_diag')
    .usage('[options] [ state STATE-FILTER ] [ EXPRESSION ]')
    .option('-t, --tcp', 'display TCP sockets')
    .option('-u, --udp', 'display UDP sockets')
    .option('-w, --raw', 'display RAW sockets')
    .option('-x, --unix', 'display Unix domain sockets')
    .option('-0, --packet', 'display PACKET sockets')
    .option('-l, --listening', 'display listening sockets')
    .option('-a, --all', 'display all sockets')
    .option('-n, --numeric', "don't resolve service names")
    .option('-r, --resolve', 'resolve host names (sockit: accepted, addresses stay numeric)')
    .option('-p, --processes', 'show process using socket')
    .option('-e, --extended', 'show detailed socket information')
    .option('-o, --options', 'show timer information')
    .option('-m, --memory', 'show socket memory usage')
    .option('-i, --info', 'show internal TCP information')
    .option('-s, --summary', 'show socket usage summary')
    .option('-K, --kill', 'forcibly close sockets, display what was closed (SOCK_DESTROY, CAP_NET_ADMIN)')
    .option('-b, --bpf', 'show bpf filter socket information')
    .option('-O, --oneline', "socket's data printed on a single line")
    .option('-H, --no-header', 'Suppress header line')
    .option('-4, --ipv4', 'display only IP version 4 sockets')
    .option('-6, --ipv6', 'display only IP version 6 sockets')
    .option('-f, --family <FAMILY>', 'display sockets of type FAMILY: inet, inet6, unix, link, netlink', (v: string, p: string[] = []) => [...p, v])
    .option(
      '-A, --query <QUERY>',
      'QUERY := {all|inet|tcp|udp|raw|unix|unix_dgram|unix_stream|unix_seqpacket|packet|packet_raw|packet_dgram|netlink}[,QUERY]',
      (v: string, p: string[] = []) => [...p, v],
    )
    .option('--json', 'one JSON object per socket, then a summary')
    .option('--watch <SECONDS>', 'sweep again every SECONDS: redraw on a terminal, else print what opened, closed or changed state', (v: string) => {
      const n = Number(v);
      if (!(n > 0) || n > 86400) throw new UsageError(`--watch: '${v}' is not a number of seconds`);
      return n;
    })
    .argument('[filter...]', 'state words and an expression (ss(8) FILTER)');
}

/** The inet tables and families ss walks, in its order (unix, raw, udp, tcp; IPv4 then IPv6). */
function walks(sel: Selection): { table: InetTable; family: 4 | 6 }[] {
  const out: { table: InetTable; family: 4 | 6 }[] = [];
  for (const table of ['raw', 'udp', 'tcp'] as const) {
    if (!sel.dbs.has(table)) continue;
    for (const family of [4, 6] as const) if (sel.families.has(family)) out.push({ table, family });
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const cmd = command();
  if (!parseArgs(cmd, argv)) return 0;
  const o = cmd.opts<Options>();
  if (o.summary) {
    const s = sockstat();
    if (o.json) jsonLine({ type: 'sockstat', ...s });
    else process.stdout.write(summaryText(s));
    // ss: a summary alone ends the run (do_default and no filter words)
    if (!selectsTables(o) && cmd.args.length === 0) {
      if (o.json) jsonLine({ type: 'summary', exit_code: 0 });
      return 0;
    }
  }
  // -4/-6 together is what ss's preferred_family makes of it: the last wins; sockit shows both
  const { sel, rest } = select(o, cmd.args);
  if (sel.dbs.size === 0 || sel.families.size === 0 || sel.states === 0) {
    process.stderr.write('sockit ss: no socket tables to show with such filter.\n');
    return 0;
  }
  let filter: Filter | null;
  try {
    filter = parseFilter(rest, {
      service: (n) => servicePort(n),
      ifindex: interfaceIndex,
      family: preferredFamily(argv),
      llProto: llProtoNumber,
      nlProto: nlProtoNumber,
    });
  } catch (e) {
    if (e instanceof FilterError) throw new UsageError(e.message);
    throw e;
  }
  if (o.watch !== undefined) {
    if (o.kill) throw new UsageError('--watch cannot be combined with -K');
    return watch(o, sel, filter, o.watch);
  }
  return show(o, sel, filter);
}

/**
 * ss's preferred_family: the family of the last -f, -0, -x, -4 or -6 in
 * argv (filter_af_set sets it; -A does not). It decides how a filter's HOST
 * reads; only link and netlink change that here.
 */
export function preferredFamily(argv: string[]): 'link' | 'netlink' | null {
  let fam: string | null = null;
  const FAMILY: Record<string, string> = { inet: 'inet', inet6: 'inet6', link: 'link', unix: 'unix', netlink: 'netlink' };
  const LONG: Record<string, string> = { '--packet': 'link', '--unix': 'unix', '--ipv4': 'inet', '--ipv6': 'inet6' };
  const SHORT: Record<string, string> = { 0: 'link', x: 'unix', 4: 'inet', 6: 'inet6' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (LONG[a]) fam = LONG[a];
    else if (a === '--family') fam = FAMILY[argv[++i] ?? ''] ?? fam;
    else if (a.startsWith('--family=')) fam = FAMILY[a.slice(9)] ?? fam;
    else if (a === '--query' || a === '--watch') i++;
    else if (/^-[^-]/.test(a)) {
      for (let k = 1; k < a.length; k++) {
        const c = a[k]!;
        if (c === 'f' || c === 'A') {
          // the rest of the word, or the next one, is the argument
          const arg = k + 1 < a.length ? a.slice(k + 1) : (argv[++i] ?? '');
          if (c === 'f') fam = FAMILY[arg] ?? fam;
          break;
        }
        if (SHORT[c]) fam = SHORT[c];
      }
    }
  }
  return fam === 'link' || fam === 'netlink' ? fam : null;
}

/** ss -K for one socket: true when the kernel closed it (kill_inet_sock); EOPNOTSUPP counted, ENOENT (gone) skipped */
async function kill(inv: Inventory, s: InetSocket, unsupported: { count: number }): Promise<boolean> {
  const r = await inv.destroy(s);
  if (r.ok) return true;
  if (r.kind === 'malformed') throw new Failure(`SOCK_DESTROY: a malformed reply: ${r.failure.error}`);
  const code = r.error.code;
  if (code === 'ENOENT') return false;
  if (code === 'EOPNOTSUPP') {
    unsupported.count++;
    return false;
  }
  if (code === 'EPERM' || code === 'EACCES') {
    throw new PermissionError('closing sockets (SOCK_DESTROY) needs CAP_NET_ADMIN', [
      'run as root',
      'grant the capability: sudo setcap cap_net_admin+ep "$(command -v node)"',
    ]);
  }
  throw new Failure(`SOCK_DESTROY answers: ${strerrorOf(r.error)}`);
}

/** The socket record of a packet or netlink socket (sockit(1) JSON OUTPUT). */
function linkRecord(s: PacketDiagMsg | NetlinkDiagMsg, owners?: Owner[]): JsonRecord {
  const mem = s.skmeminfo;
  if (s.table === 'packet') {
    const index = s.info?.index ?? s.proc?.ifindex ?? 0;
    return {
      type: 'socket',
      netid: s.type === 3 ? 'p_raw' : 'p_dgr',
      state: 'UNCONN',
      recv_q: s.proc ? s.proc.rmem : (mem?.rmem_alloc ?? 0),
      send_q: 0,
      local: { protocol: s.protocol, interface: index ? (interfaceName(index) ?? null) : null },
      inode: s.inode,
      uid: s.uid ?? null,
      version: s.info?.version ?? null,
      flags: s.info?.flags ?? null,
      fanout: s.fanout === undefined ? null : { id: s.fanout & 0xffff, type: (s.fanout >>> 16) & 0xffff },
      bpf_instructions: s.filter?.length ?? null,
      users: owners?.length ? owners.map((x) => ({ comm: x.comm, pid: x.pid, fd: x.fd })) : null,
    };
  }
  return {
    type: 'socket',
    netid: 'nl',
    state: 'UNCONN',
    recv_q: s.proc ? s.proc.rmem : (mem?.rmem_alloc ?? 0),
    send_q: s.proc ? s.proc.wmem : (mem?.wmem_alloc ?? 0),
    local: { protocol: s.protocol, portid: s.portid | 0 },
    peer: s.state === NETLINK_CONNECTED ? { dst_group: s.dstGroup, portid: s.dstPortid | 0 } : null,
    groups: s.groups ?? 0,
    inode: s.inode,
  };
}

function servicePort(name: string): number | null {
  return servPort(name, 'tcp') ?? servPort(name, 'udp');
}

/** What a sweep hands each socket to: its identity, ss state name, text tokens and JSON record, made when asked. */
interface Sink {
  /** whether socket() needs each socket's key (--watch does; a listing does not make them) */
  keyed?: boolean;
  socket(key: string, state: string, tokens: () => string[], record: () => JsonRecord): void;
}

interface SweepResult {
  /** inet_diag replies the kernel sent (fewer when the filter ran there) */
  received: number;
  sources: Set<string>;
  reports: Inventory['reports'];
  unsupported: number;
  /** netlink was refused: the records came from /proc/net */
  refusal: Inventory['refusal'];
}

function textOptions(o: Options, owners: ReturnType<typeof scanOwners> | undefined): LinkTextOptions {
  return {
    numeric: Boolean(o.numeric),
    processes: Boolean(o.processes),
    extended: Boolean(o.extended),
    timers: Boolean(o.options || o.extended), // ss: -e sets show_options too
    memory: Boolean(o.memory),
    info: Boolean(o.info),
    owners,
    ifname: interfaceName,
    cgroupPath,
    oneline: Boolean(o.oneline),
    bpf: Boolean(o.bpf),
  };
}

const inetKey = (s: InetSocket) => `${s.table}${s.family}|${s.src}|${s.sport}|${s.dst}|${s.dport}|${s.ifindex}`;

/** One pass over the selected tables in ss's order, each socket handed to `sink`. */
async function sweep(o: Options, sel: Selection, filter: Filter | null, sink: Sink): Promise<SweepResult> {
  const owners = o.processes ? scanOwners() : undefined;
  const text = textOptions(o, owners);
  const users = (inode: number) => owners?.get(inode) as Owner[] | undefined;
  const emit = (s: SocketEntry, key: string, tokens: () => string[]) => {
    if (filter && !matches(filter, s)) return;
    const state = SS_STATE[s.state] ?? 'UNKNOWN';
    sink.socket(key, state, tokens, () => socketRecord(s, { netid: netid(s), state, owners: users(s.inode), ifname: interfaceName }));
  };
  const inv = new Inventory();
  const sources = new Set<string>();
  const unsupported = { count: 0 };
  try {
    // ss's order: netlink, packet, unix, raw, udp, tcp; packet sockets are not told apart by type
    // (packet_show_sock does not either: -A packet_raw lists both)
    const closed = (sel.states & (1 << S.CLOSE)) !== 0;
    if (sel.dbs.has('nl') && sel.families.has('netlink') && closed) {
      const src = await inv.netlinkSockets(NDIAG_SHOW_GROUPS | NDIAG_SHOW_MEMINFO, (s) => {
        if (filter && !matches(filter, s)) return;
        sink.socket(
          `nl|${s.inode}|${s.portid}`,
          'UNCONN',
          () => netlinkTokens(s, text, (pid) => processComm(pid, process.env.PROC_ROOT ?? '/proc')),
          () => linkRecord(s),
        );
      });
      sources.add(src);
    }
    if ((sel.dbs.has('p_raw') || sel.dbs.has('p_dgr')) && sel.families.has('link') && closed) {
      const show = PACKET_SHOW_INFO | PACKET_SHOW_FILTER | PACKET_SHOW_RING_CFG | PACKET_SHOW_FANOUT;
      const src = await inv.packet(show, (s) => {
        if (filter && !matches(filter, s)) return;
        sink.socket(
          `p|${s.inode}`,
          'UNCONN',
          () => packetTokens(s, text),
          () => linkRecord(s, users(s.inode)),
        );
      });
      sources.add(src);
    }
    const types = new Set<number>();
    if (sel.dbs.has('u_str')) types.add(1);
    if (sel.dbs.has('u_dgr')) types.add(2);
    if (sel.dbs.has('u_seq')) types.add(5);
    if (types.size && sel.families.has('unix')) {
      const show = (o.memory ? UDIAG_SHOW_MEMINFO : 0) | (o.extended ? UDIAG_SHOW_VFS | UDIAG_SHOW_ICONS : 0);
      sources.add(await inv.unix(types, sel.states, show, (s: UnixSocket) => emit(s, `u|${s.inode}`, () => unixTokens(s, text))));
    }
    let ext = 0;
    if (o.memory) ext |= extBit(INET_DIAG_MEMINFO) | extBit(INET_DIAG_SKMEMINFO);
    if (o.info || o.json) ext |= extBit(INET_DIAG_INFO) | extBit(INET_DIAG_VEGASINFO) | extBit(INET_DIAG_CONG);
    for (const w of walks(sel)) {
      const doomed: InetSocket[] = [];
      const bc = filter && process.env[BYTECODE_ENV] !== '0' ? bytecodeFor(filter, w.family) : null;
      sources.add(
        await inv.inet(
          w.table,
          w.family,
          sel.states & ALL_STATES,
          ext,
          (s: InetSocket) => {
            if (!o.kill) emit(s, sink.keyed ? inetKey(s) : '', () => inetTokens(s, text));
            else if (!filter || matches(filter, s)) doomed.push(s);
          },
          bc,
        ),
      );
      for (const s of doomed) if (await kill(inv, s, unsupported)) emit(s, inetKey(s), () => inetTokens(s, text));
    }
  } finally {
    inv.close();
  }
  return { sources, reports: inv.reports, unsupported: unsupported.count, received: inv.received, refusal: inv.refusal };
}

/** The columns ss hides (misc/ss.c main: Netid for one table, State for one state), and the layout. */
function columns(sel: Selection): { disabled: boolean[]; layout: Layout; screen: number | null } {
  const disabled = new Array<boolean>(10).fill(false);
  disabled[COL.NETID] = sel.dbs.size === 1;
  disabled[COL.STATE] = (sel.states & (sel.states - 1)) === 0;
  const layout: Layout = process.env[LAYOUT_ENV] === '6.1' ? '6.1' : 'fixed';
  return { disabled, layout, screen: stdoutIsTTY() ? process.stdout.columns || 80 : null };
}

/**
 * process.stdout.isTTY, asked only of a character device that can be a
 * terminal: asking makes the stream (and loads net, tty and the stream
 * modules, a few ms of a run). A file, a pipe or a socket is never a
 * terminal, nor is a memory device (major 1: /dev/null, /dev/zero).
 */
function stdoutIsTTY(): boolean {
  try {
    const st = fstatSync(1);
    if (!st.isCharacterDevice() || ((st.rdev >> 8) & 0xfff) === 1) return false;
  } catch {
    return false;
  }
  return Boolean(process.stdout.isTTY);
}

function newTable(o: Options, sel: Selection, write: (s: string) => void): Table {
  const c = columns(sel);
  return new Table(c.disabled, write, c.screen, c.layout, Boolean(o.processes));
}

/**
 * Whether the listing can take FastInetTable: inet tables only, in the
 * default formats (no filter, -e, -o, -m, -i, -b, -K, --json).
 */
function fastListing(o: Options, sel: Selection, filter: Filter | null): boolean {
  if (filter || o.json || o.kill || o.extended || o.options || o.memory || o.info || o.bpf) return false;
  return [...sel.dbs].every((d) => DB_FAMILY[d] === 'inet');
}

/** The inet tables straight from the sock_diag replies to ss's columns (fast.ts; numeric without -p: lines.ts). */
async function showFast(o: Options, sel: Selection): Promise<number> {
  const c = columns(sel);
  // write(2) to descriptor 1 (stdoutSink): no stdout stream, whose modules cost a run a few ms
  const write = (b: Buffer) => void stdoutSink().write(b);
  if (o.numeric && !o.processes) {
    // the module reads each datagram itself (Inventory.tcpDatagrams, inetDatagrams)
    const lines = WasmInetTable.create(c.disabled, write, c.screen, c.layout, interfaceName);
    if (lines) {
      if (o.header) lines.headerLine();
      return listInet(sel, {
        both: (inv, states) => inv.tcpDatagrams(states, lines.reader),
        one: (inv, table, family, states) => inv.inetDatagrams(table, family, states, lines.reader),
        record: (s) => lines.record(s),
        render: () => lines.render(),
        close: () => lines.close(),
      });
    }
  }
  // a listing of more than one datagram's sockets, or one with its owners: its hot loops compiled
  // without inlining or on-stack replacement (src/cli/tiering.ts)
  const inlining = new Inlining();
  if (o.processes) inlining.off();
  const table = new FastInetTable(c.disabled, write, c.screen, c.layout, {
    numeric: Boolean(o.numeric),
    processes: Boolean(o.processes),
    owners: o.processes ? scanOwners() : undefined,
    ifname: interfaceName,
  });
  if (o.header) table.header();
  const batch = (b: Buffer, at: Int32Array, n: number, t: InetTable) => {
    inlining.batch();
    table.messages(b, at, n, t);
  };
  return listInet(sel, {
    both: (inv, states) => inv.tcpRaw(states, (b, at, n) => batch(b, at, n, 'tcp')),
    one: (inv, t, family, states) => inv.inetRaw(t, family, states, (b, at, n) => batch(b, at, n, t)),
    record: (s) => table.record(s),
    render: () => table.render(),
    close: () => inlining.restore(),
  });
}

/** How a fast listing reads the inet dumps: TCP's two families in one walk, one table and family; null: /proc/net's records then. */
interface InetLister {
  both(inv: Inventory, states: number): Promise<string | null>;
  one(inv: Inventory, table: InetTable, family: 4 | 6, states: number): Promise<string | null>;
  record(s: InetSocket): void;
  render(): void;
  close(): void;
}

/** The selection's inet walks through a lister (both TCP families in one walk where ss makes two dumps), then its render. */
async function listInet(sel: Selection, l: InetLister): Promise<number> {
  const inv = new Inventory();
  const sources = new Set<string>();
  try {
    const states = sel.states & ALL_STATES;
    const ws = walks(sel);
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i]!;
      if (w.table === 'tcp' && w.family === 4 && ws[i + 1]?.table === 'tcp' && ws[i + 1]?.family === 6) {
        // both families of TCP: one walk of the kernel's tables (Inventory.tcpRaw)
        i++;
        const src = await l.both(inv, states);
        if (src) sources.add(src);
        else for (const family of [4, 6] as const) sources.add(await inv.inet('tcp', family, states, 0, (s) => l.record(s)));
        continue;
      }
      const src = await l.one(inv, w.table, w.family, states);
      sources.add(src ?? (await inv.inet(w.table, w.family, states, 0, (s) => l.record(s))));
    }
    l.render();
  } finally {
    inv.close();
    l.close();
  }
  reportSweep({ sources, reports: inv.reports, unsupported: 0, received: inv.received, refusal: inv.refusal });
  return 0;
}

function reportSweep(r: SweepResult): void {
  // ss says "Cannot open netlink socket: Permission denied" for each dump it falls back from
  if (r.refusal) process.stderr.write(`sockit ss: cannot open a sock_diag netlink socket: ${strerrorOf(r.refusal)}; read /proc/net instead\n`);
  if (r.unsupported) {
    process.stderr.write(
      `sockit ss: SOCK_DESTROY: Operation not supported for ${r.unsupported} socket${r.unsupported > 1 ? 's' : ''}: the kernel cannot close them (CONFIG_INET_DIAG_DESTROY off, or the protocol has no diag_destroy)\n`,
    );
  }
  for (const m of r.reports) if (m.malformed) process.stderr.write(`sockit ss: a malformed sock_diag reply: ${m.malformed.codec}: ${m.malformed.error}\n`);
}

async function show(o: Options, sel: Selection, filter: Filter | null): Promise<number> {
  if (fastListing(o, sel, filter)) return showFast(o, sel);
  const table = o.json ? null : newTable(o, sel, (s) => void process.stdout.write(s));
  if (table && o.header) table.header();
  let count = 0;
  const r = await sweep(o, sel, filter, {
    socket(_key, _state, tokens, record) {
      count++;
      if (table) table.row(tokens());
      else jsonLine(record());
    },
  });
  table?.render();
  reportSweep(r);
  if (o.json) jsonLine({ type: 'summary', exit_code: 0, sockets: count, source: [...r.sources].join(',') || null, inet_diag_replies: r.received });
  return 0;
}

interface Seen {
  state: string;
  tokens: string[];
  record: () => JsonRecord;
}

/**
 * --watch SECONDS: a sweep every SECONDS. On a terminal (without --json) the
 * screen is redrawn; otherwise the first sweep is listed, then only what
 * changed: sockets opened (+), closed (-) and whose state changed (~), in
 * ss's columns, or as socket_event records.
 */
async function watch(o: Options, sel: Selection, filter: Filter | null, seconds: number): Promise<number> {
  const redraw = Boolean(process.stdout.isTTY) && !o.json;
  let stop = false;
  let wake: (() => void) | null = null;
  const off = onTerminate(() => {
    stop = true;
    wake?.();
  });
  let before = new Map<string, Seen>();
  let sweeps = 0,
    events = 0;
  try {
    while (!stop) {
      const now = new Map<string, Seen>();
      const r = await sweep(o, sel, filter, {
        keyed: true,
        socket(key, state, tokens, record) {
          now.set(key, { state, tokens: tokens(), record });
        },
      });
      reportSweep(r);
      if (redraw || sweeps === 0) {
        if (redraw) process.stdout.write('\x1b[H\x1b[2J');
        if (o.json) for (const s of now.values()) jsonLine(s.record());
        else {
          const table = newTable(o, sel, (t) => void process.stdout.write(t));
          if (o.header) table.header();
          for (const s of now.values()) table.row(s.tokens);
          table.render();
        }
      } else {
        const changes: [string, Seen, string?][] = [];
        for (const [k, s] of now) {
          const was = before.get(k);
          if (!was) changes.push(['opened', s]);
          else if (was.state !== s.state) changes.push(['state_changed', s, was.state]);
        }
        for (const [k, s] of before) if (!now.has(k)) changes.push(['closed', s]);
        events += changes.length;
        if (o.json) {
          for (const [event, s, previous] of changes) jsonLine({ ...s.record(), type: 'socket_event', event, previous_state: previous ?? null });
        } else if (changes.length) {
          // the changed lines in ss's columns, each led by its mark (a second line of -i/-m keeps its tab)
          let text = '';
          const table = newTable(o, sel, (t) => {
            text += t;
          });
          for (const [, s] of changes) table.row(s.tokens);
          table.render();
          const mark: Record<string, string> = { opened: '+ ', closed: '- ', state_changed: '~ ' };
          let i = 0;
          process.stdout.write(
            text
              .split('\n')
              .slice(0, -1)
              .map((l) => (l.startsWith('\t') ? l : mark[changes[i++]![0]] + l))
              .join('\n') + '\n',
          );
        }
      }
      before = now;
      sweeps++;
      if (stop) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, seconds * 1000);
      });
      wake = null;
    }
  } finally {
    off();
  }
  if (o.json) jsonLine({ type: 'summary', exit_code: 0, sweeps, events, sockets: before.size });
  return 0;
}
