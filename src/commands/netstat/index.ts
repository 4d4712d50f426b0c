// sockit netstat: net-tools netstat's connection tables over the sockit
// inventory (sock_diag for TCP, UDP and RAW; /proc/net/unix for unix
// sockets, whose RefCnt and Flags only it has). Which sockets a table lists
// follows netstat.c: TCP by the remote port, UDP and RAW by the remote address.
import {
  Inventory,
  links,
  routes4,
  scanOwners,
  type InetSocket,
  type InetTable,
  type Owners,
  type UnixSocket,
  type ProcUnix,
} from '../../stack/inventory/index.js';
import { nameOf } from '../../stack/resolve.js';
import { formatIPv4 } from '../../stack/packet/addr.js';
import { UsageError, jsonLine, makeCommand, parseArgs, onTerminate } from '../common.js';
import { socketRecord } from '../lib/inventory-json.js';
import { interfaceName } from '../../stack/inventory/system.js';
import { IFACE_HEADER, IFACE_TITLE, interfaceLine, nstrcmp, withAliases } from './interfaces.js';
import { ROUTE6_CACHE_TITLE, ROUTE6_TITLE, RTF_CACHE, procRoutes, route6Line, routeCacheTitle, routeLine, routeTitle } from './routes.js';
import { GROUPS_TITLE, groupLine, parseIgmp, parseIgmp6 } from './groups.js';
import { addresses, parseIfInet6, parseIpv6Route, readProcNet, type Link } from '../../stack/inventory/index.js';
import { ifconfigBlock } from './ifconfig.js';
import { readCounters } from '../../stack/inventory/snmp.js';
import { StatisticsText, groupShown } from './statistics.js';
import { InetLines } from './fast.js';
import { WasmInetLines } from './lines.js';
import { Inlining } from '../../cli/tiering.js';
import { stdoutSink } from '../../cli/stdio.js';
import { ByteLines } from '../../output/bytes.js';
import { TCP_STATES } from '../../stack/structs.js';
import { endpoint, inetLine, inetTitle, numericHost, portName, programCell, unixLine, unixShown, unixTitle, type Flags } from './text.js';

interface Options {
  tcp?: boolean;
  udp?: boolean;
  raw?: boolean;
  unix?: boolean;
  listening?: boolean;
  all?: boolean;
  numeric?: boolean;
  numericHosts?: boolean;
  numericPorts?: boolean;
  numericUsers?: boolean;
  extend?: boolean;
  programs?: boolean;
  interfaces?: boolean;
  route?: boolean;
  cache?: boolean;
  groups?: boolean;
  timers?: boolean;
  wide?: boolean;
  continuous?: boolean;
  inet?: boolean;
  inet6?: boolean;
  json?: boolean;
  statistics?: boolean;
  protocol?: string[];
}

// TCP states /proc/net/tcp lists (every one but CLOSE), as idiag_states bits
const TCP_PROC_STATES = ((1 << 12) - 2) & ~(1 << 7);
const ALL = (1 << 12) - 2;

function command() {
  return makeCommand('netstat')
    .description('print network connections as net-tools netstat does, read over netlink sock_diag')
    .usage('[-tuwx] [-lan] [-eWop] [-46] [-c] [--json]')
    .option('-t, --tcp', 'TCP sockets')
    .option('-u, --udp', 'UDP sockets')
    .option('-w, --raw', 'RAW sockets')
    .option('-x, --unix', 'UNIX domain sockets')
    .option('-l, --listening', 'display listening server sockets')
    .option('-a, --all', 'display all sockets (default: connected)')
    .option('-n, --numeric', "don't resolve names")
    .option('--numeric-hosts', "don't resolve host names")
    .option('--numeric-ports', "don't resolve port names")
    .option('--numeric-users', "don't resolve user names")
    .option('-e, --extend', 'display other/more information (twice: User and Inode)')
    .option('-p, --programs', 'display PID/Program name for sockets')
    .option('-o, --timers', 'display timers')
    .option('-W, --wide', "don't truncate IP addresses")
    .option('-i, --interfaces', 'display interface table')
    .option('-r, --route', 'display routing table')
    .option('-C, --cache', 'with -r: the routing cache instead of the table')
    .option('-g, --groups', 'display multicast group memberships')
    .option('-s, --statistics', 'display networking statistics (with -t, -u, -w: of those; -6: IPv6)')
    .option('-c, --continuous', 'continuous listing, every second')
    .option('-4, --inet', 'IPv4 only')
    .option('-6, --inet6', 'IPv6 only')
    .option('-A, --protocol <families>', 'address families, comma separated: inet, inet6, unix', (v: string, p: string[] = []) => [...p, v])
    .option('--json', 'one JSON object per socket, then a summary');
}

