// sockit exporter: a prober Prometheus scrapes, as blackbox_exporter is
// (its /probe API, blackbox.yml, metric names), with smokeping_prober's
// continuous probing (`targets:` or --ping) on sockit's fleet engine.
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { SystemError } from '../../stack/errors.js';
import { Failure, intArg, isSystemError, makeCommand, onTerminate, parseArgs, runMain, strerrorOf, UsageError } from '../common.js';
import { logfmtValue } from '../../stack/prober/log.js';
import type { ContinuousProber, ResolvedGroup } from '../../stack/prober/continuous.js';
import type { ProberConfig, TargetGroup } from '../../stack/prober/index.js';
import { createServer, DEFAULT_TIMEOUT_OFFSET_S, type ExporterState } from './server.js';

const DEFAULT_CONFIG = 'blackbox.yml';
/**
 * The modules of blackbox_exporter's example blackbox.yml that sockit's
 * probers serve (icmp and tcp: no http, grpc or TLS), for a start with no
 * --config.file where ./blackbox.yml is absent (blackbox_exporter would
 * not start; a first `sockit exporter` can probe at once).
 */
const BUILTIN_CONFIG = `modules:
  tcp_connect:
    prober: tcp
  ssh_banner:
    prober: tcp
    tcp:
      query_response:
      - expect: "^SSH-2.0-"
      - send: "SSH-2.0-blackbox-ssh-check"
  irc_banner:
    prober: tcp
    tcp:
      query_response:
      - send: "NICK prober"
      - send: "USER prober prober prober :prober"
      - expect: "PING :([^ ]+)"
        send: "PONG \${1}"
      - expect: "^:[^ ]+ 001"
  icmp:
    prober: icmp
  icmp_ttl5:
    prober: icmp
    timeout: 5s
    icmp:
      ttl: 5
`;
const DEFAULT_LISTEN = ':9115';

interface Options {
  configFile: string;
  configCheck?: boolean;
  listen: string;
  timeoutOffset: number;
  historyLimit: number;
  ping?: string[];
  pingInterval: string;
  pingSize: number;
}

const LEVELS = ['debug', 'info', 'warn', 'error'];
let minLevel = 1;

/** A logfmt line on stderr, as blackbox_exporter's logger writes them (below --log.level: nothing). */
function log(level: string, msg: string, pairs: Record<string, unknown> = {}): void {
  if (LEVELS.indexOf(level) < minLevel) return;
  const kv: [string, unknown][] = [['ts', new Date().toISOString()], ['level', level], ['msg', msg], ...Object.entries(pairs)];
  process.stderr.write(kv.map(([k, v]) => `${k}=${logfmtValue(v)}`).join(' ') + '\n');
}

/** ":9115", "127.0.0.1:0", "[::1]:9115", "localhost:9115" */
export function parseListen(text: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  if (!m || Number(m[3]) > 65535) throw new UsageError(`invalid listen address: '${text}' (ADDR:PORT, e.g. :9115 or 127.0.0.1:9115)`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port: Number(m[3]) };
}

/** strerror(3) as Go's errors word it, the blackbox_exporter's: "no such file or directory" */
function goWords(e: SystemError): string {
  const text = strerrorOf(e);
  return text[0]!.toLowerCase() + text.slice(1);
}

async function loadConfig(file: string, explicit: boolean): Promise<ProberConfig & { builtin?: boolean }> {
  const { parseConfig, ConfigError } = await import('../../stack/prober/index.js');
  if (!explicit && !existsSync(file)) return { ...parseConfig(BUILTIN_CONFIG), builtin: true };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    // blackbox_exporter's words (Go's *PathError): "open /etc/b.yml: no such file or directory"
    if (!isSystemError(e)) throw e;
    throw new Failure(`error reading config file: ${e.syscall} ${file}: ${goWords(e)}`);
  }
  try {
    return parseConfig(text);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`error parsing config file ${file}: ${e.message}`);
    throw e;
  }
}

async function resolveGroups(groups: TargetGroup[]): Promise<ResolvedGroup[]> {
  const { resolveGroup } = await import('../../stack/prober/continuous.js');
  return Promise.all(
    groups.map(async (group) => {
      try {
        return { group, targets: await resolveGroup(group) };
      } catch (e) {
        throw new Failure(`cannot resolve a continuous target (${group.hosts.join(', ')}): ${(e as Error).message}`);
      }
    }),
  );
}

async function startContinuous(groups: TargetGroup[]): Promise<ContinuousProber | undefined> {
  if (groups.length === 0) return undefined;
  const { ContinuousProber } = await import('../../stack/prober/continuous.js');
  const c = new ContinuousProber(await resolveGroups(groups));
  c.start();
  log('info', 'Continuous probing', { targets: c.targetCount, via: c.mechanisms().join(',') });
  return c;
}

