// sockit sock: W. R. Stevens' sock (UNP appendix C.3, TCPv1 appendix C),
// every option with the original's letters and messages, plus IPv6 and
// unix-domain sockets, and the throughput of a source or sink (★).
//
//   sockit sock [options] <host> <port>              interactive client
//   sockit sock [options] -s [<IPaddr>] <port>       interactive server
//   sockit sock [options] -i <host> <port>           "source" client
//   sockit sock [options] -i -s [<IPaddr>] <port>    "sink" server
//   ... --unix PATH instead of host and port
import { unlinkSync } from 'node:fs';
import { CommanderError } from 'commander';
import { checkStdin } from '../cli/stdio.js';
import { jsonRenderer, textRenderer, type Renderer } from '../output/index.js';
import { addressFamily, parseIPv4, parseIPv6 } from '../stack/packet/addr.js';
import {
  Broadcast,
  type Local,
  MAX_SROUTE,
  type SockConfig,
  SockFailure,
  type Summary,
  type Target,
  acceptLoop,
  cliopen,
  defaultConfig,
  loopDgram,
  loopStream,
  resolveHops,
  servopen,
  sinkDgram,
  sinkStream,
  sourceDgram,
  sourceStream,
  splitDotted,
} from '../stack/sock/index.js';
import { UsageError, atDeath, dieOf, familyFlag, makeCommand, onTerminate, parseArgs, reportError, strerrorOf } from './common.js';
import { PcapTap } from '../stack/sock/record.js';
import { PCAP_HELP, pcapArg } from './lib/pcap.js';
import { exitCodeOf, messageOf } from '../stack/errors.js';
import { NAME, presenter, type Shown } from './sock/text.js';

// the original's usage text (main.c), after commander's "Usage: sockit sock ",
// with sockit's additions marked ★
const USAGE = `[ options ] <host> <port>              (for client; default)
       sockit sock [ options ] -s [ <IPaddr> ] <port>     (for server)
       sockit sock [ options ] -i <host> <port>           (for "source" client)
       sockit sock [ options ] -i -s [ <IPaddr> ] <port>  (for "sink" server)
       sockit sock [ options ] [ -s ] --unix <path>       (★ unix-domain socket)`;

interface Parsed {
  cfg: SockConfig;
  /** --pcap FILE */
  pcap?: string;
  target?: Target;
  local?: Local;
  json: boolean;
  cbreak: boolean;
  onesbcast: boolean;
}

/** atoi with a complaint: sock's numeric option arguments. */
function num(letter: string, min = 0, max = 2147483647) {
  return (v: string): number => {
    if (!/^[-+]?\d+$/.test(v.trim())) throw new UsageError(`invalid -${letter} option: '${v}'`);
    if (Number(v) < min || Number(v) > max) throw new UsageError(`invalid -${letter} option: '${v}' (${min} to ${max})`);
    return Number(v);
  };
}

type FlagKey = { [K in keyof SockConfig]: SockConfig[K] extends boolean ? K : never }[keyof SockConfig];
type NumberKey = { [K in keyof SockConfig]: number extends SockConfig[K] ? K : never }[keyof SockConfig];

/**
 * The original's options (main.c's getopt string and usage text): a flag
 * sets a boolean of the config, a number a number (in [min, max]); the rest
 * are read by parse() itself.
 */
