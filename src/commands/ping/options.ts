// sockit ping's options, parsed as iputils 20221126 parses them (getopt's
// words for unknown options, iputils' for bad values), into plain options.
import { Option } from 'commander';
import { parseIPv4, parseIPv6 } from '../../stack/packet/addr.js';
import { MAX_PRESPEC, type TimestampType } from '../../stack/packet/ipoptions.js';
import * as ni from '../../stack/packet/nodeinfo.js';
import { MAX_DUP_CHK } from '../../stack/ping/index.js';
import type { NodeInfoQuery, PmtuMode } from '../../stack/probe/icmp.js';
import { resolveHost } from '../../stack/resolve.js';
import { UsageError, familyFlag, intArg, makeCommand, parseArgs, sockitVersion } from '../common.js';
import { NAME, NI_HELP } from './text.js';
import { metricsOption, type MetricsOutput } from '../../output/textfile.js';
import { PCAP_HELP, pcapArg } from '../lib/pcap.js';

const LONG_MAX = '9223372036854775807';
const INT_MAX = 2147483647;

export interface Opts {
  count?: number;
  interval?: number; // ms
  size: number;
  ttl?: number;
  timeout: number; // -W, ms
  deadline: number; // -w, s
  flood: boolean;
  quiet: boolean;
  numeric: boolean;
  timestamps: boolean; // -D
  outstanding: boolean; // -O
  pattern?: Buffer;
  patternText?: string;
  tos?: number;
  preload: number;
  iface?: string; // -I
  pmtu?: PmtuMode;
  audible: boolean;
  adaptive: boolean;
  verbose: boolean;
  json: boolean;
  /** --openmetrics (-o FILE) */
  metrics?: MetricsOutput;
  family: 0 | 4 | 6;
  mode?: 'dgram' | 'raw';
  sndbuf?: number;
  mark?: number;
  debug: boolean;
  dontroute: boolean;
  broadcast: boolean; // -b
  noLoop: boolean; // -L
  connect: boolean; // -C
  recordRoute: boolean; // -R
  timestamp?: TimestampType; // -T
  /** -T tsprespec: the hops asked to stamp, as given */
  prespec?: string[];
  flowLabel?: number; // -F
  userLatency: boolean; // -U
  sticky: boolean; // -B
  ident?: number; // -e
  nodeInfo?: NodeInfoRequest; // -N
  pcap?: string; // --pcap FILE
}

// ---- -N: IPv6 node information queries (RFC 4620), iputils' option words ----

/** What -N asked: a query type (none: -N changes nothing, as in iputils), flags, and a subject when not the destination. */
export interface NodeInfoRequest {
  qtype?: number;
  flags: number;
  subject?: { type: 'ipv6' | 'ipv4' | 'name'; fqdn?: boolean; text: string };
}

const NI_QUERIES: Record<string, { qtype: number; flag?: number }> = {
  name: { qtype: ni.QTYPE_NODENAME },
  fqdn: { qtype: ni.QTYPE_NODENAME },
  ipv6: { qtype: ni.QTYPE_NODEADDR },
  'ipv6-all': { qtype: ni.QTYPE_NODEADDR, flag: ni.FLAG_ALL },
  'ipv6-compatible': { qtype: ni.QTYPE_NODEADDR, flag: ni.FLAG_COMPAT },
  'ipv6-linklocal': { qtype: ni.QTYPE_NODEADDR, flag: ni.FLAG_LINKLOCAL },
  'ipv6-sitelocal': { qtype: ni.QTYPE_NODEADDR, flag: ni.FLAG_SITELOCAL },
  'ipv6-global': { qtype: ni.QTYPE_NODEADDR, flag: ni.FLAG_GLOBAL },
  ipv4: { qtype: ni.QTYPE_IPV4ADDR },
  'ipv4-all': { qtype: ni.QTYPE_IPV4ADDR, flag: ni.FLAG_ALL },
};

/** Thrown by -N help: print the list, exit 0. */
class NodeInfoHelp extends Error {}

