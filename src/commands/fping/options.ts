// sockit fping's options, parsed as fping 5.1 parses them (its option
// letters and long names, its checks and their wording) into plain options.
// fping's manual gives exit status 3 for bad arguments (fping 5.1 itself
// exits 1 for most): sockit follows the manual.
import { Option } from 'commander';
import { UsageError, makeCommand, parseArgs, sockitVersion } from '../common.js';
import { NAME } from './text.js';

/** fping's manual: invalid command line arguments */
export const EXIT_USAGE = 3;
/** fping.c: MAX_IP_PACKET - SIZE_IP_HDR - SIZE_ICMP_HDR */
export const MAX_PING_DATA = 65536 - 40 - 8;
/** fping options.h */
export const MIN_BACKOFF = 1.0;
export const MAX_BACKOFF = 5.0;
/** fping options.h: AUTOTUNE_TIMEOUT_MAX, the -t a count or loop run takes from -p at most */
export const AUTOTUNE_TIMEOUT_MAX = 2000;

export interface Opts {
  /** -c or -C */
  count?: number;
  /** -C: every ping's time in the summary */
  vcount: boolean;
  loop: boolean;
  quiet: boolean;
  /** -Q: seconds between interval summaries (0: none) */
  reportS: number;
  stats: boolean;
  alive: boolean;
  unreach: boolean;
  elapsed: boolean;
  timestamp: boolean;
  outage: boolean;
  intervalMs: number;
  periodMs: number;
  timeoutMs: number;
  /** -t was given (else count and loop runs take it from -p) */
  timeoutGiven: boolean;
  retries: number;
  backoff: number;
  size: number;
  family: 0 | 4 | 6;
  addr: boolean;
  name: boolean;
  rdns: boolean;
  /** -x or -X */
  reachable: number;
  /** -X: stop as soon as -X hosts answered */
  fastReachable: boolean;
  ttl?: number;
  tos?: number;
  dontFrag: boolean;
  random: boolean;
  source?: string;
  iface?: string;
  file?: string;
  generate: boolean;
  json: boolean;
  /** --openmetrics: the result as metrics, to standard output (true) or to this file, written atomically */
  openmetrics?: true | string;
  mode?: 'dgram' | 'raw';
  /** fping's verbose_flag and per_recv_flag, as main() settles them */
  verbose: boolean;
  perRecv: boolean;
}

const bad = (what: string, v: string) => new UsageError(`invalid ${what}: '${v}'`, EXIT_USAGE);

/** fping's sscanf("%f") of a non-negative time: its value, or usage. */
function floatArg(what: string) {
  return (v: string): number => {
    const m = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(v);
    if (!m) throw bad(what, v);
    const n = Number(m[0]);
    if (!(n >= 0)) throw bad(what, v);
    return Math.fround(n);
  };
}

/** atoi() that must not be 0 (-c, -C, -x, -X, -H). */
function positiveArg(what: string) {
  return (v: string): number => {
    const m = /^\s*[-+]?\d+/.exec(v);
    const n = m ? Number(m[0]) : 0;
    if (!Number.isFinite(n) || n <= 0 || n > 0xffffffff) throw bad(what, v);
    return n;
  };
}

/** sscanf("%u") (-r, -b). */
function unsignedArg(what: string) {
  return (v: string): number => {
    const m = /^\s*\+?\d+/.exec(v);
    if (!m) throw bad(what, v);
    return Number(m[0]);
  };
}

/** sscanf("%i") (-O): decimal, 0x hex or 0 octal. */
function tosArg(v: string): number {
  const t = v.trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t, 16) : /^0[0-7]*$/.test(t) ? parseInt(t, 8) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isInteger(n) || n > 255) throw bad('type of service', v);
  return n;
}