const OPTIONS: { flag: string; help: string; flagKey?: FlagKey; numKey?: NumberKey; range?: [number, number] }[] = [
  { flag: '-b <n>', help: "bind n as client's local port number", numKey: 'bindport', range: [0, 65535] },
  { flag: '-c', help: 'convert newline to CR/LF & vice versa', flagKey: 'crlf' },
  { flag: '-f <a.b.c.d.p>', help: 'foreign IP address = a.b.c.d, foreign port # = p (UDP server)' },
  { flag: '-g <a.b.c.d>', help: 'loose source route (up to 9)' },
  { flag: '-h', help: 'issue TCP half close on standard input EOF', flagKey: 'halfclose' },
  { flag: '-i', help: '"source" data to socket, "sink" data from socket (w/-s)', flagKey: 'sourcesink' },
  { flag: '-j <a.b.c.d>', help: 'join multicast group' },
  { flag: '-k', help: 'write or writev in chunks', flagKey: 'chunkwrite' },
  { flag: '-l <a.b.c.d.p>', help: "client's local IP address = a.b.c.d, local port # = p" },
  { flag: '-n <n>', help: '# buffers to write for "source" client (default 1024)', numKey: 'nbuf', range: [1, 2147483647] },
  { flag: '-o', help: 'do NOT connect UDP client' },
  { flag: '-p <n>', help: '# ms to pause before each read or write (source/sink)', numKey: 'pauserw' },
  { flag: '-q <n>', help: 'size of listen queue for TCP server (default 5)', numKey: 'listenq' },
  { flag: '-r <n>', help: '# bytes per read() for "sink" server (default 1024)', numKey: 'readlen', range: [1, 2147483647] },
  { flag: '-s', help: 'operate as server instead of client', flagKey: 'server' },
  { flag: '-t <n>', help: 'set multicast ttl (★ 0 too: the group on this host only)', numKey: 'mcastttl', range: [0, 255] },
  { flag: '-u', help: 'use UDP instead of TCP', flagKey: 'udp' },
  { flag: '-v', help: 'verbose' },
  { flag: '-w <n>', help: '# bytes per write() for "source" client (default 1024)', numKey: 'writelen', range: [1, 2147483647] },
  { flag: '-x <n>', help: '# ms for SO_RCVTIMEO (receive timeout)', numKey: 'rcvtimeo' },
  { flag: '-y <n>', help: '# ms for SO_SNDTIMEO (send timeout)', numKey: 'sndtimeo' },
  { flag: '-A', help: 'SO_REUSEADDR option', flagKey: 'reuseaddr' },
  { flag: '-B', help: 'SO_BROADCAST option', flagKey: 'broadcast' },
  { flag: '-C', help: 'set terminal to cbreak mode' },
  { flag: '-D', help: 'SO_DEBUG option', flagKey: 'debug' },
  { flag: '-E', help: 'IP_RECVDSTADDR option (IP_PKTINFO on Linux)', flagKey: 'recvdstaddr' },
  { flag: '-F', help: 'fork after connection accepted (TCP concurrent server; a handler per connection here)', flagKey: 'dofork' },
  { flag: '-G <a.b.c.d>', help: 'strict source route (up to 9)' },
  { flag: '-H <n>', help: 'IP_TOS option (16=min del, 8=max thru, 4=max rel, 2=min$)', numKey: 'iptos', range: [0, 255] },
  { flag: '-I', help: 'SIGIO signal', flagKey: 'sigio' },
  { flag: '-J <n>', help: 'IP_TTL option', numKey: 'ipttl', range: [0, 255] },
  { flag: '-K', help: 'SO_KEEPALIVE option', flagKey: 'keepalive' },
  { flag: '-L <n>', help: 'SO_LINGER option, n = linger time', numKey: 'linger' },
  { flag: '-N', help: 'TCP_NODELAY option', flagKey: 'nodelay' },
  { flag: '-O <n>', help: '# ms to pause after listen, but before first accept', numKey: 'pauselisten' },
  { flag: '-P <n>', help: '# ms to pause before first read or write (source/sink)', numKey: 'pauseinit' },
  { flag: '-Q <n>', help: '# ms to pause after receiving FIN, but before close', numKey: 'pauseclose' },
  { flag: '-R <n>', help: 'SO_RCVBUF option', numKey: 'rcvbuflen', range: [1, 2147483647] },
  { flag: '-S <n>', help: 'SO_SNDBUF option', numKey: 'sndbuflen', range: [1, 2147483647] },
  { flag: '-T', help: 'SO_REUSEPORT option', flagKey: 'reuseport' },
  { flag: '-U <n>', help: 'enter urgent mode before write number n (source only)', numKey: 'urgwrite', range: [1, 2147483647] },
  { flag: '-V', help: 'use writev() instead of write(); enables -k too', flagKey: 'usewritev' },
  { flag: '-W', help: 'ignore write errors for sink client', flagKey: 'ignorewerr' },
  { flag: '-X <n>', help: 'TCP_MAXSEG option (set MSS)', numKey: 'maxseg', range: [1, 2147483647] },
  { flag: '-Y', help: 'SO_DONTROUTE option', flagKey: 'dontroute' },
  { flag: '-Z', help: 'MSG_PEEK', flagKey: 'msgpeek' },
  { flag: '-2', help: 'IP_ONESBCAST option (BSD only)' },
  { flag: '-4', help: '★ IPv4 only' },
  { flag: '-6', help: '★ IPv6 only (and an IPv6 wildcard server)' },
  { flag: '--unix <path>', help: '★ unix-domain socket at path (@name: abstract); -u for datagrams' },
  { flag: '--json', help: '★ events as JSON lines (stdout for a source or sink, stderr otherwise)' },
  { flag: '--pcap <file>', help: `★ ${PCAP_HELP}` },
];

