// sockit sockopt (alias checkopts): UNP 7.3's checkopts, getting and setting
// options with what the kernel made of them, and the options of a live
// socket in another process (pidfd_getfd(2)).
//
//   sockit sockopt [--tcp|--udp|--raw|--unix] [-4|-6]     every option's default
//   sockit sockopt --table                                 defaults across socket types
//   sockit sockopt get|set [socket] NAME[=VALUE] ...       set in order, each read back
//   sockit sockopt --pid PID [--fd N]                      a process's sockets / one's options
import { UsageError, colour, intArg, jsonLine, makeCommand, parseArgs, runMain } from './common.js';
import type { JsonRecord } from '../output/index.js';
import { isSystemError, strerror, type SystemError } from '../stack/errors.js';
import { borrowSocket, processName, processSockets, type ProcSocket } from '../stack/procsock.js';
import { SOL_SOCKET } from '../stack/constants.js';
import { formatHostPort, type Socket } from '../stack/socket.js';
import {
  OPTIONS,
  OptionValueError,
  SOCK_KINDS,
  SocketsByKind,
  applyInOrder,
  bookKind,
  findOption,
  formatOption,
  formatTcpInfo,
  formatValue,
  jsonValue,
  kindOf,
  openHint,
  openKind,
  parseValue,
  readOption,
  type OptionOutcome,
  type OptionRequest,
  type OptionValue,
  type Reading,
  type SockKind,
  type SockOpt,
} from '../stack/sockopt.js';
import type { TcpInfo } from '../stack/structs.js';
import { fitTable, terminalWidth, wrapText } from './sockopt/layout.js';

interface Opts {
  tcp?: boolean;
  udp?: boolean;
  raw?: boolean;
  unix?: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
  type?: string;
  table?: boolean;
  list?: boolean;
  pid?: number;
  fd?: number;
  json?: boolean;
}

const out = (line = '') => process.stdout.write(line + '\n');
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

// ---------- records (sockit(1), JSON OUTPUT) ----------

function errorJson(e: SystemError) {
  return { code: e.code, errno: -e.errno, message: strerror(e.errno) };
}

/** An option's identity in every record: name, level, the socket it was read on and its C type. */
function optionHead(o: SockOpt, kind: SockKind | 'other' | null) {
  return { type: 'option', name: o.name, level: o.levelName, ...(kind ? { socket: kind } : {}), c_type: o.type };
}

function readingJson(r: Reading, kind: SockKind | 'other', label = 'default = '): JsonRecord {
  return {
    ...optionHead(r.option, kind),
    ...(r.undefined !== undefined ? { undefined: r.undefined } : {}),
    ...(r.error ? { error: errorJson(r.error) } : {}),
    ...(r.value !== undefined ? { value: jsonValue(r.option, r.value) } : {}),
    text: formatOption(r, label),
  };
}

// ---------- checkopts (UNP figure 7.3) ----------

function checkopts(o: Opts): number {
  const { kindFor } = socketChoice(o);
  const socks = new SocketsByKind();
  const counts = { options: 0, values: 0, errors: 0, undefined: 0 };
  const show = (r: Reading, kind: SockKind) => (o.json ? jsonLine(readingJson(r, kind)) : out(`${r.option.name}: ${formatOption(r)}`));
  try {
    for (const opt of options) {
      counts.options++;
      const kind = kindFor(opt);
      if (opt.undefined) {
        counts.undefined++;
        show({ option: opt, undefined: opt.undefined }, kind);
        continue;
      }
      const s = socks.get(kind);
      if (isSystemError(s)) {
        counts.errors++;
        const hint = openHint(kind, s);
        if (o.json) jsonLine({ ...optionHead(opt, kind), socket_error: errorJson(s), text: `socket error: ${strerror(s.errno)}` });
        else out(`${opt.name}: socket error: ${strerror(s.errno)}${hint && ` (${hint})`}`);
        continue;
      }
      const r = readOption(s, opt);
      if (r.error) counts.errors++;
      else counts.values++;
      show(r, kind);
    }
  } finally {
    socks.closeAll();
  }
  if (o.json) jsonLine({ type: 'summary', ...counts, exit_code: 0 });
  return 0;
}

