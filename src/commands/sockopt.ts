// sockit sockopt (alias checkopts): UNP 7.3's checkopts, getting and setting
// options with what the kernel made of them, and the options of a live
// socket in another process (pidfd_getfd(2)).
//
//   sockit sockopt [--tcp|--udp|--raw|--unix] [-4|-6]     every option's default
//   sockit sockopt --table                                 defaults across socket types
//   sockit sockopt get|set [socket] NAME[=VALUE] ...       set in order, read back
//   sockit sockopt --pid PID [--fd N]                      a process's sockets / one's options
import { UsageError, colour, intArg, jsonLineUntyped, makeCommand, parseArgs, runMain } from './common.js';
import { isSystemError, native, type SystemError } from '../stack/native/index.js';
import { borrowSocket, processName, processSockets, type ProcSocket } from '../stack/procsock.js';
import { SOL_SOCKET } from '../stack/constants.js';
import { formatHostPort, type Socket } from '../stack/socket.js';
import {
  OPTIONS, OptionValueError, SOCK_KINDS, bookKind, explainAdjustment, explainRejection, findOption, formatOption,
  formatTcpInfo, formatValue, jsonValue, kindOf, openKind, parseValue, readOption, setOption,
  type OptionValue, type Reading, type SockKind, type SockOpt,
} from '../stack/sockopt.js';
import type { TcpInfo } from '../stack/structs.js';

interface Opts {
  tcp?: boolean; udp?: boolean; raw?: boolean; unix?: boolean;
  ipv4?: boolean; ipv6?: boolean; type?: string;
  table?: boolean; list?: boolean; pid?: number; fd?: number; json?: boolean;
}

const out = (line = '') => process.stdout.write(line + '\n');
const strerror = (e: SystemError) => native.strerror(-e.errno);
const options = OPTIONS;

// ---------- which socket ----------

/** The user's pick, as a function from option to kind (the book's socket per level where they left it open). */
function socketChoice(o: Opts): { kindFor: (opt: SockOpt) => SockKind } {
  if (o.type) {
    if (!SOCK_KINDS.includes(o.type as SockKind)) throw new UsageError(`unknown socket type '${o.type}' (one of ${SOCK_KINDS.join(', ')})`);
    if (o.tcp || o.udp || o.raw || o.unix || o.ipv4 || o.ipv6) throw new UsageError('--type excludes --tcp/--udp/--raw/--unix/-4/-6');
    return { kindFor: () => o.type as SockKind };
  }
  const protos = (['tcp', 'udp', 'raw', 'unix'] as const).filter((p) => o[p]);
  if (protos.length > 1) throw new UsageError(`choose one of --tcp, --udp, --raw, --unix (not ${protos.map((p) => '--' + p).join(' and ')})`);
  if (o.ipv4 && o.ipv6) throw new UsageError('choose one of -4 and -6');
  const proto = protos[0];
  if (proto === 'unix') {
    if (o.ipv4 || o.ipv6) throw new UsageError('--unix takes no -4/-6');
    return { kindFor: () => 'unix-stream' };
  }
  const fam = o.ipv4 ? '4' : o.ipv6 ? '6' : undefined;
  return {
    kindFor: (opt) => {
      const book = bookKind(opt);
      return `${proto ?? book.slice(0, 3)}${fam ?? book.slice(3)}` as SockKind;
    },
  };
}

/** One socket per kind, opened on first use; a failure to open is kept and reported per option. */
class Sockets {
  private readonly open = new Map<SockKind, Socket | SystemError>();
  get(kind: SockKind): Socket | SystemError {
    let s = this.open.get(kind);
    if (!s) {
      try {
        s = openKind(kind);
      } catch (e) {
        if (!isSystemError(e)) throw e;
        s = e;
      }
      this.open.set(kind, s);
    }
    return s;
  }
  closeAll(): void {
    for (const s of this.open.values()) if (!isSystemError(s)) s.close();
  }
}

/** Why a socket could not be opened, when we know: '' or 'raw sockets need ...'. */
function socketHint(kind: SockKind, e: SystemError): string {
  return kind.startsWith('raw') && (e.code === 'EPERM' || e.code === 'EACCES') ? 'raw sockets need CAP_NET_RAW: run as root' : '';
}