function parse(argv: string[]): Parsed | null {
  const cfg = defaultConfig();
  const hops: { strict: boolean; host: string }[] = [];
  const cmd = makeCommand(NAME, { shortHelp: false })
    .description("Stevens' sock: a TCP/UDP/unix client, server, source and sink with every socket option")
    .usage(USAGE)
    .argument('[args...]', 'host and port (client), [address] port (server)')
    .addHelpText('after', '\nExit status: 0 done, 1 a system call failed, 2 bad usage or a failed bind. See sockit-sock(1).');
  for (const d of OPTIONS) {
    if (d.numKey) cmd.option(d.flag, d.help, num(d.flag[1], ...(d.range ?? [0, 2147483647])));
    else cmd.option(d.flag, d.help);
  }
  cmd.on('option:v', () => cfg.verbose++);
  cmd.on('option:g', (v: string) => hops.push({ strict: false, host: v }));
  cmd.on('option:G', (v: string) => hops.push({ strict: true, host: v }));
  try {
    if (!parseArgs(cmd, argv)) return null;
  } catch (e) {
    // getopt(3) with opterr = 0: the book's "unrecognized option"
    const m = e instanceof UsageError && /^unknown option '([^']*)'/.exec(e.message);
    if (m) throw new UsageError(`unrecognized option '${m[1]}'`);
    if (e instanceof UsageError && /argument missing/.test(e.message))
      throw new UsageError(e.message.replace(/^option '-+([^ ']*).*/, "option requires an argument -- '$1'"));
    throw e;
  }
  const o = cmd.opts();
  for (const d of OPTIONS) {
    const v: unknown = o[d.flag[1]];
    if (d.flagKey && v) cfg[d.flagKey] = true;
    if (d.numKey && v !== undefined) cfg[d.numKey] = v as number;
  }
  if (cfg.usewritev) cfg.chunkwrite = true; // -V implies -k
  cfg.connectudp = !o.o;
  if (o.f !== undefined) {
    const d = splitDotted(o.f);
    if (!d) throw new UsageError('invalid -f option');
    cfg.foreign = { ip: d.address, port: d.port };
  }
  if (o.j !== undefined) {
    const fam = addressFamily(o.j);
    const first = fam === 4 ? parseIPv4(o.j)![0] : fam === 6 ? parseIPv6(o.j)![0] : 0;
    if (!(fam === 4 && (first & 0xf0) === 0xe0) && !(fam === 6 && first === 0xff)) throw new UsageError(`invalid multicast address: ${o.j}`);
    cfg.joinip = o.j;
  }
  if (o.l !== undefined) {
    const d = splitDotted(o.l);
    if (!d || !/^\d+$/.test(d.port) || Number(d.port) > 65535) throw new UsageError('invalid -l option');
    cfg.bindport = Number(d.port);
    cfg.localip = d.address;
  }
  cfg.family = familyFlag(o, "can't specify -4 and -6");
  if (hops.length > MAX_SROUTE) throw new UsageError(`too many source routes with: ${hops[MAX_SROUTE].host}`);
  if (hops.length) cfg.sroute = { strict: hops[0].strict, hops: hops.map((h) => h.host) };

  // "check for options that don't make sense" (main.c)
  if (cfg.udp && cfg.halfclose) throw new UsageError("can't specify -h and -u");
  if (cfg.udp && cfg.debug) throw new UsageError("can't specify -D and -u");
  if (cfg.udp && cfg.linger >= 0) throw new UsageError("can't specify -L and -u");
  if (cfg.udp && cfg.nodelay) throw new UsageError("can't specify -N and -u");
  if (!cfg.udp && cfg.foreign) throw new UsageError("can't specify -f with TCP");

  const args = cmd.args;
  const parsed: Parsed = { cfg, json: !!o.json, cbreak: !!o.C, onesbcast: !!o['2'], pcap: o.pcap === undefined ? undefined : pcapArg(o.pcap) };
  if (o.pcap !== undefined && o.unix !== undefined) throw new UsageError("can't specify --pcap with --unix");
  if (o.unix !== undefined) {
    cfg.unix = o.unix;
    if (args.length) throw new UsageError('--unix takes no <host> or <port>');
    for (const [set, letter] of [
      [o.b, 'b'],
      [o.l, 'l'],
      [o.f, 'f'],
      [o.j, 'j'],
      [hops.length || undefined, 'g'],
      [o['4'] || o['6'] || undefined, '4/-6'],
    ] as const) {
      if (set !== undefined) throw new UsageError(`can't specify -${letter} with --unix`);
    }
    if (cfg.server) parsed.local = { unix: o.unix };
    else parsed.target = { unix: o.unix };
  } else if (args.length > 2) {
    throw new UsageError(`extra argument '${args[2]}' after ${cfg.server ? '[<IPaddr>] <port>' : '<hostname> <port>'}`);
  } else if (!cfg.server) {
    if (args.length !== 2) throw new UsageError('missing <hostname> and/or <port>');
    parsed.target = { host: args[0], port: args[1] };
  } else if (args.length === 2) {
    // a server given host and port binds that address instead of the wildcard
    parsed.local = { host: args[0], port: args[1] };
  } else if (args.length === 1) {
    parsed.local = { port: args[0] };
  } else {
    throw new UsageError('missing <port>');
  }
  return parsed;
}