export function parse(argv: string[]): { opts: Opts; targets: string[] } | number {
  const cmd = makeCommand(NAME)
    .description('send ICMP ECHO_REQUEST packets to many network hosts at once (fping)')
    .usage('[options] [targets...]')
    .argument('[targets...]', 'hosts to ping (default: read from standard input, one a line)')
    .option('-4, --ipv4', 'only ping IPv4 addresses')
    .option('-6, --ipv6', 'only ping IPv6 addresses')
    .option('-b, --size <bytes>', 'amount of ping data to send, in bytes (default: 56)', unsignedArg('size'))
    .option('-B, --backoff <n>', 'set exponential backoff factor to N (default: 1.5)', (v: string) => {
      const n = Number.parseFloat(v);
      if (!n) throw bad('backoff factor', v);
      return Math.fround(n);
    })
    .option('-c, --count <n>', 'count mode: send N pings to each target', positiveArg('count'))
    .option('-f, --file <file>', 'read list of targets from a file ( - means stdin)')
    .option('-g, --generate', 'generate target list: a start and end IPv4 address, or a CIDR address')
    .option('-H, --ttl <n>', 'set the IP TTL value (Time To Live hops)', positiveArg('ttl'))
    .option('-I, --iface <iface>', 'bind to a particular interface')
    .option('-l, --loop', 'loop mode: send pings forever')
    .option('-M, --dontfrag', "set the Don't Fragment flag")
    .option('-O, --tos <n>', 'set the type of service (tos) flag on the ICMP packets', tosArg)
    .option('-p, --period <msec>', 'interval between ping packets to one target (in ms; count and loop modes, default: 1000 ms)', floatArg('period'))
    .option('-r, --retry <n>', 'number of retries (default: 3)', unsignedArg('retry'))
    .option('-R, --random', 'random packet data (to foil link data compression)')
    .option('-S, --src <ip>', 'set source address')
    .option(
      '-t, --timeout <msec>',
      "individual target initial timeout (default: 500 ms, except with -l/-c/-C, where it's the -p period up to 2000 ms)",
      floatArg('timeout'),
    )
    .option('-T <n>', 'ignored, as fping ignores it (the old select timeout)')
    .option('-a, --alive', 'show targets that are alive')
    .option('-A, --addr', 'show targets by address')
    .option('-C, --vcount <n>', 'same as -c, report results in verbose format', positiveArg('vcount'))
    .option('-d, --rdns', 'show targets by name (force reverse-DNS lookup)')
    .option('-D, --timestamp', 'print timestamp before each output line')
    .option('-e, --elapsed', 'show elapsed time on return packets')
    .option('-i, --interval <msec>', 'interval between sending ping packets (default: 10 ms)', floatArg('interval'))
    .option('-n, --name', 'show targets by name (reverse-DNS lookup for target IPs)')
    .option('-o, --outage', 'show the accumulated outage time (lost packets * packet interval)')
    .option('-q, --quiet', "quiet (don't show per-target/per-ping results)")
    .option('-Q, --squiet <secs>', 'same as -q, but add interval summary every SECS seconds', floatArg('squiet'))
    .option('-s, --stats', 'print final stats')
    .option('-u, --unreach', 'show targets that are unreachable')
    .option('-v, --version', 'show version')
    .option('-x, --reachable <n>', 'shows if >=N hosts are reachable or not', positiveArg('reachable'))
    .option('-X, --fast-reachable <n>', 'exits true immediately when N hosts are found (fping 5.2)', positiveArg('fast-reachable'))
    .option('--json', 'print JSON lines: one object per event, then a summary')
    .option(
      '--openmetrics [file]',
      'the result as OpenMetrics (Prometheus text for a FILE.prom), to standard output or written atomically to FILE (node_exporter textfile collector)',
    )
    .addOption(new Option('--mode <mechanism>', 'force the ICMP socket: dgram (ping socket) or raw').choices(['dgram', 'raw']))
    .addHelpText(
      'after',
      '\nExit status: 0 all reachable, 1 some unreachable, 2 an address not found, 3 bad arguments, 4 a system failure.\nSee sockit-fping(1).',
    );
  try {
    if (!parseArgs(cmd, argv)) return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      // getopt's words, as fping prints them
      const unknown = /^unknown option '(-{1,2})([^']*)'/.exec(e.message);
      const missing = /^option '(-\w)(?:, --[\w-]+)? <[^>]+>' argument missing/.exec(e.message);
      if (unknown) throw new UsageError(unknown[1] === '-' ? `invalid option -- '${unknown[2]}'` : `unrecognized option '--${unknown[2]}'`, EXIT_USAGE);
      if (missing) throw new UsageError(`option requires an argument -- '${missing[1]!.slice(1)}'`, EXIT_USAGE);
      throw new UsageError(e.message, EXIT_USAGE);
    }
    throw e;
  }
  const v = cmd.opts();
  if (v.version) {
    process.stdout.write(`sockit ${NAME}: Version ${sockitVersion()}\n`);
    return 0;
  }
  return { opts: settle(v), targets: cmd.args };
}

