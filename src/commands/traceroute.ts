// sockit traceroute: traceroute 2.x (Butskoy) on the socket core (UNP 28.6).
// Options, output and exit codes follow traceroute 2.1.2; the engine is
// src/stack/traceroute.ts, the probe methods the registry in
// src/stack/probe/registry.ts. Text and --json are two renderings of the
// same records (src/output Presenter).
import { describeSystemError, isResolveError, isSystemError, strerror, type SystemError } from '../stack/errors.js';
import type { ProbeMethod } from '../stack/probe/index.js';
import { METHODS, type MethodDescriptor, type OpenedMethod, methodByFlag, probeMethod } from '../stack/probe/registry.js';
import { holdTimestamps } from '../stack/probe/tune.js';
import { Recording } from '../stack/capture/record.js';
import { RecordedProbes, probeFlow } from '../stack/probe/record.js';
import { PCAP_HELP, openPcap, pcapArg } from './lib/pcap.js';
import { AddressNamer, type ResolvedAddress, resolveHost } from '../stack/resolve.js';
import { sourceAddressFor } from '../stack/route.js';
import {
  DEF_HOPS,
  DEF_NUM_PROBES,
  DEF_SIM_PROBES,
  DEF_WAIT,
  MAX_HOPS,
  MAX_PROBES,
  MTU_PACKET_LEN,
  type ProbeResult,
  type TracerouteEvent,
  type TracerouteOptions,
  TracerouteSession,
} from '../stack/traceroute.js';
import { InOrder, type JsonRecord, type Presenter, type Text, renderer } from '../output/index.js';
import { metricsOption, type MetricsOutput, withMetricsIf } from '../output/textfile.js';
import { UsageError, dieOf, familyFlag, makeCommand, onTerminate, parseArgs, runMain, signalStatus } from './common.js';

const NAME = 'traceroute';
const MAX_PACKET_LEN = 65000;

interface Opts extends Pick<TracerouteOptions, 'firstHop' | 'maxHops' | 'nqueries' | 'simProbes' | 'wait' | 'sendWait'> {
  method: MethodDescriptor;
  /** -O words, split at commas */
  methodOptions: string[];
  family: 0 | 4 | 6;
  port?: number;
  numeric: boolean;
  source?: string;
  device?: string;
  dontFragment: boolean;
  mtu: boolean;
  tos?: number;
  json: boolean;
  /** --openmetrics (-o FILE) */
  metrics?: MetricsOutput;
  /** --pcap FILE */
  pcap?: string;
}

// CLIF_set_uint: digits only
function uintArg(v: string): number {
  if (!/^\d+$/.test(v.trim())) throw new UsageError(`Cannot handle option argument \`${v}'`);
  return Number(v);
}

function floatArg(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`Cannot handle option argument \`${v}'`);
  return n;
}

/** -w MAX[,HERE,NEAR]: MAX alone turns the adaptive rules off (traceroute(8)). */
export function waitArg(v: string): TracerouteOptions['wait'] {
  const parts = v.split(/[,/]/);
  const nums = parts.map((p) => (p.trim() === '' ? NaN : Number(p)));
  if (parts.length > 3 || nums.some((n) => !Number.isFinite(n))) throw new UsageError(`Cannot handle option argument \`${v}'`);
  const [max, here = 0, near = 0] = nums;
  if (max < 0 || here < 0 || near < 0) throw new UsageError(`bad wait specifications \`${max},${here},${near}' used`);
  return { max, here, near };
}