async function main(o: Options, explicitConfig: boolean): Promise<number> {
  const { parseGoDuration, ResultHistory } = await import('../../stack/prober/index.js');
  const listen = parseListen(o.listen);
  const intervalS = parseGoDuration(o.pingInterval);
  if (intervalS === undefined || intervalS <= 0) throw new UsageError(`invalid ping interval: '${o.pingInterval}'`);
  const config = await loadConfig(o.configFile, explicitConfig);
  if (o.configCheck) {
    log('info', 'Config file is ok exiting...');
    return 0;
  }
  // --ping's hosts stay through reloads; the file's targets follow the file
  const pingGroup: TargetGroup[] = o.ping?.length ? [{ hosts: o.ping, intervalMs: intervalS * 1000, network: 'ip', size: o.pingSize }] : [];
  const groups = [...config.targets, ...pingGroup];
  const state: ExporterState = {
    config,
    timeoutOffsetS: o.timeoutOffset,
    history: new ResultHistory(o.historyLimit),
    lastReloadOk: true,
    lastReloadS: Date.now() / 1000,
    unknownModules: 0,
    log,
    reload: async () => {
      try {
        const c = await loadConfig(o.configFile, explicitConfig);
        // the continuous targets follow the file: pingers start for added ones and stop for removed ones
        const wanted = [...c.targets, ...pingGroup];
        if (state.continuous) {
          const changed = state.continuous.update(await resolveGroups(wanted));
          if (changed.added || changed.removed) {
            log('info', 'Continuous targets updated', { added: changed.added, removed: changed.removed, targets: state.continuous.targetCount });
          }
        } else if (wanted.length) {
          state.continuous = await startContinuous(wanted);
        }
        state.config = c;
        state.lastReloadOk = true;
        state.lastReloadS = Date.now() / 1000;
        log('info', 'Reloaded config file');
      } catch (e) {
        state.lastReloadOk = false;
        log('error', 'Error reloading config', { err: e as Error });
        throw e;
      }
    },
  };
  if (config.builtin) log('info', 'No config file: the built-in modules', { file: o.configFile, modules: [...config.modules.keys()].join(',') });
  else log('info', 'Loaded config file', { file: o.configFile, modules: config.modules.size });
  state.continuous = await startContinuous(groups);
  const server = createServer(state);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: Error) => reject(new Failure(`listen ${o.listen}: ${isSystemError(e) ? goWords(e) : e.message}`)));
    server.listen({ host: listen.host, port: listen.port }, resolve);
  });
  const a = server.address() as AddressInfo;
  log('info', 'Listening on', { address: a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}` });
  const hup = () => void state.reload().catch(() => {});
  process.on('SIGHUP', hup);
  return new Promise<number>((resolve) => {
    const off = onTerminate((signal) => {
      off();
      process.off('SIGHUP', hup);
      log('info', `Received ${signal}, exiting gracefully...`);
      state.continuous?.stop();
      server.close();
      server.closeAllConnections();
      resolve(0);
    });
  });
}

export async function run(argv: string[]): Promise<number> {
  return runMain('exporter', async () => {
    const cmd = makeCommand('exporter')
      .description("a blackbox_exporter-compatible prober (icmp, tcp, udp, dns) with smokeping_prober's continuous probing")
      .option('--config.file <file>', 'blackbox.yml: modules, and targets to probe continuously', DEFAULT_CONFIG)
      .option('--config.check', 'check the configuration file and exit')
      .option('--listen <addr:port>', 'where to serve /probe and /metrics', DEFAULT_LISTEN)
      .option('--web.listen-address <addr:port>', "--listen, as blackbox_exporter's flag")
      .option(
        '--timeout-offset <seconds>',
        "subtracted from the scrape's timeout",
        (v) => {
          const n = Number(v);
          if (!/^\d*\.?\d+$/.test(v) || !Number.isFinite(n)) throw new UsageError(`invalid timeout offset: '${v}'`);
          return n;
        },
        DEFAULT_TIMEOUT_OFFSET_S,
      )
      .option('--history.limit <n>', 'recent probes kept for the / page', intArg('history limit', 0, 1_000_000), 100)
      .option('--ping <host...>', 'hosts to ping continuously (smokeping_prober)')
      .option('--ping.interval <duration>', 'how often to ping them (Go duration)', '1s')
      .option('--ping.size <bytes>', 'ICMP data bytes of those pings', intArg('ping size', 0, 65507), 56)
      .option(
        '--log.level <level>',
        'the least severe log lines shown: debug, info, warn or error',
        (v) => {
          if (!LEVELS.includes(v)) throw new UsageError(`invalid log level: '${v}' (debug, info, warn or error)`);
          return v;
        },
        'info',
      )
      .allowExcessArguments(false);
    if (!parseArgs(cmd, argv)) return 0;
    const raw = cmd.opts() as Record<string, unknown>;
    minLevel = LEVELS.indexOf(raw['log.level'] as string);
    const o: Options = {
      configFile: raw['config.file'] as string,
      configCheck: raw['config.check'] as boolean | undefined,
      // Commander camel-cases the dashed part of a dotted flag: --web.listen-address is web.listenAddress
      listen: (raw['web.listenAddress'] as string | undefined) ?? (raw.listen as string),
      timeoutOffset: raw.timeoutOffset as number,
      historyLimit: raw['history.limit'] as number,
      ping: raw.ping as string[] | undefined,
      pingInterval: raw['ping.interval'] as string,
      pingSize: raw['ping.size'] as number,
    };
    return main(o, cmd.getOptionValueSource('config.file') === 'cli');
  });
}