/** Fold one -N word into the request, with iputils' conflicts. */
function nodeInfoArg(v: string, req: NodeInfoRequest = { flags: 0 }): NodeInfoRequest {
  if (v === 'help') throw new NodeInfoHelp();
  const q = NI_QUERIES[v];
  if (q) {
    if (req.qtype !== undefined && req.qtype !== q.qtype) throw new UsageError('Qtype conflict');
    req.qtype = q.qtype;
    req.flags |= q.flag ?? 0;
    return req;
  }
  const m = /^subject-(ipv6|ipv4|name|fqdn)=(.*)$/s.exec(v);
  if (!m) throw new UsageError(`invalid -N option: ${v} (-N help lists them)`);
  const type = m[1] === 'fqdn' ? 'name' : (m[1] as 'ipv6' | 'ipv4' | 'name');
  if (req.subject && req.subject.type !== type) throw new UsageError('Subject type conflict');
  // subject-name guesses from the dots whether the name is fully qualified; subject-fqdn says it is
  req.subject = { type, text: m[2]!, fqdn: m[1] === 'fqdn' ? true : m[1] === 'name' ? m[2]!.replace(/\.$/, '').includes('.') : undefined };
  return req;
}

/** The first address of a name or address given with an option (a -T hop, an -N subject); getaddrinfo's words when there is none. */
export async function addressOf(text: string, family: 4 | 6): Promise<string> {
  let address: string | undefined;
  try {
    address = (await resolveHost(text, family)).addresses[0]?.address;
  } catch (e) {
    throw new UsageError(`${text}: ${(e as Error).message}`);
  }
  if (!address) throw new UsageError(`${text}: Address family for hostname not supported`);
  return address;
}

/** The query -N asked for, its subject resolved (getaddrinfo for addresses, wire form for names). */
export async function nodeInfoQuery(req: NodeInfoRequest, destination: string): Promise<NodeInfoQuery> {
  const base = { qtype: req.qtype!, flags: req.flags };
  const sub = req.subject;
  if (!sub) return { ...base, subjectType: ni.SUBJECT_IPV6, subject: parseIPv6(destination)! };
  if (sub.type === 'name') {
    try {
      // a scope (name%eth0) is not part of the subject
      return { ...base, subjectType: ni.SUBJECT_NAME, subject: ni.encodeName(sub.text.split('%')[0]!, sub.fqdn !== false) };
    } catch (e) {
      if (e instanceof RangeError) throw new UsageError(e.message);
      throw e;
    }
  }
  const family = sub.type === 'ipv6' ? 6 : 4;
  const address = await addressOf(sub.text, family);
  return family === 6
    ? { ...base, subjectType: ni.SUBJECT_IPV6, subject: parseIPv6(address)! }
    : { ...base, subjectType: ni.SUBJECT_IPV4, subject: parseIPv4(address)! };
}

function seconds(what: string) {
  return (v: string): number => {
    const n = Number(v.replace(',', '.'));
    if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > INT_MAX / 1000) throw new UsageError(`${what}: ${v}`);
    return Math.trunc(n * 1000);
  };
}

// iputils parseflow: decimal or 0x hex, 20 bits
function flowArg(v: string): number {
  const hex = /^0[xX]/.test(v);
  const digits = hex ? v.slice(2) : v;
  if (!(hex ? /^[0-9a-fA-F]*$/ : /^\d*$/).test(digits)) throw new UsageError(`bad value for flowinfo: ${v}`);
  const n = digits === '' ? 0 : parseInt(digits, hex ? 16 : 10);
  if (n > 0xfffff) throw new UsageError(`flow value is greater than 20 bits: ${v}`);
  return n;
}

// iputils parsetos: decimal or 0x hex, 0..255
function tosArg(v: string): number {
  const hex = /^0[xX]/.test(v);
  const body = hex ? v.slice(2) : v;
  if (!(hex ? /^[0-9a-fA-F]+$/ : /^-?\d+$/).test(body)) throw new UsageError(`bad TOS value: ${v}`);
  const n = parseInt(body, hex ? 16 : 10);
  if (n > 255 || n < 0) throw new UsageError(`the decimal value of TOS bits must be in range 0-255: ${n}`);
  return n;
}