// ---------- --table: defaults across socket types ----------

const NOT_HERE = new Set(['ENOPROTOOPT', 'EOPNOTSUPP']);

type Cell = Reading | SystemError;

/** Every readable option on every socket kind (a kind that cannot be opened: its error in each cell). */
function readTable(): { opt: SockOpt; cells: Record<SockKind, Cell> }[] {
  const socks = new SocketsByKind();
  try {
    return options
      .filter((opt) => !opt.undefined && opt.access !== 'set')
      .map((opt) => {
        const cells = {} as Record<SockKind, Cell>;
        for (const k of SOCK_KINDS) {
          const s = socks.get(k);
          cells[k] = isSystemError(s) ? s : readOption(s, opt);
        }
        return { opt, cells };
      });
  } finally {
    socks.closeAll();
  }
}

function cellText(opt: SockOpt, r: Cell): string {
  if (isSystemError(r)) return 'n/a';
  if (r.error) return NOT_HERE.has(r.error.code) ? '-' : r.error.code;
  return formatValue(opt, r.value as OptionValue, true);
}

function cellJson(opt: SockOpt, kind: SockKind, r: Cell) {
  if (isSystemError(r)) return { socket: kind, socket_error: errorJson(r) };
  if (r.error) return { socket: kind, error: errorJson(r.error) };
  return { socket: kind, value: jsonValue(opt, r.value as OptionValue), text: formatValue(opt, r.value as OptionValue) };
}

// a row stands out when the sockets it applies to disagree
const differs = (texts: string[]) => new Set(texts.filter((x) => x !== '-' && x !== 'n/a')).size > 1;

async function table(o: Opts): Promise<number> {
  const rows = readTable();
  const kinds = SOCK_KINDS;
  const unavailable = kinds.filter((k) => isSystemError(rows[0]?.cells[k]));
  const texts = rows.map(({ opt, cells }) => kinds.map((k) => cellText(opt, cells[k])));
  const differing = texts.filter(differs).length;
  if (o.json) {
    rows.forEach(({ opt, cells }, i) => {
      jsonLine({ ...optionHead(opt, null), differ: differs(texts[i]), values: kinds.map((k) => cellJson(opt, k, cells[k])) });
    });
    jsonLine({ type: 'summary', options: rows.length, differing, unavailable, exit_code: 0 });
    return 0;
  }
  const c = await colour();
  const width = terminalWidth();
  const body = rows.map(({ opt }, i) => {
    const differ = differs(texts[i]);
    const paint = (x: string) => (differ ? c.yellow(x) : x);
    return { plain: [differ ? `${opt.name} *` : opt.name, ...texts[i]], paint };
  });
  for (const t of await fitTable(['option', ...kinds], body, width)) out(t);
  const first = unavailable[0] && (rows[0].cells[unavailable[0]] as SystemError);
  const hint = first ? openHint(unavailable[0], first) : '';
  const note =
    `* ${differing} options differ between socket types; - not applicable (ENOPROTOOPT/EOPNOTSUPP)` +
    (first ? `; n/a: no ${unavailable.join(', ')} socket (${strerror(first.errno)}${hint && `: ${hint}`})` : '');
  for (const l of wrapText(note, width)) out(l);
  return 0;
}

// ---------- --list: the option table itself ----------

