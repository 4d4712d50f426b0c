// sockit ss: iproute2's ss(8) over the sockit inventory (sock_diag). The
// tables, families and states are chosen as misc/ss.c chooses them
// (select.ts); the state filter goes to the kernel, the expression filter
// is evaluated here.
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
import { COL, Table, type Layout } from './columns.js';
import { SS_STATE, inetTokens, llProtoNumber, netid, netlinkTokens, nlProtoNumber, packetTokens, unixTokens, type LinkTextOptions } from './text.js';
import {
  NDIAG_SHOW_GROUPS,
  NDIAG_SHOW_MEMINFO,
  PACKET_SHOW_FANOUT,
  PACKET_SHOW_FILTER,
  PACKET_SHOW_INFO,
  PACKET_SHOW_RING_CFG,
} from '../../stack/abi/packet_diag.js';
import { fstatSync } from 'node:fs';
import type { JsonRecord } from '../../output/index.js';
import { linkRecord, socketRecord } from '../lib/inventory-json.js';
import { sockstat, summaryText } from './summary.js';
import { FastInetTable } from './fast.js';
import { WasmInetTable } from './lines.js';
import { stdoutSink } from '../../cli/stdio.js';
import { Inlining } from '../../cli/tiering.js';
import { DB_FAMILY, S, preferredFamily, select, selectsTables, walks, type Selection, type SelectOptions } from './select.js';

/** SOCKIT_BYTECODE=0: no INET_DIAG_REQ_BYTECODE, every socket filtered in the process (for comparing) */
const BYTECODE_ENV = 'SOCKIT_BYTECODE';
/** SOCKIT_SS_LAYOUT=6.1: iproute2 6.1's Process column (sockit-ss(1) BUGS), for comparing with that ss */
const LAYOUT_ENV = 'SOCKIT_SS_LAYOUT';

interface Options extends SelectOptions {
  numeric?: boolean;
  resolve?: boolean;
  processes?: boolean;
  extended?: boolean;
  options?: boolean;
  memory?: boolean;
  info?: boolean;
  header: boolean;
  json?: boolean;
  summary?: boolean;
  kill?: boolean;
  bpf?: boolean;
  oneline?: boolean;
  watch?: number;
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
          () => linkRecord(s, interfaceName),
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
          () => linkRecord(s, interfaceName, users(s.inode)),
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
