// sockit connect: UNP 16.3 connect_nonb over every address of a host, in
// the order of UNP 11.12 tcp_connect; with -c, repeated probes and a
// summary in the manner of ping(8).
import type { Attempt, Family, InetSockAddr } from '../stack/index.js';
import { addressFamily } from '../stack/packet/addr.js';
import { renderer, type JsonRecord, type Presenter } from '../output/index.js';
import { metricsOption, withMetricsIf } from '../output/textfile.js';
import { endOf, loadCore, resolveFailure, writeRecordOf } from './lib/clientserver.js';
import { PCAP_HELP, openPcap, pcapArg } from './lib/pcap.js';
import type { Bound } from '../stack/capture/streams.js';
import {
  dieOf,
  errSys,
  familyFlag,
  isResolveError,
  isSystemError,
  strerrorOf,
  intArg,
  makeCommand,
  onTerminate,
  parseArgs,
  runMain,
  secondsArg,
  UsageError,
} from './common.js';

interface Options {
  timeout?: number;
  count?: number;
  interval?: number;
  source?: string;
  json?: boolean;
  openmetrics?: boolean;
  output?: string;
  pcap?: string;
  4?: boolean;
  6?: boolean;
}

const ms = (ns: bigint) => Number(ns) / 1e6;

/** Resolve host and port as tcp_connect would, turning failures into usage errors. */
async function destinations(host: string, service: string, family: Family, source: string | undefined): Promise<{ port: number; addresses: InetSockAddr[] }> {
  const { hostServ, servPort } = await loadCore();
  const port = servPort(service, 'tcp');
  if (port === null || port === 0) throw new UsageError(`invalid port: '${service}'`);
  let sourceFamily: Family = 0;
  if (source !== undefined) {
    sourceFamily = addressFamily(source.replace(/%.*/, ''));
    if (sourceFamily === 0) throw new UsageError(`invalid source address: '${source}'`);
    if (family !== 0 && family !== sourceFamily) throw new UsageError(`source address ${source} is not IPv${family}`);
  }
  let addresses: InetSockAddr[];
  try {
    addresses = await hostServ(host, port, family || sourceFamily);
  } catch (e) {
    if (isResolveError(e)) throw resolveFailure(host, e);
    throw e;
  }
  return { port, addresses };
}

class Stats {
  attempts = 0;
  connected = 0;
  private readonly times: number[] = [];

  add(a: Attempt): void {
    this.attempts++;
    if (a.ok) {
      this.connected++;
      this.times.push(ms(a.elapsedNs));
    }
  }

  get failed(): number {
    return this.attempts - this.connected;
  }

  /** min/avg/max/mdev in ms; mdev as ping computes it, sqrt(E[x²] − E[x]²) */
  rtt(): { min: number; avg: number; max: number; mdev: number } | null {
    const t = this.times;
    if (t.length === 0) return null;
    const avg = t.reduce((s, x) => s + x, 0) / t.length;
    const sq = t.reduce((s, x) => s + x * x, 0) / t.length;
    return { min: Math.min(...t), avg, max: Math.max(...t), mdev: Math.sqrt(Math.max(0, sq - avg * avg)) };
  }
}

/** What a run of connect reports: text and --json are two renderings of these. */
type ConnectEvent =
  | { type: 'start'; host: string; port: number; addresses: InetSockAddr[]; timeoutMs: number }
  | { type: 'attempt'; seq: number; attempt: Attempt }
  | { type: 'summary'; host: string; port: number; stats: Stats; elapsedMs: number; probes: boolean; exitCode: number };

const ETIMEDOUT = 'ETIMEDOUT';

function attemptRecord(seq: number, a: Attempt): JsonRecord {
  const base = { seq, remote: endOf(a.remote), time_ms: ms(a.elapsedNs) };
  if (a.ok) return { type: 'connection', proto: 'tcp', ...base, local: endOf(a.connected.local) };
  // a connect that got no answer (ours or the kernel's SYN retries) is a probe that timed out
  const error = { code: a.error.code, message: strerrorOf(a.error) };
  return a.error.code === ETIMEDOUT ? { type: 'timeout', ...base, ...error } : { type: 'error', kind: 'connect', ...base, ...error };
}

