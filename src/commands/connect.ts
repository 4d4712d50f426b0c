// sockit connect: UNP 16.3 connect_nonb over every address of a host, in
// the order of UNP 11.12 tcp_connect; with -c, repeated probes and a
// summary in the manner of ping(8).
import {
  C, formatDotted, hostServ, isSystemError, isResolveError, servPort, tcpConnectEach,
  type Attempt, type Family, type InetSockAddr,
} from '../stack/index.js';
import { addressFamily } from '../stack/packet/addr.js';
import { errSys, familyFlag, strerrorOf, intArg, jsonLine, makeCommand, onTerminate, parseArgs, runMain, secondsArg, UsageError } from './common.js';

interface Options {
  timeout?: number;
  count?: number;
  interval?: number;
  source?: string;
  json?: boolean;
  4?: boolean;
  6?: boolean;
}

const ms = (ns: bigint) => Number(ns) / 1e6;

/** Resolve host and port as tcp_connect would, turning failures into usage errors. */
async function destinations(host: string, service: string, family: Family, source: string | undefined): Promise<{ port: number; addresses: InetSockAddr[] }> {
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
    if (isResolveError(e)) throw new UsageError(`${host}: ${e.message}`);
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

function report(a: Attempt, seq: number, json: boolean): void {
  const remote = a.remote as InetSockAddr;
  if (json) {
    const base = { type: 'attempt', seq, address: remote.address, port: remote.port, family: remote.family === C.AF_INET ? 4 : 6, time_ms: ms(a.elapsedNs) };
    if (a.ok) jsonLine({ ...base, connected: true, local: formatDotted(a.connected.local) });
    else jsonLine({ ...base, connected: false, error: a.error.code, message: strerrorOf(a.error) });
    return;
  }
  if (a.ok) process.stdout.write(`connected to ${formatDotted(remote)} in ${ms(a.elapsedNs).toFixed(3)} ms\n`);
  else process.stdout.write(`${errSys(a.error, 'connect')} (${formatDotted(remote)})\n`);
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
  return runMain('connect', async () => {
    const cmd = makeCommand('connect')
      .description('nonblocking connect with a timeout to every address of a host (UNP connect_nonb)')
      .argument('<host>', 'host name or address')
      .argument('<port>', 'port number or service name')
      .option('-t, --timeout <sec>', 'give up on an address after this long, 0 for the kernel\'s own timeout (default: 5)', secondsArg('timeout', 0, 86400))
      .option('-c, --count <n>', 'probe this many times and print a summary', intArg('count', 1, 1_000_000))
      .option('-i, --interval <sec>', 'time between the starts of probes (default: 1)', secondsArg('interval', 0, 86400))
      .option('-4', 'IPv4 addresses only')
      .option('-6', 'IPv6 addresses only')
      .option('-s, --source <addr>', 'bind to this local address first')
      .option('--json', 'one JSON object per attempt, then a summary')
      .usage('[-t timeout] [-c count] [-i interval] [-4|-6] [-s source] [--json] host port');
    if (!parseArgs(cmd, argv)) return 0;
    const opts = cmd.opts<Options>();
    const [host, service] = cmd.args as [string, string];
    const family: Family = familyFlag(opts, 'only one of -4 and -6');
    const { port, addresses } = await destinations(host, service, family, opts.source);
    const json = opts.json === true;

    const stats = new Stats();
    const ac = new AbortController();
    const removeHandlers = onTerminate(() => ac.abort());
    const start = process.hrtime.bigint();
    const probes = opts.count ?? 1;
    try {
      for (let seq = 1; seq <= probes && !ac.signal.aborted; seq++) {
        const probeStart = performance.now();
        try {
          for await (const a of tcpConnectEach(addresses, { timeoutMs: opts.timeout ?? 5000, source: opts.source, signal: ac.signal })) {
            if (!a.ok && a.error.syscall === 'bind') throw new UsageError(errSys(a.error, 'bind'));
            stats.add(a);
            report(a, seq, json);
            if (a.ok) a.connected.socket.close();
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
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    const rtt = stats.rtt();
    if (json) {
      jsonLine({
        type: 'summary', host, port, attempts: stats.attempts, connected: stats.connected, failed: stats.failed,
        ...(rtt ? { min_ms: rtt.min, avg_ms: rtt.avg, max_ms: rtt.max, mdev_ms: rtt.mdev } : {}), time_ms: elapsed,
      });
    } else if (opts.count !== undefined) {
      process.stdout.write(`\n--- ${host} port ${port} connect statistics ---\n`);
      process.stdout.write(`${stats.attempts} attempts, ${stats.connected} connected, ${stats.failed} failed, time ${Math.round(elapsed)}ms\n`);
      if (rtt) process.stdout.write(`rtt min/avg/max/mdev = ${[rtt.min, rtt.avg, rtt.max, rtt.mdev].map((x) => x.toFixed(3)).join('/')} ms\n`);
    }
    return stats.connected > 0 ? 0 : 1;
  });
}