function errorJson(e: SystemError) {
  return { code: e.code, errno: -e.errno, message: strerror(e) };
}

function readingJson(r: Reading, kind: SockKind | 'other', label = 'default = ') {
  const o = r.option;
  return {
    event: 'option', name: o.name, level: o.levelName, socket: kind, type: o.type,
    ...(r.undefined !== undefined ? { undefined: r.undefined } : {}),
    ...(r.error ? { error: errorJson(r.error) } : {}),
    ...(r.value !== undefined ? { value: jsonValue(o, r.value) } : {}),
    text: formatOption(r, label),
  };
}

// ---------- checkopts (UNP figure 7.3) ----------

function checkopts(o: Opts): number {
  const { kindFor } = socketChoice(o);
  const socks = new Sockets();
  const counts = { options: 0, values: 0, errors: 0, undefined: 0 };
  try {
    for (const opt of options) {
      counts.options++;
      const kind = kindFor(opt);
      if (opt.undefined) {
        counts.undefined++;
        const r: Reading = { option: opt, undefined: opt.undefined };
        if (o.json) jsonLineUntyped(readingJson(r, kind));
        else out(`${opt.name}: ${formatOption(r)}`);
        continue;
      }
      const s = socks.get(kind);
      if (isSystemError(s)) {
        counts.errors++;
        if (o.json) jsonLineUntyped({ event: 'option', name: opt.name, level: opt.levelName, socket: kind, type: opt.type, socketError: errorJson(s), text: `socket error: ${strerror(s)}` });
        else out(`${opt.name}: socket error: ${strerror(s)}${socketHint(kind, s) && ` (${socketHint(kind, s)})`}`);
        continue;
      }
      const r = readOption(s, opt);
      if (r.error) counts.errors++;
      else counts.values++;
      if (o.json) jsonLineUntyped(readingJson(r, kind));
      else out(`${opt.name}: ${formatOption(r)}`);
    }
  } finally {
    socks.closeAll();
  }
  if (o.json) jsonLineUntyped({ event: 'summary', ...counts });
  return 0;
}

// ---------- --table: defaults across socket types ----------

const NOT_HERE = new Set(['ENOPROTOOPT', 'EOPNOTSUPP']);

async function table(o: Opts): Promise<number> {
  const socks = new Sockets();
  const c = await colour();
  const kinds = SOCK_KINDS;
  const rows: { opt: SockOpt; cells: Record<string, Reading | SystemError> }[] = [];
  try {
    for (const opt of options) {
      if (opt.undefined || opt.access === 'set') continue;
      const cells: Record<string, Reading | SystemError> = {};
      for (const k of kinds) {
        const s = socks.get(k);
        cells[k] = isSystemError(s) ? s : readOption(s, opt);
      }
      rows.push({ opt, cells });
    }
  } finally {
    socks.closeAll();
  }
  const unavailable = kinds.filter((k) => isSystemError(rows[0]?.cells[k]));
  const cellText = (opt: SockOpt, r: Reading | SystemError): string => {
    if (isSystemError(r)) return 'n/a';
    if (r.error) return NOT_HERE.has(r.error.code) ? '-' : r.error.code;
    return formatValue(opt, r.value as OptionValue, true);
  };
  // a row stands out when the sockets it applies to disagree
  const differs = (texts: string[]) => new Set(texts.filter((x) => x !== '-' && x !== 'n/a')).size > 1;
  let differing = 0;
  if (o.json) {
    for (const { opt, cells } of rows) {
      const values: Record<string, unknown> = {};
      for (const k of kinds) {
        const r = cells[k];
        values[k] = isSystemError(r) ? { socketError: errorJson(r) } : r.error ? { error: errorJson(r.error) } : { value: jsonValue(opt, r.value as OptionValue), text: formatValue(opt, r.value as OptionValue) };
      }
      const differ = differs(kinds.map((k) => cellText(opt, cells[k])));
      if (differ) differing++;
      jsonLineUntyped({ event: 'row', name: opt.name, level: opt.levelName, type: opt.type, differ, values });
    }
    jsonLineUntyped({ event: 'summary', options: rows.length, differing, unavailable });
    return 0;
  }
  const { default: Table } = await import('cli-table3'); // only --table pays for loading it
  const t = new Table({
    head: ['option', ...kinds],
    style: { head: [], border: [], compact: true },
  });
  for (const { opt, cells } of rows) {
    const texts = kinds.map((k) => cellText(opt, cells[k]));
    const differ = differs(texts);
    if (differ) differing++;
    t.push([differ ? c.yellow(`${opt.name} *`) : opt.name, ...texts.map((x) => (differ ? c.yellow(x) : x))]);
  }
  out(t.toString());
  out(`* ${differing} options differ between socket types; - not applicable (ENOPROTOOPT/EOPNOTSUPP)` +
    (unavailable.length ? `; n/a: no ${unavailable.join(', ')} socket (${strerror(rows[0].cells[unavailable[0]] as SystemError)}` +
      `${socketHint(unavailable[0], rows[0].cells[unavailable[0]] as SystemError) && `: ${socketHint(unavailable[0], rows[0].cells[unavailable[0]] as SystemError)}`})` : ''));
  return 0;
}

