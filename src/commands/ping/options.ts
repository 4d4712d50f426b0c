// sockit ping's options, parsed as iputils 20221126 parses them (getopt's
// words for unknown options, iputils' for bad values), into plain options.
import { type Command, Option } from 'commander';
import { parseIPv4, parseIPv6 } from '../../stack/packet/addr.js';
import { MAX_PRESPEC, type TimestampType } from '../../stack/packet/ipoptions.js';
import * as ni from '../../stack/packet/nodeinfo.js';
import { MAX_DUP_CHK } from '../../stack/ping/index.js';
import type { NodeInfoQuery, PmtuMode } from '../../stack/probe/icmp.js';
import { resolveHost } from '../../stack/resolve.js';
import { UsageError, familyFlag, intArg, makeCommand, parseArgs, readingTables, sockitVersion } from '../common.js';
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

function timestampArg(v: string): TimestampType {
  if (v !== 'tsonly' && v !== 'tsandaddr' && v !== 'tsprespec') throw new UsageError(`invalid timestamp type: ${v}`);
  return v;
}

/**
 * One option of ping's table, as commander takes it: its flags (one name
 * each, short or long), its help, and the parser of its value.
 */
interface OptionSpec {
  flags: string;
  help: string;
  parse?: (v: string, previous: unknown) => unknown;
  choices?: readonly string[];
}

/** ping's options, in the order the help lists them. */
const OPTIONS: readonly OptionSpec[] = [
  { flags: '-4', help: 'use IPv4' },
  { flags: '-6', help: 'use IPv6' },
  { flags: '-a', help: 'use audible ping' },
  { flags: '-A', help: 'use adaptive ping' },
  { flags: '-b', help: 'allow pinging broadcast' },
  { flags: '-B', help: 'sticky source address' },
  { flags: '-c <count>', help: 'stop after <count> replies', parse: intArg('argument', 1, LONG_MAX) },
  { flags: '-C', help: 'call connect() syscall on socket creation' },
  { flags: '-d', help: 'use SO_DEBUG socket option' },
  { flags: '-D', help: 'print timestamps' },
  {
    flags: '-e <identifier>',
    help: 'define identifier for ping session, default is random for SOCK_RAW and kernel defined for SOCK_DGRAM',
    parse: intArg('argument', 0, 65535),
  },
  { flags: '-f', help: 'flood ping' },
  { flags: '-F <flowlabel>', help: 'define flow label, default is random', parse: flowArg },
  {
    flags: '-N <nodeinfo opt>',
    help: 'use IPv6 node info query, try <help> as argument',
    parse: (v, req) => nodeInfoArg(v, req as NodeInfoRequest | undefined),
  },
  { flags: '-i <interval>', help: 'seconds between sending each packet', parse: seconds('bad timing interval') },
  { flags: '-I <interface>', help: 'either interface name or address' },
  { flags: '-L', help: 'suppress loopback of multicast packets' },
  { flags: '-l <preload>', help: 'send <preload> number of packages while waiting replies', parse: intArg('argument', 1, MAX_DUP_CHK) },
  { flags: '-m <mark>', help: 'tag the packets going out', parse: intArg('argument', 0, 4294967295) },
  { flags: '-M <pmtud opt>', help: 'define mtu discovery, can be one of <do|dont|want>', parse: pmtuArg },
  { flags: '-n', help: 'no dns name resolution' },
  { flags: '-O', help: 'report outstanding replies' },
  { flags: '-p <pattern>', help: 'contents of padding byte', parse: patternArg },
  { flags: '-q', help: 'quiet output' },
  { flags: '-Q <tclass>', help: 'use quality of service <tclass> bits', parse: tosArg },
  { flags: '-r', help: 'use SO_DONTROUTE socket option' },
  { flags: '-R', help: 'record route' },
  { flags: '-T <timestamp>', help: 'define timestamp, can be one of <tsonly|tsandaddr|tsprespec>', parse: timestampArg },
  { flags: '-s <size>', help: 'use <size> as number of data bytes to be sent', parse: intArg('argument', 0, INT_MAX) },
  { flags: '-S <size>', help: 'use <size> as SO_SNDBUF socket option value', parse: intArg('argument', 1, INT_MAX) },
  { flags: '-t <ttl>', help: 'define time to live', parse: intArg('argument', 0, 255) },
  { flags: '-U', help: 'print user-to-user latency' },
  { flags: '-v', help: 'verbose output' },
  { flags: '-V', help: 'print version and exit' },
  { flags: '-h', help: 'usage on standard error, exit 2 (as iputils)' },
  { flags: '-w <deadline>', help: 'reply wait <deadline> in seconds', parse: intArg('argument', 0, INT_MAX) },
  { flags: '-W <timeout>', help: 'time to wait for response', parse: seconds('bad linger time') },
  { flags: '--json', help: 'print JSON lines: one object per event, then a summary' },
  { flags: '--openmetrics', help: "the summary as OpenMetrics gauges, for node_exporter's textfile collector (standard output, or -o)" },
  { flags: '-o <file>', help: 'with --openmetrics: write the metrics to this file atomically (temporary file, then rename)' },
  { flags: '--pcap <file>', help: PCAP_HELP, parse: pcapArg },
  { flags: '--mode <mechanism>', help: 'force the ICMP socket: dgram (ping socket) or raw', choices: ['dgram', 'raw'] },
];

