// sockit traceroute: traceroute 2.x (Butskoy) on the socket core (UNP 28.6).
// Options, output and exit codes follow traceroute 2.1.2; the engine is
// src/stack/traceroute.ts, the probe methods src/stack/probe/*.ts.
import { IcmpPermissionError } from '../stack/icmp.js';
import { isSystemError, native } from '../stack/native/index.js';
import { addressFamily } from '../stack/packet/addr.js';
import { IcmpProbe, type PmtuMode } from '../stack/probe/icmp.js';
import type { Family, ProbeMethod } from '../stack/probe/index.js';
import { TcpPermissionError, TcpProbe } from '../stack/probe/tcp.js';
import { holdTimestamps } from '../stack/probe/tune.js';
import { UdpProbe } from '../stack/probe/udp.js';
import { nameOf, type ResolveError, resolveHost } from '../stack/resolve.js';
import { sourceAddressFor } from '../stack/route.js';
import {
  DEF_DATA_LEN, DEF_HOPS, DEF_NUM_PROBES, DEF_SIM_PROBES, DEF_WAIT, MAX_HOPS, MAX_PROBES, MTU_PACKET_LEN,
  type ProbeResult, type TracerouteEvent, type TracerouteOptions, TracerouteSession,
} from '../stack/traceroute.js';
import { OrderedOutput, UsageError, familyFlag, jsonLine, makeCommand, parseArgs, runMain } from './common.js';
import { jsonText } from '../output/index.js';

const NAME = 'traceroute';
const MAX_PACKET_LEN = 65000;
const METHODS = ['default', 'udp', 'icmp', 'tcp'] as const;
type Method = (typeof METHODS)[number];

interface Opts extends Pick<TracerouteOptions, 'firstHop' | 'maxHops' | 'nqueries' | 'simProbes' | 'wait' | 'sendWait'> {
  method: Method;
  family: 0 | 4 | 6;
  port?: number;
  numeric: boolean;
  source?: string;
  device?: string;
  dontFragment: boolean;
  mtu: boolean;
  tos?: number;
  json: boolean;
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
    .option('-M, --module <name>', 'use the named method: default, udp, icmp or tcp')
    .option('-F, --dont-fragment', 'do not fragment packets')
    .option('-f, --first <first_ttl>', 'start from the first_ttl hop (instead from 1)', uintArg)
    .option('-i, --interface <device>', 'specify a network interface to operate with')
    .option('-m, --max-hops <max_ttl>', `set the max number of hops (max TTL to be reached); default is ${DEF_HOPS}`, uintArg)
    .option('-N, --sim-queries <squeries>', `set the number of probes to be tried simultaneously (default is ${DEF_SIM_PROBES})`, uintArg)
    .option('-n', 'do not resolve IP addresses to their domain names')
    .option('-p, --port <port>', 'destination port (first port for the default method, first sequence for icmp)', uintArg)
    .option('-t, --tos <tos>', 'set the TOS (IPv4) or traffic class (IPv6) value for outgoing packets', uintArg)
    .option('-w, --wait <MAX,HERE,NEAR>', `wait for a probe no more than HERE (default ${DEF_WAIT.here}) times longer than a response from the same hop, or no more than NEAR (default ${DEF_WAIT.near}) times than some next hop, or MAX (default ${DEF_WAIT.max}) seconds`, waitArg)
    .option('-q, --queries <nqueries>', `set the number of probes per each hop; default is ${DEF_NUM_PROBES}`, uintArg)
    .option('-s, --source <src_addr>', 'use source src_addr for outgoing packets')
    .option('-z, --sendwait <sendwait>', 'minimal time interval between probes (seconds; milliseconds when 10 or more)', floatArg)
    .option('--mtu', 'discover MTU along the path being traced; implies -F -N 1')
    .option('--json', 'print JSON lines: one object per probe and per hop, then a summary')
    .addHelpText('after', '\nExit status: 0 when the trace ran (reached or not), 1 on a failure during it, 2 on bad input.\nSee sockit-traceroute(1).');
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
  let method: Method = o.tcp ? 'tcp' : o.icmp ? 'icmp' : o.udp ? 'udp' : 'default';
  if (o.module !== undefined) {
    if (!(METHODS as readonly string[]).includes(o.module)) throw new UsageError(`Unknown traceroute module ${o.module}`);
    method = o.module as Method;
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
      method, family, firstHop, maxHops, nqueries, simProbes: Math.max(1, o.simQueries ?? DEF_SIM_PROBES),
      wait: o.wait ?? { ...DEF_WAIT }, sendWait, port: o.port || undefined, numeric: !!o.n, source: o.source, device: o.interface,
      dontFragment: !!o.dontFragment || !!o.mtu, mtu: !!o.mtu, tos: o.tos, json: !!o.json,
    },
  };
}