// iputils fill(): up to 16 bytes of hex
function patternArg(v: string): string {
  const bad = v.search(/[^0-9a-fA-F]/);
  if (bad >= 0) throw new UsageError(`patterns must be specified as hex digits: ${v.slice(bad)}`);
  return v;
}

function patternBytes(v: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < v.length && bytes.length < 16; i += 2) bytes.push(parseInt(v.slice(i, i + 2), 16));
  return Buffer.from(bytes);
}

function pmtuArg(v: string): PmtuMode {
  if (v === 'do' || v === 'want' || v === 'dont') return v;
  throw new UsageError(`invalid -M argument: ${v}`);
}

/** Parsed options and target, or the exit status when there is nothing to ping (-V, -h, --help). */
export function parse(argv: string[]): { opts: Opts; target: string } | number {
  const cmd = makeCommand(NAME, { shortHelp: false })
    .description('send ICMP ECHO_REQUEST to network hosts')
    .usage('[options] <destination>')
    .argument('[destination]', 'dns name or ip address')
    // -T tsprespec takes hops before the destination; anything else extra is refused below
    .allowExcessArguments()
    .option('-4', 'use IPv4')
    .option('-6', 'use IPv6')
    .option('-a', 'use audible ping')
    .option('-A', 'use adaptive ping')
    .option('-b', 'allow pinging broadcast')
    .option('-B', 'sticky source address')
    .option('-c <count>', 'stop after <count> replies', intArg('argument', 1, LONG_MAX))
    .option('-C', 'call connect() syscall on socket creation')
    .option('-d', 'use SO_DEBUG socket option')
    .option('-D', 'print timestamps')
    .option(
      '-e <identifier>',
      'define identifier for ping session, default is random for SOCK_RAW and kernel defined for SOCK_DGRAM',
      intArg('argument', 0, 65535),
    )
    .option('-f', 'flood ping')
    .option('-F <flowlabel>', 'define flow label, default is random', flowArg)
    .option('-N <nodeinfo opt>', 'use IPv6 node info query, try <help> as argument', nodeInfoArg)
    .option('-i <interval>', 'seconds between sending each packet', seconds('bad timing interval'))
    .option('-I <interface>', 'either interface name or address')
    .option('-L', 'suppress loopback of multicast packets')
    .option('-l <preload>', 'send <preload> number of packages while waiting replies', intArg('argument', 1, MAX_DUP_CHK))
    .option('-m <mark>', 'tag the packets going out', intArg('argument', 0, 4294967295))
    .option('-M <pmtud opt>', 'define mtu discovery, can be one of <do|dont|want>', pmtuArg)
    .option('-n', 'no dns name resolution')
    .option('-O', 'report outstanding replies')
    .option('-p <pattern>', 'contents of padding byte', patternArg)
    .option('-q', 'quiet output')
    .option('-Q <tclass>', 'use quality of service <tclass> bits', tosArg)
    .option('-r', 'use SO_DONTROUTE socket option')
    .option('-R', 'record route')
    .option('-T <timestamp>', 'define timestamp, can be one of <tsonly|tsandaddr|tsprespec>', (v: string) => {
      if (v !== 'tsonly' && v !== 'tsandaddr' && v !== 'tsprespec') throw new UsageError(`invalid timestamp type: ${v}`);
      return v;
    })
    .option('-s <size>', 'use <size> as number of data bytes to be sent', intArg('argument', 0, INT_MAX))
    .option('-S <size>', 'use <size> as SO_SNDBUF socket option value', intArg('argument', 1, INT_MAX))
    .option('-t <ttl>', 'define time to live', intArg('argument', 0, 255))
    .option('-U', 'print user-to-user latency')
    .option('-v', 'verbose output')
    .option('-V', 'print version and exit')
    .option('-h', 'usage on standard error, exit 2 (as iputils)')
    .option('-w <deadline>', 'reply wait <deadline> in seconds', intArg('argument', 0, INT_MAX))
    .option('-W <timeout>', 'time to wait for response', seconds('bad linger time'))
    .option('--json', 'print JSON lines: one object per event, then a summary')
    .option('--openmetrics', "the summary as OpenMetrics gauges, for node_exporter's textfile collector (standard output, or -o)")
    .option('-o <file>', 'with --openmetrics: write the metrics to this file atomically (temporary file, then rename)')
    .option('--pcap <file>', PCAP_HELP, pcapArg)
    .addOption(new Option('--mode <mechanism>', 'force the ICMP socket: dgram (ping socket) or raw').choices(['dgram', 'raw']))
    .addHelpText('after', '\nExit status: 0 when replies came, 1 when none did (or -w ended short of -c), 2 on errors.\nSee sockit-ping(1).');
  try {
    if (!parseArgs(cmd, argv)) return 0;
  } catch (e) {
    if (e instanceof NodeInfoHelp) {
      process.stdout.write(NI_HELP);
      return 0;
    }
    // getopt's words for unknown options, as iputils users know them
    const m = e instanceof UsageError && /^unknown option '(-{1,2})([^']*)'/.exec(e.message);
    if (m) throw new UsageError(m[1] === '-' ? `invalid option -- '${m[2]}'` : `unrecognized option '--${m[2]}'`);
    throw e;
  }
  const o = cmd.opts();
  if (o.V) {
    process.stdout.write(`ping from sockit ${sockitVersion()}\n`);
    return 0;
  }
  if (o.h) {
    process.stderr.write(cmd.helpInformation());
    return 2;
  }
  const family = familyFlag(o, 'only one -4 or -6 option may be specified');
  if (o.R && o.T) throw new UsageError('only one of -T or -R may be used');
  const target = cmd.args[cmd.args.length - 1];
  if (cmd.args.length === 0 || target === undefined) throw new UsageError('usage error: Destination address required');
  // -T tsprespec [hop1 ... hop4] destination: the hops asked to stamp
  const prespec = o.T === 'tsprespec' ? cmd.args.slice(0, -1) : undefined;
  if (prespec && prespec.length > MAX_PRESPEC) throw new UsageError(`-T tsprespec: at most ${MAX_PRESPEC} hops before the destination: ${prespec.join(' ')}`);
  if (!prespec && cmd.args.length > 1) throw new UsageError(`usage error: too many destinations: ${cmd.args.join(' ')}`);
  return {
    target,
    opts: {
      count: o.c,
      interval: o.i,
      size: o.s ?? 56,
      ttl: o.t,
      timeout: o.W ?? 10_000,
      deadline: o.w ?? 0,
      flood: !!o.f,
      quiet: !!o.q,
      numeric: !!o.n || !!o.f,
      timestamps: !!o.D,
      outstanding: !!o.O,
      patternText: o.p,
      pattern: o.p !== undefined ? patternBytes(o.p) : undefined,
      tos: o.Q,
      preload: o.l ?? 1,
      iface: o.I,
      pmtu: o.M,
      audible: !!o.a,
      adaptive: !!o.A,
      verbose: !!o.v,
      json: !!o.json,
      family,
      metrics: metricsOption('ping', { openmetrics: o.openmetrics, output: o.o, json: o.json }),
      mode: o.mode,
      sndbuf: o.S,
      mark: o.m,
      debug: !!o.d,
      dontroute: !!o.r,
      broadcast: !!o.b,
      sticky: !!o.B,
      ident: o.e,
      nodeInfo: o.N?.qtype !== undefined ? o.N : undefined,
      noLoop: !!o.L,
      userLatency: !!o.U,
      connect: !!o.C,
      recordRoute: !!o.R,
      timestamp: o.T,
      prespec,
      flowLabel: o.F,
      pcap: o.pcap,
    },
  };
}