/** commander's Command for ping's table: the help, the errors in commander's words, the table for completions. */
export function command(): Command {
  const cmd = makeCommand(NAME, { shortHelp: false })
    .description('send ICMP ECHO_REQUEST to network hosts')
    .usage('[options] <destination>')
    .argument('[destination]', 'dns name or ip address')
    // -T tsprespec takes hops before the destination; anything else extra is refused below
    .allowExcessArguments();
  for (const spec of OPTIONS) {
    if (spec.choices) cmd.addOption(new Option(spec.flags, spec.help).choices(spec.choices));
    else if (spec.parse) cmd.option(spec.flags, spec.help, spec.parse);
    else cmd.option(spec.flags, spec.help);
  }
  return cmd.addHelpText('after', '\nExit status: 0 when replies came, 1 when none did (or -w ended short of -c), 2 on errors.\nSee sockit-ping(1).');
}

/** An option as getopt looks it up: the key commander keeps its value under, and whether it takes one. */
interface GetoptEntry {
  key: string;
  takesValue: boolean;
  spec: OptionSpec;
}

let getoptTable: Map<string, GetoptEntry> | undefined;

/** The table by name ('-c', '--pcap'); -h is left out: its help is commander's. */
function getopt(): Map<string, GetoptEntry> {
  if (getoptTable) return getoptTable;
  getoptTable = new Map();
  for (const spec of OPTIONS) {
    const name = spec.flags.split(' ')[0]!;
    if (name !== '-h') getoptTable.set(name, { key: name.replace(/^-+/, ''), takesValue: spec.flags.includes('<'), spec });
  }
  return getoptTable;
}

/**
 * argv by commander's rules without building commander's Command (most of a
 * short run's parsing time): options anywhere, -nq groups, -c5 and -nc 5,
 * --pcap=FILE, everything after `--` an operand; each value through the same
 * parser. null for anything else (an unknown option, a missing or refused
 * value, -h, --help, -N help): commander parses that argv again, for its
 * words and its help.
 */
export function quickParse(argv: readonly string[]): { values: Record<string, unknown>; args: string[] } | null {
  const table = getopt();
  const values: Record<string, unknown> = {};
  const args: string[] = [];
  const set = (e: GetoptEntry, v?: string): void => {
    if (v === undefined) values[e.key] = true;
    else if (e.spec.choices && !e.spec.choices.includes(v)) throw new UsageError(v);
    else values[e.key] = e.spec.parse ? e.spec.parse(v, values[e.key]) : v;
  };
  try {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      if (arg === '--') {
        args.push(...argv.slice(i + 1));
        break;
      }
      if (arg.length < 2 || arg[0] !== '-') {
        args.push(arg);
        continue;
      }
      const whole = table.get(arg);
      if (whole) {
        if (!whole.takesValue) set(whole);
        else if (i + 1 < argv.length) set(whole, argv[++i]);
        else return null;
        continue;
      }
      if (arg[1] === '-') {
        const eq = arg.indexOf('=');
        const e = eq > 2 ? table.get(arg.slice(0, eq)) : undefined;
        if (!e?.takesValue) return null;
        set(e, arg.slice(eq + 1));
        continue;
      }
      // a group: flags, then at most one option that takes the rest (or the next argument) as its value
      for (let k = 1; k < arg.length; k++) {
        const e = table.get(`-${arg[k]}`);
        if (!e) return null;
        if (!e.takesValue) {
          set(e);
          continue;
        }
        if (k + 1 < arg.length) set(e, arg.slice(k + 1));
        else if (i + 1 < argv.length) set(e, argv[++i]);
        else return null;
        break;
      }
    }
  } catch {
    return null;
  }
  return { values, args };
}

/** Parsed options and target, or the exit status when there is nothing to ping (-V, -h, --help). */
export function parse(argv: string[]): { opts: Opts; target: string } | number {
  const quick = readingTables() ? null : quickParse(argv);
  let cmd: Command | undefined;
  if (!quick) {
    cmd = command();
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
  }
  const o = quick?.values ?? cmd!.opts();
  const args = quick?.args ?? cmd!.args;
  if (o.V) {
    process.stdout.write(`ping from sockit ${sockitVersion()}\n`);
    return 0;
  }
  if (o.h) {
    process.stderr.write((cmd ?? command()).helpInformation());
    return 2;
  }
  const family = familyFlag(o, 'only one -4 or -6 option may be specified');
  if (o.R && o.T) throw new UsageError('only one of -T or -R may be used');
  const target = args[args.length - 1];
  if (args.length === 0 || target === undefined) throw new UsageError('usage error: Destination address required');
  // -T tsprespec [hop1 ... hop4] destination: the hops asked to stamp
  const prespec = o.T === 'tsprespec' ? args.slice(0, -1) : undefined;
  if (prespec && prespec.length > MAX_PRESPEC) throw new UsageError(`-T tsprespec: at most ${MAX_PRESPEC} hops before the destination: ${prespec.join(' ')}`);
  if (!prespec && args.length > 1) throw new UsageError(`usage error: too many destinations: ${args.join(' ')}`);
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