// ---------- --list: the option table itself ----------

function list(o: Opts): number {
  for (const opt of options) {
    const row = {
      name: opt.name, level: opt.levelName, optname: opt.undefined ? null : opt.optname, type: opt.type, access: opt.access,
      appliesTo: opt.appliesTo, description: opt.description, ...(opt.undefined ? { undefined: opt.undefined } : {}),
      ...(opt.privilege ? { privilege: opt.privilege } : {}),
    };
    if (o.json) jsonLineUntyped({ event: 'option', ...row });
    else {
      const where = opt.undefined ? `(undefined: ${opt.undefined})` : `${opt.access === 'both' ? 'get/set' : opt.access + ' only'}, ${opt.appliesTo.join(' ')}`;
      out(`${opt.name.padEnd(27)} ${opt.levelName.padEnd(14)} ${opt.type.padEnd(16)} ${opt.description} [${where}]`);
    }
  }
  if (o.json) jsonLineUntyped({ event: 'summary', options: options.length });
  return 0;
}

// ---------- get / set ----------

interface Assignment {
  word: string;
  opt: SockOpt;
  value?: OptionValue;
}

function parseAssignment(word: string, mode: 'get' | 'set'): Assignment {
  const eq = word.indexOf('=');
  const name = eq < 0 ? word : word.slice(0, eq);
  const opt = findOption(name);
  if (!opt) throw new UsageError(`unknown socket option '${name}' (sockit sockopt --list shows them)`);
  if (opt.undefined) throw new UsageError(`${opt.name} is not defined on Linux (${opt.undefined})`);
  if (eq < 0) {
    if (mode === 'set') throw new UsageError(`set needs NAME=VALUE, not '${word}'`);
    if (opt.access === 'set') throw new UsageError(`${opt.name} can only be set (give ${opt.name}=VALUE)`);
    return { word, opt };
  }
  try {
    return { word, opt, value: parseValue(opt, word.slice(eq + 1)) };
  } catch (e) {
    if (e instanceof OptionValueError) throw new UsageError(e.message);
    throw e;
  }
}