function parse(argv: string[]): { opts: Opts; target: string; packetLen: number } | null {
  const cmd = makeCommand(NAME)
    .description('print the route packets trace to network host')
    .usage('[options] host [packetlen]')
    .argument('[host]', 'the host to traceroute to')
    .argument('[packetlen]', 'the full packet length (default: an IP header plus 40)')
    .option('-4', 'use IPv4')
    .option('-6', 'use IPv6')
    .option('-I, --icmp', 'use ICMP ECHO for tracerouting')
    .option('-T, --tcp', 'use TCP SYN for tracerouting (default port is 80)')
    .option('-U, --udp', 'use UDP to a particular port for tracerouting (default port is 53)')
    .option('-M, --module <name>', `use the named method: ${METHODS.map((m) => m.name).join(', ')} (the last of -I, -T, -U, -M wins)`)
    .option('-O, --options <OPTS>', 'method-specific options, comma separated (tcp: sysctl, mss=NUM, info)', (v: string, prev: string[] = []) => [
      ...prev,
      ...v.split(',').filter(Boolean),
    ])
    .option('-F, --dont-fragment', 'do not fragment packets')
    .option('-f, --first <first_ttl>', 'start from the first_ttl hop (instead from 1)', uintArg)
    .option('-i, --interface <device>', 'specify a network interface to operate with')
    .option('-m, --max-hops <max_ttl>', `set the max number of hops (max TTL to be reached); default is ${DEF_HOPS}`, uintArg)
    .option('-N, --sim-queries <squeries>', `set the number of probes to be tried simultaneously (default is ${DEF_SIM_PROBES})`, uintArg)
    .option('-n', 'do not resolve IP addresses to their domain names')
    .option('-p, --port <port>', 'destination port (first port for the default method, first sequence for icmp)', uintArg)
    .option('-t, --tos <tos>', 'set the TOS (IPv4) or traffic class (IPv6) value for outgoing packets', uintArg)
    .option(
      '-w, --wait <MAX,HERE,NEAR>',
      `wait for a probe no more than HERE (default ${DEF_WAIT.here}) times longer than a response from the same hop, or no more than NEAR (default ${DEF_WAIT.near}) times than some next hop, or MAX (default ${DEF_WAIT.max}) seconds`,
      waitArg,
    )
    .option('-q, --queries <nqueries>', `set the number of probes per each hop; default is ${DEF_NUM_PROBES}`, uintArg)
    .option('-s, --source <src_addr>', 'use source src_addr for outgoing packets')
    .option('-z, --sendwait <sendwait>', 'minimal time interval between probes (seconds; milliseconds when 10 or more)', floatArg)
    .option('--mtu', 'discover MTU along the path being traced; implies -F -N 1')
    .option('--pcap <file>', PCAP_HELP, pcapArg)
    .option('--json', 'print JSON lines (sockit(1) JSON OUTPUT): start, a reply or timeout per probe, a hop per TTL, then a summary')
    .option('--openmetrics', "the hops and the summary as OpenMetrics gauges, for node_exporter's textfile collector (standard output, or -o)")
    .option('-o, --output <file>', 'with --openmetrics: write the metrics to this file atomically (temporary file, then rename)')
    .addHelpText(
      'after',
      '\nExit status: 0 when the trace ran (reached or not), 1 on a failure during it, 2 on bad input;\nSIGINT or SIGTERM stops it and kills it by that signal (the shell sees 130 or 143), as traceroute.\nSee sockit-traceroute(1).',
    );
  // traceroute 2.x: the last method option wins (-I, -T, -U, -M NAME)
  let method = probeMethod('default')!;
  for (const flag of ['icmp', 'tcp', 'udp'])
    cmd.on(`option:${flag}`, () => {
      method = methodByFlag(flag[0]!.toUpperCase())!;
    });
  cmd.on('option:module', (name: string) => {
    const m = probeMethod(name);
    if (!m) throw new UsageError(`Unknown traceroute module ${name}`);
    method = m;
  });
  if (!parseArgs(cmd, argv)) return null;
  const o = cmd.opts();
  const [target, lenText] = cmd.args;
  if (target === undefined) throw new UsageError('Specify "host" missing argument.');
  if (cmd.args.length > 2) throw new UsageError(`Extra arg \`${cmd.args[2]}' (position 3, argc ${cmd.args.length})`);
  let packetLen = -1;
  if (lenText !== undefined) {
    if (!/^[-+]?\d+$/.test(lenText)) throw new UsageError(`Cannot handle "packetlen" cmdline arg \`${lenText}' on position 2 (argc ${cmd.args.length})`);
    packetLen = Number(lenText);
    if (packetLen > MAX_PACKET_LEN) throw new UsageError(`too big packetlen ${packetLen} specified`);
  }
  const family = familyFlag(o, 'only one of -4 and -6 may be given');
  const firstHop = o.first ?? 1;
  const maxHops = o.maxHops ?? DEF_HOPS;
  if (!firstHop || firstHop > maxHops) throw new UsageError('first hop out of range');
  if (maxHops > MAX_HOPS) throw new UsageError(`max hops cannot be more than ${MAX_HOPS}`);
  const nqueries = o.queries ?? DEF_NUM_PROBES;
  if (!nqueries || nqueries > MAX_PROBES) throw new UsageError(`no more than ${MAX_PROBES} probes per hop`);
  let sendWait = o.sendwait ?? 0;
  if (sendWait < 0) throw new UsageError(`bad sendtime \`${sendWait}' specified`);
  if (sendWait >= 10) sendWait /= 1000; // milliseconds
  if (o.tos !== undefined && o.tos > 255) throw new UsageError(`bad TOS value ${o.tos}: 0..255`);
  if (o.port !== undefined && o.port > 65535) throw new UsageError(`bad port ${o.port}: 0..65535`);
  return {
    target,
    packetLen,
    opts: {
      method,
      methodOptions: o.options ?? [],
      family,
      firstHop,
      maxHops,
      nqueries,
      simProbes: Math.max(1, o.simQueries ?? DEF_SIM_PROBES),
      wait: o.wait ?? { ...DEF_WAIT },
      sendWait,
      port: o.port || undefined,
      numeric: !!o.n,
      source: o.source,
      device: o.interface,
      dontFragment: !!o.dontFragment || !!o.mtu,
      mtu: !!o.mtu,
      tos: o.tos,
      json: !!o.json,
      pcap: o.pcap,
      metrics: metricsOption('traceroute', o),
    },
  };
}