// ---------- main ----------

/** --pcap: the file open before any socket (a failed open is one line, exit 1), finished on every way out. */
function pcapTap(path: string): PcapTap {
  let tap: PcapTap;
  try {
    tap = new PcapTap(path);
  } catch (e) {
    throw new SockFailure(`${path}: ${strerrorOf(e)}`);
  }
  atDeath(() => tap.close());
  // sock dies of SIGINT and SIGTERM where it has no handler of its own: still so, with the file finished first
  onTerminate((signal) => {
    if (process.listenerCount(signal) === 1) dieOf(signal);
  });
  return tap;
}

function removePath(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

type Emit = (e: Shown) => void;

/** Standard input before a loop reads it: a directory fails as read(2) would (loop.c's "read error"). */
function stdinReady(): void {
  const bad = checkStdin();
  if (bad) throw new SockFailure('read error', { cause: bad });
}

/** -I's SIGIO and -C's cbreak mode, set up before the socket; returns what undoes them. */
function terminal(parsed: Parsed, emit: Emit): (() => void)[] {
  const { cfg } = parsed;
  const cleanups: (() => void)[] = [];
  const stdin = process.stdin;
  if (cfg.sigio) {
    // before O_ASYNC is set: SIGIO's default action ends the process
    const onSigio = () => emit({ event: 'sigio' });
    process.on('SIGIO', onSigio);
    cleanups.push(() => process.off('SIGIO', onSigio));
  }
  if (parsed.cbreak && !cfg.sourcesink) {
    if (stdin.isTTY) {
      // raw mode is as close as Node comes to cbreak: ^C still ends sock
      stdin.setRawMode(true);
      const onCtrlC = (d: Buffer) => {
        if (!d.includes(3)) return;
        stdin.setRawMode(false);
        process.kill(process.pid, 'SIGINT');
      };
      stdin.on('data', onCtrlC);
      cleanups.push(() => {
        stdin.off('data', onCtrlC);
        stdin.setRawMode(false);
      });
    } else {
      emit({ event: 'warning', message: '-C: standard input is not a terminal' });
    }
  }
  return cleanups;
}

/** cliopen, then the source or the interactive loop. */
async function client(parsed: Parsed, emit: Emit, transfer: (s: Summary) => void): Promise<void> {
  const { cfg } = parsed;
  const o = await cliopen(cfg, parsed.target!, emit);
  if (cfg.sourcesink) {
    transfer(cfg.udp ? await sourceDgram(o.sock, cfg, emit, o.remote) : await sourceStream(o.sock, cfg, emit));
    return;
  }
  stdinReady();
  const io = { input: process.stdin, output: process.stdout };
  if (cfg.udp) await loopDgram(o.sock, cfg, io, emit, o.remote);
  else await loopStream(o.sock, cfg, io, emit);
}

/** servopen, then the sink or the interactive loop, over datagrams or accepted connections. */
async function server(parsed: Parsed, emit: Emit, transfer: (s: Summary) => void, cleanups: (() => void)[]): Promise<void> {
  const { cfg } = parsed;
  const stdin = process.stdin;
  // a UDP sink ends at a zero-length datagram, or at SIGINT/SIGTERM with its summary
  const ac = new AbortController();
  if (cfg.udp && cfg.sourcesink) cleanups.push(onTerminate(() => ac.abort()));
  const l = await servopen(cfg, parsed.local!, emit);
  const created = l.created;
  if (created && !(cfg.udp && cfg.sourcesink)) {
    // a unix socket path goes with its server, also when a signal ends it
    const off = onTerminate((signal) => {
      off();
      removePath(created);
      process.kill(process.pid, signal);
    });
    cleanups.push(off);
  }
  try {
    if (cfg.udp && cfg.sourcesink) return transfer(await sinkDgram(l.sock, cfg, emit, ac.signal));
    if (!cfg.sourcesink) stdinReady();
    if (cfg.udp) return await loopDgram(l.sock, cfg, { input: stdin, output: process.stdout }, emit, null);
    const broadcast = cfg.dofork && !cfg.sourcesink ? new Broadcast(stdin) : undefined;
    await acceptLoop(l.sock, cfg, emit, async (conn) => {
      if (cfg.sourcesink) return transfer(await sinkStream(conn, cfg, emit));
      if (!broadcast) return loopStream(conn, cfg, { input: stdin, output: process.stdout }, emit);
      const input = broadcast.subscribe();
      try {
        await loopStream(conn, cfg, { input, output: process.stdout }, emit);
      } finally {
        broadcast.unsubscribe(input);
      }
    });
  } finally {
    if (!l.sock.isClosed) l.sock.close();
    if (created) removePath(created);
  }
}

async function main(parsed: Parsed, emit: Emit, transfer: (s: Summary) => void): Promise<number> {
  const { cfg } = parsed;
  const stdin = process.stdin;
  if (parsed.onesbcast) emit({ event: 'warning', message: 'IP_ONESBCAST not supported by host (Linux sends to 255.255.255.255 as given; use -B)' });
  if (cfg.sroute) cfg.sroute.hops = await resolveHops(cfg.sroute.hops);
  const cleanups = terminal(parsed, emit);
  try {
    if (cfg.server) await server(parsed, emit, transfer, cleanups);
    else await client(parsed, emit, transfer);
    return 0;
  } finally {
    for (const c of cleanups) c();
    // the loop may end with standard input still open (a terminal, a pipe)
    stdin.pause();
    if (!stdin.destroyed && stdin.listenerCount('data') === 0) stdin.destroy();
  }
}

/**
 * Where events go: the book's lines (stderr, and stdout for a source's or
 * sink's summary); with --json every event as a JSON line, on stdout for a
 * source or sink and on stderr when stdout carries the data.
 */
function output(parsed: Parsed): { r: Renderer<Shown>; stream: NodeJS.WritableStream | null } {
  const p = presenter(parsed.cfg);
  if (!parsed.json) return { r: textRenderer(p), stream: null };
  const stream = parsed.cfg.sourcesink ? process.stdout : process.stderr;
  return { r: jsonRenderer(p, stream), stream };
}

/** The error that ended a run: its exit code, reported as the one line or as an `error` record. */
function failed(e: unknown, r: Renderer<Shown>, stream: NodeJS.WritableStream | null): number {
  const sf = e instanceof SockFailure ? e : undefined;
  // err_sys / err_quit: exit 1; bad input: exit 2
  const code = sf ? (sf.usage ? 2 : 1) : exitCodeOf(e);
  const message = sf ? sf.message : messageOf(e);
  if (!stream) {
    if (sf) r.emit({ event: 'failed', usage: sf.usage, message });
    else reportError(NAME, e); // a stack trace too with SOCKIT_DEBUG=1
    return code;
  }
  r.emit({ event: 'failed', usage: code === 2, message, code: sf?.system?.code });
  // the line on stderr too, while stderr is not where the records go
  if (stream === process.stdout) process.stderr.write(`sockit ${NAME}: ${message}\n`);
  return code;
}

export async function run(argv: string[]): Promise<number> {
  let parsed: Parsed | null;
  try {
    parsed = parse(argv);
  } catch (e) {
    if (e instanceof CommanderError) return reportError(NAME, new UsageError(e.message));
    return reportError(NAME, e);
  }
  if (!parsed) return 0;
  const { r, stream } = output(parsed);
  const transfers: Summary[] = [];
  const transfer = (s: Summary) => {
    transfers.push(s);
    r.emit({ event: 'transfer', summary: s });
  };
  let code: number;
  let tap: PcapTap | undefined;
  try {
    tap = parsed.pcap === undefined ? undefined : pcapTap(parsed.pcap);
    parsed.cfg.tap = tap;
    code = await main(parsed, (e) => r.emit(e), transfer);
  } catch (e) {
    code = failed(e, r, stream);
  }
  // -v: how the file was made (not among --json's records on standard error)
  if (tap && parsed.cfg.verbose && !parsed.json && tap.mechanism) process.stderr.write(`sockit ${NAME}: --pcap ${parsed.pcap}: ${tap.mechanism}\n`);
  tap?.close();
  // sockit(1): the last JSON line is a summary with the exit status
  if (parsed.json) r.emit({ event: 'summary', exitCode: code, transfers });
  await r.drain();
  return code;
}