/** fping's checks after getopt, and the flags main() derives from the options. */
function settle(v: Record<string, unknown>): Opts {
  const fail = (message: string) => new UsageError(message, EXIT_USAGE);
  if (v.ipv4 && v.ipv6) throw fail("can't specify both -4 and -6");
  if (v.name && v.rdns) throw fail('use either one of -d or -n');
  const count = (v.vcount ?? v.count) as number | undefined;
  const o: Opts = {
    count,
    vcount: v.vcount !== undefined,
    loop: !!v.loop,
    quiet: !!v.quiet || v.squiet !== undefined,
    reportS: (v.squiet as number | undefined) ?? 0,
    stats: !!v.stats,
    alive: !!v.alive,
    unreach: !!v.unreach,
    elapsed: !!v.elapsed,
    timestamp: !!v.timestamp,
    outage: !!v.outage,
    intervalMs: (v.interval as number | undefined) ?? 10,
    periodMs: (v.period as number | undefined) ?? 1000,
    timeoutMs: (v.timeout as number | undefined) ?? 500,
    timeoutGiven: v.timeout !== undefined,
    retries: (v.retry as number | undefined) ?? 3,
    backoff: (v.backoff as number | undefined) ?? 1.5,
    size: (v.size as number | undefined) ?? 56,
    family: v.ipv4 ? 4 : v.ipv6 ? 6 : 0,
    addr: !!v.addr,
    name: !!v.name,
    rdns: !!v.rdns,
    reachable: ((v.fastReachable ?? v.reachable) as number | undefined) ?? 0,
    fastReachable: v.fastReachable !== undefined,
    ttl: v.ttl as number | undefined,
    tos: v.tos as number | undefined,
    dontFrag: !!v.dontfrag,
    random: !!v.random,
    source: v.src as string | undefined,
    iface: v.iface as string | undefined,
    file: v.file as string | undefined,
    generate: !!v.generate,
    json: !!v.json,
    openmetrics: v.openmetrics as true | string | undefined,
    mode: v.mode as 'dgram' | 'raw' | undefined,
    verbose: true,
    perRecv: false,
  };
  if (o.openmetrics === true && o.json) throw fail('--json and --openmetrics without a file both want standard output');
  if (o.ttl !== undefined && o.ttl > 255) throw fail(`ttl ${o.ttl} out of range`);
  if (o.unreach && o.alive) throw fail('specify only one of a, u');
  if (o.count !== undefined && o.loop) throw fail('specify only one of c, l');
  if (o.size > MAX_PING_DATA) throw fail(`data size ${o.size} not valid, must be lower than ${MAX_PING_DATA}`);
  if (o.backoff > MAX_BACKOFF || o.backoff < MIN_BACKOFF) {
    throw fail(`backoff factor ${o.backoff.toFixed(1)} not valid, must be between ${MIN_BACKOFF.toFixed(1)} and ${MAX_BACKOFF.toFixed(1)}`);
  }
  // fping's main(): what is printed follows from the modes
  if (o.quiet) o.verbose = false;
  if (o.alive || o.unreach || o.reachable) o.verbose = false;
  if (o.count !== undefined) {
    if (o.verbose) o.perRecv = true;
    o.alive = o.unreach = o.verbose = false;
  }
  if (o.loop) {
    if (!o.reportS) o.perRecv = true;
    o.alive = o.unreach = o.verbose = false;
  }
  // count and loop runs wait a -p period for a reply, 2 s at most, unless -t says otherwise (fping github #32)
  if ((o.loop || o.count !== undefined) && !o.timeoutGiven) o.timeoutMs = Math.min(o.periodMs, AUTOTUNE_TIMEOUT_MAX);
  return o;
}