function summaryRecord(e: Extract<ConnectEvent, { type: 'summary' }>): JsonRecord {
  const rtt = e.stats.rtt();
  return {
    type: 'summary',
    host: e.host,
    port: e.port,
    attempts: e.stats.attempts,
    connected: e.stats.connected,
    failed: e.stats.failed,
    ...(rtt ? { min_ms: rtt.min, avg_ms: rtt.avg, max_ms: rtt.max, mdev_ms: rtt.mdev } : {}),
    time_ms: e.elapsedMs,
    exit_code: e.exitCode,
  };
}

/** ping(8)'s statistics block, for -c. */
function summaryText(e: Extract<ConnectEvent, { type: 'summary' }>): string | null {
  if (!e.probes) return null;
  const rtt = e.stats.rtt();
  return (
    `\n--- ${e.host} port ${e.port} connect statistics ---\n` +
    `${e.stats.attempts} attempts, ${e.stats.connected} connected, ${e.stats.failed} failed, time ${Math.round(e.elapsedMs)}ms\n` +
    (rtt ? `rtt min/avg/max/mdev = ${[rtt.min, rtt.avg, rtt.max, rtt.mdev].map((x) => x.toFixed(3)).join('/')} ms\n` : '')
  );
}

/** connect's text and records; formatDotted is the core's address.port form (the book's, as in netstat). */
export const presenter = (formatDotted: (sa: Attempt['remote']) => string): Presenter<ConnectEvent> => ({
  toRecord(e) {
    switch (e.type) {
      case 'start':
        return { type: 'start', host: e.host, port: e.port, addresses: e.addresses.map((a) => a.address), timeout_ms: e.timeoutMs };
      case 'attempt':
        return attemptRecord(e.seq, e.attempt);
      case 'summary':
        return summaryRecord(e);
    }
  },
  toText(e) {
    switch (e.type) {
      case 'start':
        return null;
      case 'attempt': {
        const a = e.attempt;
        return a.ok
          ? `connected to ${formatDotted(a.remote)} in ${ms(a.elapsedNs).toFixed(3)} ms\n`
          : `${errSys(a.error, 'connect')} (${formatDotted(a.remote)})\n`;
      }
      case 'summary':
        return summaryText(e);
    }
  },
});

/**
 * --pcap: the recording of every attempt (the core loads with it). Each
 * attempt binds first, so its port joins the flow before the SYN leaves.
 */
async function recorder(file: string, addresses: InetSockAddr[], source: string | undefined) {
  const [{ Recording, nowNs }, { endOf, rebuildAttempt, rebuildSyn, streamFlows }] = await Promise.all([
    import('../stack/capture/record.js'),
    import('../stack/capture/streams.js'),
  ]);
  const flows = streamFlows(
    'tcp',
    addresses.map((a) => ({ address: a.address, port: a.port })),
    source,
  );
  const recording = await openPcap(file, () => Recording.open(file, flows));
  let bound: Bound | null = null;
  return {
    recording,
    onBound(local: Attempt['remote'] | { family: 0 }, remote: Attempt['remote']) {
      const e = endOf(local);
      if (!e) return;
      recording.ports?.add(e.port);
      const t0 = nowNs();
      // rebuilt (no CAP_NET_RAW): the SYN is in the file before connect(2), as a signal may end the attempt
      bound = { port: e.port, t0, syn: rebuildSyn(recording, local, remote, t0, source) };
    },
    attempt: (a: Attempt) => (bound ? rebuildAttempt(recording, a, bound, source) : null),
  };
}