/** traceroute's print_addr: "name (address)", the address for a name when it has none; just the address with -n. */
function addrText(address: string, name: string | null, numeric: boolean): string {
  return numeric ? address : `${name ?? address} (${address})`;
}

/** mod-tcp.c's names of the flags, in bit order, from tcpdump's letters ('S.' -> 'syn,ack'). */
export function tcpFlagNames(letters: string): string {
  const names: [string, string][] = [
    ['F', 'fin'],
    ['S', 'syn'],
    ['R', 'rst'],
    ['P', 'psh'],
    ['.', 'ack'],
    ['U', 'urg'],
    ['E', 'ece'],
    ['W', 'cwr'],
  ];
  return names
    .filter(([l]) => letters.includes(l))
    .map(([, n]) => n)
    .join(',');
}

/**
 * traceroute's print_probe: ' *', or the address when it is the hop's first
 * or changed (with tcp -O info the final reply's flags after it), then the
 * time and note.
 */
export function probeText(p: ProbeResult, earlier: readonly ProbeResult[], addr: (a: string) => string, showFlags = false): string {
  let s = p.index === 0 ? `\n${String(p.hop).padStart(2)} ` : '';
  if (p.from === null) s += ' *';
  else {
    let last: ProbeResult | undefined;
    for (let i = earlier.length - 1; i >= 0 && !last; i--) if (earlier[i].from !== null) last = earlier[i];
    if (!last || last.from !== p.from) {
      s += ` ${addr(p.from)}`;
      if (showFlags && p.final && p.flags) s += ` <${tcpFlagNames(p.flags)}>`;
    }
  }
  if (p.rttMs !== null) s += `  ${p.rttMs.toFixed(3)} ms`;
  if (p.annotation) s += ` ${p.annotation}`;
  return s;
}

/** What the trace is about to do: the start record and traceroute's header line. */
interface Start {
  host: string;
  dst: ResolvedAddress;
  opened: OpenedMethod;
  simProbes: number;
  source: string | null;
  port: number | null;
}

/** The events this command renders: the engine's, with names looked up, and its own start and end. */
type TraceEvent =
  | { type: 'start'; start: Start }
  | { type: 'probe'; probe: ProbeResult; earlier: readonly ProbeResult[]; name: string | null }
  | { type: 'hop'; hop: number; probes: ProbeResult[]; final: boolean }
  | { type: 'error'; error: SystemError | Error }
  | { type: 'done'; done: Extract<TracerouteEvent, { type: 'done' }>; exitCode: number; signal: NodeJS.Signals | null };