function getSet(mode: 'get' | 'set', words: string[], o: Opts): number {
  if (words.length === 0) throw new UsageError(`${mode} needs at least one option NAME${mode === 'set' ? '=VALUE' : '[=VALUE]'}`);
  const assignments = words.map((w) => parseAssignment(w, mode));
  const kind = socketChoice(o).kindFor(assignments.find((a) => a.opt.level !== SOL_SOCKET)?.opt ?? assignments[0].opt);
  let sock: Socket;
  try {
    sock = openKind(kind);
  } catch (e) {
    if (isSystemError(e)) throw new UsageError(`cannot open a ${kind} socket: ${e.code} (${strerror(e)})${socketHint(kind, e) && `; ${socketHint(kind, e)}`}`);
    throw e;
  }
  let rejected = 0;
  let failedReads = 0;
  try {
    // set in the order given, then read everything back
    const refused = new Map<Assignment, SystemError>();
    for (const a of assignments) {
      if (a.value === undefined) continue;
      try {
        setOption(sock, a.opt, a.value);
      } catch (e) {
        if (!isSystemError(e)) throw e;
        refused.set(a, e);
      }
    }
    for (const a of assignments) {
      const err = refused.get(a);
      if (err) {
        rejected++;
        const why = explainRejection(a.opt, err, kind, a.value);
        if (o.json) jsonLineUntyped({ event: 'option', name: a.opt.name, socket: kind, requested: jsonValue(a.opt, a.value!), rejected: { ...errorJson(err), reason: why } });
        process.stderr.write(`sockit sockopt: ${a.word}: setsockopt rejected it: ${why}\n`);
        continue;
      }
      if (a.opt.access === 'set') {
        if (o.json) jsonLineUntyped({ event: 'option', name: a.opt.name, socket: kind, requested: jsonValue(a.opt, a.value!), actual: null });
        else out(`${a.opt.name}: requested ${formatValue(a.opt, a.value!)}; set (it cannot be read back)`);
        continue;
      }
      const r = readOption(sock, a.opt);
      if (r.error) failedReads++;
      const note = a.value !== undefined && r.value !== undefined ? explainAdjustment(a.opt, a.value, r.value) : undefined;
      if (o.json) {
        jsonLineUntyped({
          event: 'option', name: a.opt.name, level: a.opt.levelName, socket: kind, type: a.opt.type,
          ...(a.value !== undefined ? { requested: jsonValue(a.opt, a.value) } : {}),
          ...(r.value !== undefined ? { actual: jsonValue(a.opt, r.value) } : {}),
          ...(r.error ? { error: errorJson(r.error) } : {}),
          ...(note ? { adjusted: note } : {}),
        });
      } else if (a.value === undefined) {
        out(`${a.opt.name}: ${formatOption(r, '')}`);
      } else {
        out(`${a.opt.name}: requested ${formatValue(a.opt, a.value)}; ${r.error ? formatOption(r) : `actual ${formatOption(r, '')}`}${note ? ` (${note})` : ''}`);
      }
    }
  } finally {
    sock.close();
  }
  if (o.json) jsonLineUntyped({ event: 'summary', socket: kind, options: assignments.length, rejected, failedReads });
  return rejected ? 2 : failedReads ? 1 : 0;
}

// ---------- --pid: sockets of another process ----------

function listProcess(pid: number, o: Opts): number {
  const socks = processSockets(pid);
  const comm = processName(pid);
  if (o.json) {
    for (const s of socks) jsonLineUntyped({ event: 'socket', pid, ...s });
    jsonLineUntyped({ event: 'summary', pid, comm, sockets: socks.length });
    return 0;
  }
  out(`pid ${pid} (${comm}): ${socks.length} socket${socks.length === 1 ? '' : 's'}`);
  if (socks.length === 0) return 0;
  const cols: [string, (s: ProcSocket) => string][] = [
    ['FD', (s) => String(s.fd)], ['TYPE', (s) => s.kind], ['STATE', (s) => s.state],
    ['RECV-Q', (s) => (s.rxQueue === undefined ? '' : String(s.rxQueue))], ['SEND-Q', (s) => (s.txQueue === undefined ? '' : String(s.txQueue))],
    ['LOCAL', (s) => s.local], ['PEER', (s) => s.remote], ['INODE', (s) => String(s.inode)],
  ];
  const cells = [cols.map(([h]) => h), ...socks.map((s) => cols.map(([, f]) => f(s)))];
  const widths = cols.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  for (const r of cells) out(r.map((x, i) => (i === r.length - 1 ? x : x.padEnd(widths[i]))).join('  ').trimEnd());
  return 0;
}

function describe(sock: Socket): string {
  const kind = kindOf(sock.domain, sock.type);
  if (!kind) return `domain ${sock.domain} type ${sock.type} protocol ${sock.protocol}`;
  let peer = '';
  try {
    peer = ` -> ${formatHostPort(sock.remoteAddress())}`;
  } catch { /* not connected */ }
  return `${kind} ${formatHostPort(sock.localAddress())}${peer}`;
}