function sleep(msec: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (msec <= 0 || signal.aborted) return resolve();
    const t = setTimeout(done, msec);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

export async function run(argv: string[]): Promise<number> {
  return runMain('connect', () =>
    connect(argv).catch((e: unknown) => {
      writeRecordOf(e, argv.includes('--json'));
      throw e;
    }),
  );
}

async function connect(argv: string[]): Promise<number> {
  const cmd = makeCommand('connect')
    .description('nonblocking connect with a timeout to every address of a host (UNP connect_nonb)')
    .argument('<host>', 'host name or address')
    .argument('<port>', 'port number or service name')
    .option('-t, --timeout <sec>', "give up on an address after this long, 0 for the kernel's own timeout (default: 5)", secondsArg('timeout', 0, 86400))
    .option('-c, --count <n>', 'probe this many times and print a summary', intArg('count', 1, 1_000_000))
    .option('-i, --interval <sec>', 'time between the starts of probes (default: 1)', secondsArg('interval', 0, 86400))
    .option('-4', 'IPv4 addresses only')
    .option('-6', 'IPv6 addresses only')
    .option('-s, --source <addr>', 'bind to this local address first')
    .option('--json', 'JSON lines: start, a connection, error or timeout record per attempt, then a summary')
    .option('--openmetrics', "the summary as OpenMetrics gauges, for node_exporter's textfile collector (standard output, or -o)")
    .option('-o, --output <file>', 'with --openmetrics: write the metrics to this file atomically (temporary file, then rename)')
    .option('--pcap <file>', PCAP_HELP, pcapArg)
    .usage('[-t timeout] [-c count] [-i interval] [-4|-6] [-s source] [--json] [--openmetrics [-o file]] [--pcap file] host port');
  if (!parseArgs(cmd, argv)) return 0;
  const opts = cmd.opts<Options>();
  const [host, service] = cmd.args as [string, string];
  const family: Family = familyFlag(opts, 'only one of -4 and -6');
  const metrics = metricsOption('connect', opts);
  const { port, addresses } = await destinations(host, service, family, opts.source);
  const { formatDotted, tcpConnectEach } = await loadCore();
  const p = presenter(formatDotted);
  const out = withMetricsIf(p, metrics, () => renderer(p, opts.json === true));
  const timeoutMs = opts.timeout ?? 5000;
  const rec = opts.pcap === undefined ? undefined : await recorder(opts.pcap, addresses, opts.source);
  out.emit({ type: 'start', host, port, addresses, timeoutMs });

  const stats = new Stats();
  // as iputils ping: SIGINT ends the probes with the summary and the status
  // (sigexit), SIGTERM kills it (no handler: the shell sees 143)
  const ac = new AbortController();
  const removeHandlers = onTerminate((signal) => (signal === 'SIGTERM' ? dieOf(signal) : ac.abort()));
  const start = process.hrtime.bigint();
  const probes = opts.count ?? 1;
  try {
    for (let seq = 1; seq <= probes && !ac.signal.aborted; seq++) {
      const probeStart = performance.now();
      try {
        for await (const a of tcpConnectEach(addresses, { timeoutMs, source: opts.source, signal: ac.signal, onBound: rec?.onBound })) {
          if (!a.ok && a.error.syscall === 'bind') throw new UsageError(errSys(a.error, 'bind'));
          stats.add(a);
          out.emit({ type: 'attempt', seq, attempt: a });
          const conn = rec?.attempt(a);
          if (a.ok) {
            a.connected.socket.close();
            conn?.fin(true);
          }
        }
      } catch (e) {
        if (ac.signal.aborted && !isSystemError(e)) break; // interrupted: summary below
        throw e;
      }
      if (seq < probes) await sleep((opts.interval ?? 1000) - (performance.now() - probeStart), ac.signal);
    }
  } finally {
    removeHandlers();
  }
  rec?.recording.close();
  const exitCode = stats.connected > 0 ? 0 : 1;
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  out.emit({ type: 'summary', host, port, stats, elapsedMs, probes: opts.count !== undefined, exitCode });
  await out.drain();
  return exitCode;
}