function list(o: Opts): number {
  const width = terminalWidth();
  for (const opt of options) {
    if (o.json) {
      jsonLine({
        ...optionHead(opt, null),
        optname: opt.undefined ? null : opt.optname,
        access: opt.access,
        applies_to: opt.appliesTo,
        description: opt.description,
        ...(opt.undefined ? { undefined: opt.undefined } : {}),
        ...(opt.privilege ? { privilege: opt.privilege } : {}),
      });
      continue;
    }
    const where = opt.undefined ? `(undefined: ${opt.undefined})` : `${opt.access === 'both' ? 'get/set' : opt.access + ' only'}, ${opt.appliesTo.join(' ')}`;
    const head = `${opt.name.padEnd(27)} ${opt.levelName.padEnd(14)} ${opt.type.padEnd(16)} `;
    const desc = `${opt.description} [${where}]`;
    if (head.length + desc.length <= width) {
      out(head + desc);
    } else if (width - head.length >= 30) {
      // a hanging indent under the description's column
      wrapText(desc, width - head.length).forEach((l, i) => out((i ? ' '.repeat(head.length) : head) + l));
    } else {
      out(head.trimEnd());
      for (const l of wrapText(desc, width - 4)) out(`    ${l}`);
    }
  }
  if (o.json) jsonLine({ type: 'summary', options: options.length, exit_code: 0 });
  return 0;
}

// ---------- get / set ----------