/** The one description of each event, as traceroute prints it and as a vocabulary record. */
function presenter(o: Opts, host: string, dst: ResolvedAddress): Presenter<TraceEvent> {
  let showFlags = false;
  return {
    toText(e): Text {
      switch (e.type) {
        case 'start': {
          const { opened } = e.start;
          showFlags = !!opened.showFlags;
          return `traceroute to ${host} (${dst.address}), ${o.maxHops} hops max, ${opened.layout.headerLen + opened.layout.dataLen} byte packets`;
        }
        case 'probe':
          return probeText(e.probe, e.probe.index === 0 ? [] : e.earlier, (a) => addrText(a, e.name, o.numeric), showFlags);
        case 'hop':
          return null;
        case 'error':
          // traceroute's error(): the line end of the hop being printed goes to stderr, then perror's line
          return { stderr: `\nsockit ${NAME}: ${errorText(e.error)}\n` };
        case 'done':
          return e.signal || e.exitCode !== 0 ? null : '\n';
      }
    },
    toRecord(e): JsonRecord | null {
      switch (e.type) {
        case 'start':
          return startRecord(o, host, dst, e.start);
        case 'probe':
          return probeRecord(e.probe, e.name);
        case 'hop':
          return {
            type: 'hop',
            hop: e.hop,
            addresses: [...new Set(e.probes.map((p) => p.from).filter((a) => a !== null))],
            final: e.final,
            probes: e.probes.map((p) => ({ from: p.from, rtt_ms: p.rttMs, annotation: p.annotation || null })),
          };
        case 'error':
          return errorRecord(e.error);
        case 'done':
          return {
            type: 'summary',
            host,
            address: dst.address,
            hops: e.done.hops,
            reached: e.done.reached,
            final: e.done.final,
            probes_sent: e.done.probesSent,
            elapsed_ms: e.done.elapsedMs,
            ...(e.signal ? { signal: e.signal } : {}),
            exit_code: e.exitCode,
          };
      }
    },
  };
}

function startRecord(o: Opts, host: string, dst: ResolvedAddress, s: Start): JsonRecord {
  const { layout, method } = s.opened;
  return {
    type: 'start',
    host,
    address: dst.address,
    family: dst.family,
    method: o.method.name,
    mechanism: method.mechanism,
    port: s.port,
    first_hop: o.firstHop,
    max_hops: o.maxHops,
    queries: o.nqueries,
    sim_queries: s.simProbes,
    packet_bytes: layout.headerLen + layout.dataLen,
    header_bytes: layout.headerLen,
    data_bytes: layout.dataLen,
    max_wait_ms: o.wait.max * 1000,
    here_factor: o.wait.here,
    near_factor: o.wait.near,
    send_wait_ms: o.sendWait * 1000,
    source: s.source,
  };
}

/** A probe's record: `reply` for an answer, `timeout` for '*', `error` (kind local) for a probe the local stack refused. */
export function probeRecord(p: ProbeResult, name: string | null): JsonRecord {
  const at = { hop: p.hop, probe: p.index + 1 };
  if (p.local) {
    const { code, errno, mtu } = p.local;
    return { type: 'error', kind: 'local', ...at, code, message: strerror(errno), mtu, rtt_ms: p.rttMs, annotation: p.annotation || null };
  }
  if (p.from === null) return { type: 'timeout', ...at, annotation: p.annotation || null };
  return {
    type: 'reply',
    ...at,
    from: p.from,
    name: name !== p.from ? name : null,
    rtt_ms: p.rttMs,
    ttl: p.ttl,
    final: p.final,
    icmp_type: p.icmp?.type ?? null,
    icmp_code: p.icmp?.code ?? null,
    tcp_flags: p.flags,
    annotation: p.annotation || null,
  };
}

/** A failure during the trace, as perror(3) words it. */
function errorText(e: SystemError | Error): string {
  return isSystemError(e) ? describeSystemError(e) : e.message;
}

function errorRecord(e: SystemError | Error): JsonRecord {
  const sys = isSystemError(e);
  return { type: 'error', kind: sys && e.syscall === 'recvmsg' ? 'local' : sys ? 'send' : 'system', code: sys ? e.code : null, message: errorText(e) };
}

/** getaddrinfo(3) of a name the user gave (the host, -s): a failure is bad input, "NAME: Name or service not known". */
async function resolveArg(name: string, family: 0 | 4 | 6): Promise<ResolvedAddress[]> {
  try {
    return (await resolveHost(name, family)).addresses;
  } catch (e) {
    if (isResolveError(e)) throw new UsageError(`${name}: ${e.message}`);
    throw e;
  }
}

/** The method's sockets, from the registry; a failed setup is one line, exit 2. */
function openMethod(o: Opts, dst: ResolvedAddress, source: string | undefined, packetLen: number): OpenedMethod {
  try {
    return o.method.open({
      target: dst.address,
      family: dst.family,
      port: o.port,
      packetLen,
      methodOptions: o.methodOptions,
      source,
      device: o.device,
      tos: o.tos,
      pmtu: o.dontFragment ? 'probe' : 'dont',
    });
  } catch (e) {
    if (!isSystemError(e)) throw e;
    const what = e.syscall === 'setsockopt' && o.device ? `SO_BINDTODEVICE ${o.device}` : e.syscall;
    throw new UsageError(describeSystemError(e, what));
  }
}