/** -e counts (netstat's flag_exp starts at 1, each -e adds one) */
function extendCount(argv: string[]): number {
  let n = 1;
  for (const a of argv) {
    if (a === '--') break;
    if (a === '--extend') n++;
    else if (/^-[^-]/.test(a)) n += [...a.slice(1)].filter((c) => c === 'e').length;
  }
  return n;
}

/**
 * The address families in the order the options gave them (netstat's afname,
 * which aftrans_opt appends to: -4 inet, -6 inet6, -x unix).
 */
function afNames(argv: string[]): string[] {
  const out: string[] = [];
  const long: Record<string, string> = { '--inet': 'inet', '--inet6': 'inet6', '--unix': 'unix' };
  const short: Record<string, string> = { 4: 'inet', 6: 'inet6', x: 'unix' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (long[a]) out.push(long[a]);
    else if (a === '--protocol') out.push(...(argv[++i] ?? '').split(','));
    else if (a.startsWith('--protocol=')) out.push(...a.slice(11).split(','));
    else if (/^-[^-]/.test(a)) {
      for (let k = 1; k < a.length; k++) {
        if (a[k] === 'A') {
          // the rest of the word, or the next one, is -A's argument
          out.push(...(k + 1 < a.length ? a.slice(k + 1) : (argv[++i] ?? '')).split(','));
          break;
        }
        if (short[a[k]!]) out.push(short[a[k]!]!);
      }
    }
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const cmd = command();
  if (!parseArgs(cmd, argv)) return 0;
  const o = cmd.opts<Options>();
  if (cmd.args.length) throw new UsageError(`unexpected argument '${cmd.args[0]}'`);
  const af = afNames(argv);
  for (const name of af) {
    if (name === 'inet') o.inet = true;
    else if (name === 'inet6') o.inet6 = true;
    else if (name === 'unix') o.unix = true;
    else throw new UsageError(`unknown address family '${name}' (sockit knows inet, inet6 and unix)`);
  }
  const flags: Flags = {
    all: Boolean(o.all),
    listening: Boolean(o.listening),
    numericHosts: Boolean(o.numeric || o.numericHosts),
    numericPorts: Boolean(o.numeric || o.numericPorts),
    numericUsers: Boolean(o.numeric || o.numericUsers),
    extend: extendCount(argv),
    programs: Boolean(o.programs),
    timers: Boolean(o.timers),
    wide: Boolean(o.wide),
  };
  // netstat.c main: -4/-6 alone mean every inet protocol; any protocol without them means both families
  let { tcp, udp, raw } = o;
  const v4 = o.inet || (!o.inet && !o.inet6),
    v6 = o.inet6 || (!o.inet && !o.inet6);
  if ((o.inet || o.inet6) && !(tcp || udp || raw)) tcp = udp = raw = true;
  const anyArg = Boolean(tcp || udp || raw || o.unix);
  const plan: Plan = {
    tables: (['tcp', 'udp', 'raw'] as const).filter((t) => !anyArg || { tcp, udp, raw }[t]),
    families: [...(v4 ? [4 as const] : []), ...(v6 ? [6 as const] : [])],
    unix: !anyArg || Boolean(o.unix),
    inet: !anyArg || Boolean(tcp || udp || raw),
  };
  if (o.statistics) {
    if (o.interfaces || o.route) throw new UsageError('-s cannot be combined with -i or -r');
    return statistics(af, { tcp: o.tcp, udp: o.udp, raw: o.raw }, Boolean(o.json));
  }
  let stop = false;
  if (o.continuous)
    onTerminate(() => {
      stop = true;
    });
  let count = 0;
  let first = true;
  for (;;) {
    if (o.interfaces && o.route) throw new UsageError('-i and -r cannot be combined');
    // -4/-6 turn on every inet table, so netstat -g4 prints them before the groups
    if (o.groups && (o.inet || o.inet6)) count += await listing({ ...plan, unix: false }, flags, Boolean(o.json));
    count += o.groups
      ? await groups(flags, Boolean(o.json), { v4: Boolean(v4), v6: Boolean(v6) })
      : o.route
        ? await routing(af, flags, Boolean(o.json), Boolean(o.cache))
        : o.interfaces
          ? await interfaces(flags, Boolean(o.json), first)
          : await listing(plan, flags, Boolean(o.json));
    first = false;
    if (!o.continuous || stop) break;
    await new Promise((r) => setTimeout(r, 1000));
    if (stop) break;
  }
  if (o.json) jsonLine({ type: 'summary', exit_code: 0, sockets: count });
  return 0;
}

/**
 * netstat -s: the counters of /proc/net/snmp, netstat (and sctp/snmp), or
 * with -6 of snmp6 and snmp's Tcp; -t, -u, -w keep their groups.
 */
function statistics(af: string[], p: { tcp?: boolean; udp?: boolean; raw?: boolean }, json: boolean): number {
  const family = af.length ? af.join(',') : 'inet';
  if (family !== 'inet' && family !== 'inet6') throw new UsageError(`no statistics for address family '${family}' (-s takes -4 or -6)`);
  const all = !(p.tcp || p.udp || p.raw);
  const on = { tcp: all || Boolean(p.tcp), udp: all || Boolean(p.udp), raw: all || Boolean(p.raw), sctp: all };
  const c = readCounters();
  for (const f of c.missing) if (f !== 'netstat') process.stderr.write(`sockit netstat: cannot open /proc/net/${f}\n`);
  if (json) {
    const groups = family === 'inet' ? c.v4 : [...c.v6, ...c.v4.filter((g) => g.file === 'snmp' && g.group === 'Tcp')];
    let n = 0;
    for (const g of groups) {
      if (!groupShown(g.group, g.file === 'snmp6', on)) continue;
      for (const k of g.counters) {
        n++;
        jsonLine({ type: 'counter', file: g.file, group: g.group, name: k.name, value: Number(k.text) });
      }
    }
    jsonLine({ type: 'summary', exit_code: 0, counters: n });
    return 0;
  }
  const text = new StatisticsText(on);
  if (family === 'inet') text.v4(c.v4);
  else
    text.v6(c.v6).v4(
      c.v4.filter((g) => g.file === 'snmp'),
      'Tcp',
    );
  process.stdout.write(text.text());
  return 0;
}

/** netstat -i: the interfaces that are up (all with -a), aliases among them, sorted as net-tools sorts them */
async function interfaces(f: Flags, json: boolean, title: boolean): Promise<number> {
  const { links: all, malformed } = await links();
  if (malformed) process.stderr.write(`sockit netstat: a malformed RTM_GETLINK reply: ${malformed.error}\n`);
  const { addresses: addrs } = await addresses();
  const shown = withAliases(all, addrs)
    .filter((l) => f.all || (l.flags & 1) !== 0)
    .sort((a, b) => nstrcmp(a.name ?? '', b.name ?? ''));
  if (json) {
    for (const l of shown)
      jsonLine({
        type: 'interface',
        name: l.name ?? null,
        index: l.index,
        mtu: l.mtu ?? null,
        flags: l.flags,
        stats: l.stats ?? null,
        ...(l.aliasOf ? { alias_of: l.aliasOf } : {}),
      });
    return shown.length;
  }
  if (f.extend > 1) {
    // -ie: ifconfig's blocks, with the addresses of each interface (an alias: its label's IPv4 address only)
    const v6 = parseIfInet6(readProcNet('if_inet6'));
    const v4 = (l: Link) => addrs.find((a) => a.family === 2 && a.index === l.index && a.label === l.name);
    process.stdout.write(
      (title ? IFACE_TITLE : '') +
        shown
          .map((l) =>
            ifconfigBlock(
              l,
              v4(l),
              v6.filter((a) => a.device === l.name),
            ),
          )
          .join(''),
    );
    return shown.length;
  }
  process.stdout.write((title ? IFACE_TITLE : '') + IFACE_HEADER + shown.map(interfaceLine).join(''));
  return shown.length;
}

/** netstat -g: /proc/net/igmp then /proc/net/igmp6 */
async function groups(f: Flags, json: boolean, fam: { v4: boolean; v6: boolean }): Promise<number> {
  const all = [...(fam.v4 ? parseIgmp(readProcNet('igmp')) : []), ...(fam.v6 ? parseIgmp6(readProcNet('igmp6')) : [])];
  if (json) {
    for (const m of all) jsonLine({ type: 'membership', family: m.family, interface: m.device, refcnt: m.refcnt, group: m.group });
    return all.length;
  }
  const names = new Map<string, string>();
  if (!f.numericHosts) await Promise.all([...new Set(all.map((m) => m.group))].map(async (a) => names.set(a, numericHost(await nameOf(a).catch(() => a)))));
  process.stdout.write(GROUPS_TITLE + all.map((m) => groupLine(m, names.get(m.group) ?? m.group)).join(''));
  return all.length;
}

/** netstat -r: the table of each family asked for (-4, -6, -A), in that order; IPv4 without one */
async function routing(af: string[], f: Flags, json: boolean, cache: boolean): Promise<number> {
  let n = 0;
  for (const family of af.length ? af : ['inet']) {
    if (family === 'unix') throw new UsageError("no routing for address family 'unix'");
    if (family === 'inet' && cache) n += routeCache4(f, json);
    else n += family === 'inet' ? await routing4(f, json) : await routing6(f, json, cache);
  }
  return n;
}

/** netstat -rC: the IPv4 routing cache, which Linux no longer has (3.6): the header, no rows */
function routeCache4(f: Flags, json: boolean): number {
  if (!json) process.stdout.write(routeCacheTitle(f.extend === 1 ? 2 : f.extend === 2 ? 1 : f.extend));
  return 0;
}

/** netstat -6 -r: /proc/net/ipv6_route without the cache entries (-C: only them) */
async function routing6(f: Flags, json: boolean, cache = false): Promise<number> {
  const shown = parseIpv6Route(readProcNet('ipv6_route')).filter((r) => ((r.flags & RTF_CACHE) !== 0) === cache);
  if (json) {
    for (const r of shown) {
      jsonLine({
        type: 'route',
        family: 6,
        destination: r.dst,
        prefix_length: r.dstLen,
        gateway: r.nextHop === '::' ? null : r.nextHop,
        interface: r.device || null,
        metric: r.metric | 0,
        refcnt: r.refcnt,
        flags: r.flags,
      });
    }
    return shown.length;
  }
  const names = new Map<string, string>();
  if (!f.numericHosts) {
    const todo = new Set(shown.flatMap((r) => [r.dst, r.nextHop]));
    await Promise.all([...todo].map(async (a) => names.set(a, numericHost(await nameOf(a).catch(() => a)))));
  }
  process.stdout.write((cache ? ROUTE6_CACHE_TITLE : ROUTE6_TITLE) + shown.map((r) => route6Line(r, f.numericHosts, (a) => names.get(a) ?? a)).join(''));
  return shown.length;
}

/** netstat -r: -e swaps the headers as netstat does (no -e: MSS Window irtt; -e: Metric Ref Use) */
async function routing4(f: Flags, json: boolean): Promise<number> {
  const { routes, malformed } = await routes4();
  if (malformed) process.stderr.write(`sockit netstat: a malformed RTM_GETROUTE reply: ${malformed.error}\n`);
  const shown = procRoutes(routes);
  const ext = f.extend === 1 ? 2 : f.extend === 2 ? 1 : f.extend;
  if (json) {
    for (const r of shown) {
      jsonLine({
        type: 'route',
        family: 4,
        destination: r.dst ? formatIPv4(r.dst) : '0.0.0.0',
        prefix_length: r.dstLen,
        gateway: r.gateway ? formatIPv4(r.gateway) : null,
        interface: (r.oif ? interfaceName(r.oif) : undefined) ?? null,
        metric: r.priority ?? 0,
        flags: r.rtf,
      });
    }
    return shown.length;
  }
  const names = new Map<string, string>();
  if (!f.numericHosts) {
    const hosts = new Set<string>();
    for (const r of shown) {
      if (r.gateway) hosts.add(formatIPv4(r.gateway));
      if (r.dst && r.dstLen === 32) hosts.add(formatIPv4(r.dst));
    }
    await Promise.all([...hosts].map(async (a) => names.set(a, await nameOf(a).catch(() => a))));
  }
  const n = { numeric: f.numericHosts, host: (a: string) => names.get(a) ?? a, ifname: interfaceName };
  process.stdout.write(routeTitle(ext) + shown.map((r) => routeLine(r, ext, n)).join(''));
  return shown.length;
}

interface Plan {
  tables: InetTable[];
  families: (4 | 6)[];
  unix: boolean;
  inet: boolean;
}

const NOT_ALL = '(Not all processes could be identified, non-owned process info\n will not be shown, you would have to be root to see it all.)\n';

/** netstat's filter for one inet socket (tcp_do_one / udp_do_one / raw_do_one) */
function shown(s: InetSocket, f: Flags): boolean {
  if (f.all) return true;
  const remote = s.table === 'tcp' ? s.dport !== 0 : !/^(0\.0\.0\.0|::)$/.test(s.dst);
  return remote !== f.listening;
}

/** stdout in 64 KiB writes: one write per line would be one syscall per socket */
function buffered(): { out: (t: string) => void; flush: () => void } {
  let pending = '';
  const flush = () => {
    if (pending) stdoutSink().write(pending);
    pending = '';
  };
  return {
    out: (t) => {
      pending += t;
      if (pending.length >= 65536) flush();
    },
    flush,
  };
}

async function listing(plan: Plan, f: Flags, json: boolean): Promise<number> {
  const { out, flush } = buffered();
  // a listing of more than one datagram's sockets, or one with its owners: its hot loops compiled
  // without inlining or on-stack replacement (src/cli/tiering.ts), as ss's
  const inlining = new Inlining();
  let owners: Owners | undefined;
  if (f.programs) {
    inlining.off();
    owners = scanOwners();
    if (owners.denied && !json) process.stderr.write(NOT_ALL);
  }
  // netstat keeps the first process it finds for an inode; ss's list has it last
  const program = (inode: number) => {
    const l = owners?.get(inode);
    const first = l?.[l.length - 1];
    return first ? programCell(first.pid, first.program) : undefined;
  };
  let count = 0;
  const inv = new Inventory();
  // write(2) to descriptor 1 (stdoutSink), which keeps no buffer: one 64 KiB buffer for the whole listing, where
  // the stream's writes kept each one written (as much garbage as the output) until a collection
  const bytes = new ByteLines((b) => void stdoutSink().write(b), true);
  // numeric hosts, no timers, text: InetLines formats each reply as it comes
  const fast = !json && f.numericHosts && !f.timers ? new InetLines(bytes, f, program) : null;
  // numeric ports too, no -ee or -p: the module of ss's lines reads the datagrams and writes the lines (lines.ts)
  const wasm = fast ? WasmInetLines.create(f, (b) => void stdoutSink().write(b)) : null;
  try {
    if (plan.inet) {
      if (!json) out(inetTitle(f));
      for (const table of plan.tables) {
        // TCP over both families from one walk of the kernel's tables (Inventory.tcpRaw), in netstat's order
        const both = fast && table === 'tcp' && plan.families[0] === 4 && plan.families[1] === 6;
        if (both) {
          flush();
          const src = wasm
            ? await inv.tcpDatagrams(TCP_PROC_STATES, wasm.reader)
            : await inv.tcpRaw(TCP_PROC_STATES, (b, at, n, family) => {
                inlining.batch();
                const label = family === 6 ? 'tcp6' : 'tcp';
                for (let k = 0; k < 2 * n; k += 2) if (fast.message(b, at[k]!, table, label)) count++;
              });
          wasm?.flush();
          bytes.flush();
          if (src) continue;
        }
        for (const family of plan.families) {
          const rows: InetSocket[] = [];
          const states = table === 'tcp' ? TCP_PROC_STATES : ALL;
          if (fast && !both) {
            // the lines straight from the replies (fast.ts); /proc/net's records when netlink cannot answer
            flush();
            const label = family === 6 ? `${table}6` : table;
            const src = wasm
              ? await inv.inetDatagrams(table, family, states, wasm.reader)
              : await inv.inetRaw(table, family, states, (b, at, n) => {
                  inlining.batch();
                  for (let k = 0; k < 2 * n; k += 2) if (fast.message(b, at[k]!, table, label)) count++;
                });
            wasm?.flush();
            bytes.flush();
            if (src) continue;
          }
          await inv.inet(table, family, states, 0, (s) => {
            if (!shown(s, f)) return;
            count++;
            if (json)
              jsonLine(
                socketRecord(s, {
                  netid: family === 6 ? `${table}6` : table,
                  state: TCP_STATES[s.state] ?? String(s.state),
                  owners: owners?.get(s.inode)?.slice(-1),
                  ifname: interfaceName,
                }),
              );
            else if (f.numericHosts) out(inetRow(s, family, f, program(s.inode), new Map()));
            else rows.push(s);
          });
          if (rows.length) {
            const names = await hostNames(rows);
            out(rows.map((s) => inetRow(s, family, f, program(s.inode), names)).join(''));
          }
        }
      }
    }
    if (plan.unix) {
      if (!json) out(unixTitle(f));
      for (const s of inv.procUnix()) {
        if (!unixShown(s, f)) continue;
        count++;
        if (json) jsonLine(socketRecord(s, { netid: 'unix', state: unixStateName(s), owners: owners?.get(s.inode)?.slice(-1), ifname: interfaceName }));
        else out(unixLine(s, f, program(s.inode)));
      }
    }
  } finally {
    inlining.restore();
    wasm?.close();
    inv.close();
    flush();
  }
  return count + (wasm?.count ?? 0);
}

function unixStateName(s: UnixSocket & ProcUnix): string {
  return ['FREE', s.flags & (1 << 16) ? 'LISTENING' : 'UNCONNECTED', 'CONNECTING', 'CONNECTED', 'DISCONNECTING'][s.sockState] ?? 'UNKNOWN';
}

/** INET_rresolve / INET6_rresolve for each address once: a name, or the number when none */
async function hostNames(rows: InetSocket[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const todo = new Set<string>();
  for (const s of rows) todo.add(s.src).add(s.dst);
  await Promise.all(
    [...todo].map(async (a) => {
      if (a === '::') return void names.set(a, '[::]');
      if (a === '0.0.0.0') return void names.set(a, a);
      const name = await nameOf(a).catch(() => a);
      names.set(a, numericHost(name));
    }),
  );
  return names;
}

function inetRow(s: InetSocket, family: 4 | 6, f: Flags, program: string | undefined, names: Map<string, string>): string {
  const host = (a: string) => (f.numericHosts ? numericHost(a) : (names.get(a) ?? numericHost(a)));
  const local = endpoint(host(s.src), portName(s.sport, s.table, f.numericPorts), f.wide);
  const remote = endpoint(host(s.dst), portName(s.dport, s.table, f.numericPorts), f.wide);
  return inetLine(s, family === 6 ? `${s.table}6` : s.table, local, remote, f, program);
}