/** traceroute's print_probe: ' *', or the address when it is the hop's first or changed, then the time and note. */
export function probeText(p: ProbeResult, earlier: readonly ProbeResult[], addr: (a: string) => string): string {
  let s = p.index === 0 ? `\n${String(p.hop).padStart(2)} ` : '';
  if (p.from === null) s += ' *';
  else {
    let last: ProbeResult | undefined;
    for (let i = earlier.length - 1; i >= 0 && !last; i--) if (earlier[i].from !== null) last = earlier[i];
    if (!last || last.from !== p.from) s += ` ${addr(p.from)}`;
  }
  if (p.rttMs !== null) s += `  ${p.rttMs.toFixed(3)} ms`;
  if (p.annotation) s += ` ${p.annotation}`;
  return s;
}

function openMethod(method: Method, family: Family, target: string, o: Opts): ProbeMethod {
  const tune = { source: o.source, device: o.device, tos: o.tos, pmtu: (o.dontFragment ? 'probe' : 'dont') as PmtuMode };
  switch (method) {
    case 'default':
    case 'udp':
      return new UdpProbe({ target, family, port: o.port, fixedPort: method === 'udp', ...tune });
    case 'icmp':
      return new IcmpProbe({ target, family, ...tune });
    case 'tcp':
      return new TcpProbe({ target, family, port: o.port, ...tune });
  }
}

async function main(argv: string[]): Promise<number> {
  const parsed = parse(argv);
  if (!parsed) return 0;
  const { opts: o, target } = parsed;
  let packetLen = parsed.packetLen;
  const releaseStamps = holdTimestamps();
  try {
    return await trace(o, target, packetLen);
  } finally {
    releaseStamps();
  }
}