function liveSocket(pid: number, fd: number, o: Opts): number {
  const sock = borrowSocket(pid, fd);
  const kind = kindOf(sock.domain, sock.type);
  let errors = 0;
  try {
    const head = `fd ${fd} of pid ${pid} (${processName(pid)}): ${describe(sock)}`;
    if (o.json) jsonLineUntyped({ event: 'socket', pid, fd, socket: kind ?? null, domain: sock.domain, type: sock.type, protocol: sock.protocol, text: head });
    else out(head);
    let info: TcpInfo | undefined;
    // the options of its type; of a type sockopt does not compare (netlink, packet ...) the generic ones
    const applies = (opt: SockOpt) => (kind ? opt.appliesTo.includes(kind) : opt.level === SOL_SOCKET);
    for (const opt of options) {
      // SO_ERROR is skipped: reading it clears the owner's pending error
      if (opt.undefined || opt.access === 'set' || opt.name === 'SO_ERROR' || !applies(opt)) continue;
      const r = readOption(sock, opt);
      if (r.error) errors++;
      if (o.json) jsonLineUntyped(readingJson(r, kind ?? 'other', ''));
      else if (opt.type === 'tcp_info' && r.value !== undefined) info = r.value as TcpInfo; // printed last, in full
      else out(`${opt.name}: ${formatOption(r, '')}`);
    }
    if (info && !o.json) {
      out('TCP_INFO:');
      for (const line of formatTcpInfo(info)) out(`    ${line}`);
    }
  } finally {
    sock.close(); // our duplicate only
  }
  if (o.json) jsonLineUntyped({ event: 'summary', pid, fd, errors });
  return 0;
}

// ---------- main ----------

export async function run(argv: string[]): Promise<number> {
  return runMain('sockopt', async () => {
    const cmd = makeCommand('sockopt')
      .description("UNP's checkopts: socket option defaults, get/set with the kernel's adjustments, options of a live socket")
      .usage('[get|set NAME[=VALUE]...] [options]')
      .argument('[words...]', 'get|set followed by NAME or NAME=VALUE (e.g. set SO_RCVBUF=64k SO_LINGER=1,5)')
      .option('--tcp', 'a TCP socket')
      .option('--udp', 'a UDP socket')
      .option('--raw', 'a raw ICMP/ICMPv6 socket (needs CAP_NET_RAW)')
      .option('--unix', 'a unix-domain stream socket')
      .option('-4, --ipv4', 'an IPv4 socket')
      .option('-6, --ipv6', 'an IPv6 socket')
      .option('--type <kind>', `the socket type: ${SOCK_KINDS.join(', ')}`)
      .option('--table', 'defaults of every option across all socket types')
      .option('--list', 'the options sockit knows: level, type, socket types, description')
      .option('--pid <pid>', "a process's sockets (with --fd: one socket's options)", intArg('pid', 1, 0x7fffffff))
      .option('--fd <n>', 'descriptor of the process given by --pid', intArg('descriptor', 0, 0x7fffffff))
      .option('--json', 'JSON lines: one object per option (or socket), then a summary');
    if (!parseArgs(cmd, argv)) return 0;
    const o = cmd.opts<Opts>();
    const words = cmd.processedArgs[0] as string[];
    const mode = words[0] === 'get' || words[0] === 'set' ? (words[0] as 'get' | 'set') : undefined;
    if (!mode && words.length) throw new UsageError(`unexpected '${words[0]}' (options are read with: sockit sockopt get NAME)`);
    if (o.fd !== undefined && o.pid === undefined) throw new UsageError('--fd needs --pid');
    const views = [mode, o.table && '--table', o.list && '--list', o.pid !== undefined && '--pid'].filter(Boolean);
    if (views.length > 1) throw new UsageError(`${views.join(' and ')} do not go together`);
    if ((o.table || o.list || o.pid !== undefined) && (o.tcp || o.udp || o.raw || o.unix || o.ipv4 || o.ipv6 || o.type)) {
      throw new UsageError(`${views[0]} takes no socket type options`);
    }
    if (mode) return getSet(mode, words.slice(1), o);
    if (o.table) return table(o);
    if (o.list) return list(o);
    if (o.pid !== undefined) return o.fd === undefined ? listProcess(o.pid, o) : liveSocket(o.pid, o.fd, o);
    return checkopts(o);
  });
}