interface Assignment extends OptionRequest {
  word: string;
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

/** The line `get`/`set` prints for an outcome (on stdout; a rejection goes to stderr). */
function outcomeText(a: Assignment, r: OptionOutcome): string {
  const o = a.opt;
  if ('rejected' in r) return `${a.word}: setsockopt rejected it: ${r.reason}`;
  if ('setOnly' in r) return `${o.name}: requested ${formatValue(o, a.value!)}; set (it cannot be read back)`;
  if (a.value === undefined) return `${o.name}: ${formatOption(r.reading, '')}`;
  const got = r.reading.error ? formatOption(r.reading) : `actual ${formatOption(r.reading, '')}`;
  return `${o.name}: requested ${formatValue(o, a.value)}; ${got}${r.adjusted ? ` (${r.adjusted})` : ''}`;
}

function outcomeJson(a: Assignment, r: OptionOutcome, kind: SockKind): JsonRecord {
  const o = a.opt;
  const requested = a.value !== undefined ? { requested: jsonValue(o, a.value) } : {};
  if ('rejected' in r) return { ...optionHead(o, kind), ...requested, rejected: { ...errorJson(r.rejected), reason: r.reason }, text: outcomeText(a, r) };
  if ('setOnly' in r) return { ...optionHead(o, kind), ...requested, actual: null, text: outcomeText(a, r) };
  return {
    ...optionHead(o, kind),
    ...requested,
    ...(r.reading.value !== undefined ? { actual: jsonValue(o, r.reading.value) } : {}),
    ...(r.reading.error ? { error: errorJson(r.reading.error) } : {}),
    ...(r.adjusted ? { adjusted: r.adjusted } : {}),
    text: outcomeText(a, r),
  };
}

function getSet(mode: 'get' | 'set', words: string[], o: Opts): number {
  if (words.length === 0) throw new UsageError(`${mode} needs at least one option NAME${mode === 'set' ? '=VALUE' : '[=VALUE]'}`);
  const assignments = words.map((w) => parseAssignment(w, mode));
  const kind = socketChoice(o).kindFor(assignments.find((a) => a.opt.level !== SOL_SOCKET)?.opt ?? assignments[0].opt);
  let sock: Socket;
  try {
    sock = openKind(kind);
  } catch (e) {
    if (isSystemError(e))
      throw new UsageError(`cannot open a ${kind} socket: ${e.code} (${strerror(e.errno)})${openHint(kind, e) && `; ${openHint(kind, e)}`}`);
    throw e;
  }
  let outcomes: OptionOutcome[];
  try {
    outcomes = applyInOrder(sock, kind, assignments);
  } finally {
    sock.close();
  }
  let rejected = 0;
  let failedReads = 0;
  outcomes.forEach((r, i) => {
    const a = assignments[i];
    if ('rejected' in r) rejected++;
    else if ('reading' in r && r.reading.error) failedReads++;
    if (o.json) jsonLine(outcomeJson(a, r, kind));
    if ('rejected' in r) process.stderr.write(`sockit sockopt: ${outcomeText(a, r)}\n`);
    else if (!o.json) out(outcomeText(a, r));
  });
  const code = rejected ? 2 : failedReads ? 1 : 0;
  if (o.json) jsonLine({ type: 'summary', socket: kind, options: assignments.length, rejected, failed_reads: failedReads, exit_code: code });
  return code;
}

// ---------- --pid: sockets of another process ----------

function socketJson(pid: number, s: ProcSocket): JsonRecord {
  return {
    type: 'socket',
    pid,
    fd: s.fd,
    inode: s.inode,
    kind: s.kind,
    state: s.state || null,
    local: s.localEnd ?? null,
    remote: s.remoteEnd ?? null,
    rx_queue: s.rxQueue ?? null,
    tx_queue: s.txQueue ?? null,
  };
}

function listProcess(pid: number, o: Opts): number {
  const socks = processSockets(pid);
  const comm = processName(pid);
  if (o.json) {
    for (const s of socks) jsonLine(socketJson(pid, s));
    jsonLine({ type: 'summary', pid, comm: comm || null, sockets: socks.length, exit_code: 0 });
    return 0;
  }
  out(`pid ${pid} (${comm}): ${socks.length} socket${socks.length === 1 ? '' : 's'}`);
  if (socks.length === 0) return 0;
  const cols: [string, (s: ProcSocket) => string][] = [
    ['FD', (s) => String(s.fd)],
    ['TYPE', (s) => s.kind],
    ['STATE', (s) => s.state],
    ['RECV-Q', (s) => (s.rxQueue === undefined ? '' : String(s.rxQueue))],
    ['SEND-Q', (s) => (s.txQueue === undefined ? '' : String(s.txQueue))],
    ['LOCAL', (s) => s.local],
    ['PEER', (s) => s.remote],
    ['INODE', (s) => String(s.inode)],
  ];
  const cells = [cols.map(([h]) => h), ...socks.map((s) => cols.map(([, f]) => f(s)))];
  const widths = cols.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  for (const r of cells)
    out(
      r
        .map((x, i) => (i === r.length - 1 ? x : x.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    );
  return 0;
}

function describe(sock: Socket): string {
  const kind = kindOf(sock.domain, sock.type);
  if (!kind) return `domain ${sock.domain} type ${sock.type} protocol ${sock.protocol}`;
  let peer = '';
  try {
    peer = ` -> ${formatHostPort(sock.remoteAddress())}`;
  } catch {
    /* not connected */
  }
  return `${kind} ${formatHostPort(sock.localAddress())}${peer}`;
}

function liveSocket(pid: number, fd: number, o: Opts): number {
  const sock = borrowSocket(pid, fd);
  const kind = kindOf(sock.domain, sock.type);
  let errors = 0;
  try {
    const head = `fd ${fd} of pid ${pid} (${processName(pid)}): ${describe(sock)}`;
    if (o.json) jsonLine({ type: 'socket', pid, fd, socket: kind ?? null, domain: sock.domain, sock_type: sock.type, protocol: sock.protocol, text: head });
    else out(head);
    let info: TcpInfo | undefined;
    // the options of its type; of a type sockopt does not compare (netlink, packet ...) the generic ones
    const applies = (opt: SockOpt) => (kind ? opt.appliesTo.includes(kind) : opt.level === SOL_SOCKET);
    for (const opt of options) {
      // SO_ERROR is skipped: reading it clears the owner's pending error
      if (opt.undefined || opt.access === 'set' || opt.name === 'SO_ERROR' || !applies(opt)) continue;
      const r = readOption(sock, opt);
      if (r.error) errors++;
      if (o.json) jsonLine(readingJson(r, kind ?? 'other', ''));
      else if (opt.type === 'tcp_info' && r.value !== undefined)
        info = r.value as TcpInfo; // printed last, in full
      else out(`${opt.name}: ${formatOption(r, '')}`);
    }
    if (info && !o.json) {
      out('TCP_INFO:');
      for (const line of formatTcpInfo(info)) out(`    ${line}`);
    }
  } finally {
    sock.close(); // our duplicate only
  }
  if (o.json) jsonLine({ type: 'summary', pid, fd, errors, exit_code: 0 });
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