async function trace(o: Opts, target: string, packetLen: number): Promise<number> {

  let resolved;
  try {
    resolved = await resolveHost(target, o.family);
  } catch (e) {
    throw new UsageError(`${target}: ${(e as ResolveError).message}`);
  }
  // with no -4/-6, IPv4 when the name has it (traceroute's DEF_AF)
  const dst = resolved.addresses.find((a) => o.family !== 0 || a.family === 4) ?? resolved.addresses[0];
  if (!dst) throw new UsageError(`${target}: Address family for hostname not supported`);
  const family = dst.family;
  if (o.source && addressFamily(o.source) !== family) throw new UsageError('IP version mismatch in addresses specified');

  let method: ProbeMethod;
  try {
    method = openMethod(o.method, family, dst.address, o);
  } catch (e) {
    if (e instanceof IcmpPermissionError || e instanceof TcpPermissionError) throw new UsageError(e.message);
    if (isSystemError(e)) {
      const what = e.syscall === 'setsockopt' && o.device ? `SO_BINDTODEVICE ${o.device}` : e.syscall;
      throw new UsageError(`${what}: ${native.strerror(-e.errno)}`);
    }
    throw e;
  }

  // packet sizes as traceroute counts them: IP header + the method's header + data
  const ipHeader = family === 4 ? 20 : 40;
  const simProbes = o.mtu ? 1 : o.simProbes;
  if (o.mtu && packetLen < 0) packetLen = MTU_PACKET_LEN;
  let headerLen = ipHeader;
  let dataLen: number;
  let methodBytes = 0;
  if (method instanceof TcpProbe) {
    dataLen = method.segmentBytes;
    methodBytes = dataLen;
  } else {
    if (method instanceof UdpProbe) headerLen += 8;
    else methodBytes = 8; // the ICMP header counts as data, as in traceroute
    dataLen = packetLen < 0 ? DEF_DATA_LEN - (headerLen - ipHeader) : packetLen >= headerLen ? packetLen - headerLen : 0;
    if (dataLen < methodBytes) dataLen = methodBytes;
  }

  const out = new OrderedOutput();
  const names = new Map<string, Promise<string>>();
  const nameFor = (a: string): Promise<string> => {
    let p = names.get(a);
    if (!p) names.set(a, (p = nameOf(a).catch(() => a)));
    return p;
  };
  let source: string | null = null;
  try {
    source = o.source ?? sourceAddressFor(dst.address, { device: o.device });
  } catch { /* the first probe will say why */ }

  if (o.json) {
    jsonLine({
      type: 'start', host: target, address: dst.address, family, method: o.method, mechanism: method.mechanism,
      first_hop: o.firstHop, max_hops: o.maxHops, queries: o.nqueries, sim_queries: simProbes, packet_bytes: headerLen + dataLen,
      wait: o.wait, source,
    });
  } else {
    out.write(`traceroute to ${target} (${dst.address}), ${o.maxHops} hops max, ${headerLen + dataLen} byte packets`);
  }

  let exitCode = 0;
  await new Promise<void>((resolve) => {
    let hop: ProbeResult[] = [];
    const session = new TracerouteSession(
      method,
      {
        firstHop: o.firstHop, maxHops: o.maxHops, nqueries: o.nqueries, simProbes, wait: o.wait, sendWait: o.sendWait,
        headerLen, dataLen, methodBytes, mtuDiscovery: o.mtu, firstSeq: o.method === 'icmp' && o.port !== undefined ? o.port & 0xffff : 1,
      },
      render,
    );
    const onInt = () => {
      session.stop();
    };
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onInt);

    function render(e: TracerouteEvent): void {
      switch (e.type) {
        case 'probe': {
          const p = e.probe;
          const earlier = hop;
          hop = p.index === 0 ? [p] : [...hop, p];
          if (o.json) {
            const fields = {
              type: 'probe', hop: p.hop, probe: p.index + 1, address: p.from, rtt_ms: p.rttMs, ttl: p.ttl, annotation: p.annotation || null,
              final: p.final, icmp_type: p.icmp?.type ?? null, icmp_code: p.icmp?.code ?? null, tcp_flags: p.flags,
            };
            out.write(p.from && !o.numeric
              ? nameFor(p.from).then((name) => JSON.stringify({ ...fields, name }) + '\n')
              : JSON.stringify(o.numeric ? fields : { ...fields, name: null }) + '\n');
            return;
          }
          if (o.numeric || p.from === null) out.write(probeText(p, p.index === 0 ? [] : earlier, (a) => a));
          else out.write(nameFor(p.from).then((name) => probeText(p, p.index === 0 ? [] : earlier, (a) => `${name} (${a})`)));
          return;
        }
        case 'hop':
          if (o.json) {
            const addresses = [...new Set(e.probes.map((p) => p.from).filter((a) => a !== null))];
            out.write(JSON.stringify({
              type: 'hop', hop: e.hop, addresses, final: e.final,
              probes: e.probes.map((p) => ({ address: p.from, rtt_ms: p.rttMs, annotation: p.annotation || null })),
            }) + '\n');
          }
          return;
        case 'error': {
          const err = e.error;
          const text = isSystemError(err) ? `${err.syscall}: ${native.strerror(-err.errno)}` : err.message;
          if (!o.json) out.write('\n');
          out.write(`sockit ${NAME}: ${text}\n`, process.stderr);
          exitCode = 1;
          return;
        }
        case 'done':
          process.off('SIGINT', onInt);
          process.off('SIGTERM', onInt);
          if (o.json) {
            out.write(jsonText({
              type: 'summary', host: target, address: dst.address, hops: e.hops, reached: e.reached, final: e.final,
              probes_sent: e.probesSent, time_ms: e.elapsedMs, exit_code: exitCode,
            }));
          } else if (exitCode === 0) out.write('\n');
          resolve();
          return;
      }
    }

    session.start();
  });
  await out.drain();
  return exitCode;
}

export function run(argv: string[]): Promise<number> {
  return runMain(NAME, () => main(argv));
}