async function main(argv: string[]): Promise<number> {
  const parsed = parse(argv);
  if (!parsed) return 0;
  const releaseStamps = holdTimestamps();
  try {
    return await trace(parsed.opts, parsed.target, parsed.packetLen);
  } finally {
    releaseStamps();
  }
}

async function trace(o: Opts, host: string, packetLen: number): Promise<number> {
  // traceroute resolves -s as it reads it, before the destination
  const sources = o.source === undefined ? undefined : await resolveArg(o.source, o.family);
  const addresses = await resolveArg(host, o.family);
  // with no -4/-6, IPv4 when the name has it (traceroute's DEF_AF)
  const dst = addresses.find((a) => o.family !== 0 || a.family === 4) ?? addresses[0];
  if (!dst) throw new UsageError(`${host}: Address family for hostname not supported`);
  const src = sources && (sources.find((a) => a.family === dst.family) ?? sources[0]);
  if (src && src.family !== dst.family) throw new UsageError('IP version mismatch in addresses specified');

  if (o.mtu && packetLen < 0) packetLen = MTU_PACKET_LEN;
  const opened = openMethod(o, dst, src?.address, packetLen);
  const method: ProbeMethod = opened.method;
  const simProbes = o.mtu ? 1 : o.simProbes;
  let source: string | null = src?.address ?? null;
  try {
    source ??= sourceAddressFor(dst.address, { device: o.device });
  } catch {
    /* the first probe will say why */
  }

  // --pcap: recording before the first probe; the session probes through it
  const pcap = o.pcap;
  const recording = pcap === undefined ? undefined : await openPcap(pcap, () => Recording.open(pcap, probeFlow(method, source ?? '', o.device)));
  const probes = recording ? new RecordedProbes(method, recording, source ?? '') : method;

  const p = presenter(o, host, dst);
  const out = withMetricsIf(p, o.metrics, () => renderer(p, o.json));
  const events = new InOrder<TraceEvent>((e) => out.emit(e));
  const namer = new AddressNamer(o.numeric);
  events.push({ type: 'start', start: { host, dst, opened, simProbes, source, port: o.port ?? o.method.port.default } });

  let exitCode = 0;
  let signal: NodeJS.Signals | null = null;
  await new Promise<void>((resolve) => {
    let hop: ProbeResult[] = [];
    const { layout } = opened;
    const session = new TracerouteSession(
      probes,
      {
        firstHop: o.firstHop,
        maxHops: o.maxHops,
        nqueries: o.nqueries,
        simProbes,
        wait: o.wait,
        sendWait: o.sendWait,
        headerLen: layout.headerLen,
        dataLen: layout.dataLen,
        methodBytes: layout.methodBytes,
        mtuDiscovery: o.mtu,
        firstSeq: opened.firstSeq,
      },
      (e) => {
        switch (e.type) {
          case 'probe': {
            const p = e.probe;
            const earlier = hop;
            hop = p.index === 0 ? [p] : [...hop, p];
            if (p.from === null || o.numeric) events.push({ type: 'probe', probe: p, earlier, name: null });
            else events.push(namer.name(p.from).then((name) => ({ type: 'probe', probe: p, earlier, name })));
            return;
          }
          case 'hop':
            events.push(e);
            return;
          case 'error':
            exitCode = 1;
            // stderr has the one line with --json too, as for an error before the trace
            if (o.json) process.stderr.write(`sockit ${NAME}: ${errorText(e.error)}\n`);
            events.push(e);
            return;
          case 'done':
            stopSignals();
            events.push({ type: 'done', done: e, exitCode: signal ? signalStatus(signal) : exitCode, signal });
            resolve();
        }
      },
    );
    // SIGINT, SIGTERM: what was printed stays, then die of the signal as traceroute does
    const stopSignals = onTerminate((s) => {
      signal ??= s;
      session.stop();
    });
    session.start();
  });
  recording?.close();
  await events.drain();
  await out.drain();
  if (signal) dieOf(signal);
  return exitCode;
}

export function run(argv: string[]): Promise<number> {
  return runMain(NAME, () => main(argv));
}
