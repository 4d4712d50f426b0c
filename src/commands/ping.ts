// sockit ping: iputils ping on the socket core (UNP 28.5). Options, output
// and exit codes follow iputils 20221126; the engine is src/stack/ping.ts.
import { Option } from 'commander';
import { IcmpPermissionError } from '../stack/icmp.js';
import { isSystemError, native } from '../stack/native/index.js';
import { formatIPv4, isMulticast, parseIPv4, parseIPv6 } from '../stack/packet/addr.js';
import * as icmp4 from '../stack/packet/icmp4.js';
import { describe4, describe6 } from '../stack/packet/icmp-names.js';
import * as ni from '../stack/packet/nodeinfo.js';
import { MAX_DUP_CHK, MINUSERINTERVAL, type PingEvent, PingSession, type PingStats } from '../stack/ping.js';
import { IcmpProbe, type NodeInfoQuery, type PmtuMode } from '../stack/probe/icmp.js';
import { AddressNamer, type ResolveError, resolveHost } from '../stack/resolve.js';
import { sourceAddressFor } from '../stack/route.js';
import { OrderedOutput, UsageError, familyFlag, intArg, jsonLine, makeCommand, parseArgs, runMain, sockitVersion } from './common.js';

const NAME = 'ping';
const LONG_MAX = '9223372036854775807';
const INT_MAX = 2147483647;

interface Opts {
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
}

// ---- -N: IPv6 node information queries (RFC 4620), iputils' option words ----

/** What -N asked: a query type (none: -N changes nothing, as in iputils), flags, and a subject when not the destination. */
interface NodeInfoRequest {
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

const NI_HELP = `sockit ping -6 -N <nodeinfo opt>
Help:
  help
Query:
  name
  ipv6
  ipv6-all
  ipv6-compatible
  ipv6-global
  ipv6-linklocal
  ipv6-sitelocal
  ipv4
  ipv4-all
Subject:
  subject-ipv6=addr
  subject-ipv4=addr
  subject-name=name
  subject-fqdn=name
`;

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
async function addressOf(text: string, family: 4 | 6): Promise<string> {
  let address: string | undefined;
  try {
    address = (await resolveHost(text, family)).addresses[0]?.address;
  } catch (e) {
    throw new UsageError(`${text}: ${(e as ResolveError).message}`);
  }
  if (!address) throw new UsageError(`${text}: Address family for hostname not supported`);
  return address;
}

/** The query -N asked for, its subject resolved (getaddrinfo for addresses, wire form for names). */
async function nodeInfoQuery(req: NodeInfoRequest, destination: string): Promise<NodeInfoQuery> {
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

/** A node information reply, read once for the text and for --json. */
interface NodeInfoAnswer {
  code: number;
  qtype: number;
  flags: number;
  /** the sequence in the nonce */
  seq: number;
  /** Node Name: its TTL and names; undefined when the data is too short for the TTL */
  ttl?: number;
  names?: ni.ReplyName[];
  addresses?: ni.ReplyAddress[];
  /** a name or address ran off the end (those before it are kept) */
  cut?: boolean;
  tooShort?: boolean;
}

function nodeInfoAnswer(wire: Buffer): NodeInfoAnswer | null {
  const d = ni.decode(wire);
  if (!d.ok) return null;
  const m = d.value;
  const a: NodeInfoAnswer = { code: m.code, qtype: m.qtype, flags: m.flags, seq: m.nonce.readUInt16BE(0) };
  if (m.code !== ni.SUCCESS) return a;
  if (m.qtype === ni.QTYPE_NODENAME) {
    const names = ni.decodeNames(m.data);
    if (!names.ok) a.tooShort = true;
    else Object.assign(a, { ttl: names.value.ttl, names: names.value.names, cut: names.value.truncated });
  } else if (m.qtype === ni.QTYPE_NODEADDR || m.qtype === ni.QTYPE_IPV4ADDR) {
    const list = ni.decodeAddresses(m.data, m.qtype === ni.QTYPE_IPV4ADDR ? 4 : 6);
    Object.assign(a, { addresses: list.addresses, cut: list.truncated });
  }
  return a;
}

/** The reply's answer as iputils prints it after "from ADDR:", ending "; seq=N;". */
export function nodeInfoText(wire: Buffer): string {
  const a = nodeInfoAnswer(wire);
  if (!a) return ' parse error (too short)';
  let s = '';
  if (a.code === ni.SUCCESS) {
    const list = a.names?.map((n) => ` ${n.name}${n.fqdn ? '.' : ''}`) ?? a.addresses?.map((x) => ` ${x.address}`);
    if (a.tooShort) s += ' parse error (too short)';
    else if (list) {
      s += list.join(',');
      if (a.cut) s += `${list.length ? ',' : ''} parse error (truncated)`;
      if (a.addresses && a.flags & ni.FLAG_TRUNCATE) s += ' (truncated)';
    } else s += ` unknown qtype(0x${a.qtype.toString(16).padStart(2, '0')})`;
  } else if (a.code === ni.REFUSED) s += ' refused';
  else if (a.code === ni.UNKNOWN_QTYPE) s += ' unknown';
  // iputils byte-swaps the one-byte code here (ntohs): code 3 prints as 300
  else s += ` unknown code(${((a.code << 8) & 0xffff).toString(16).padStart(2, '0')})`;
  return `${s}; seq=${a.seq};`;
}

/** The reply's answer for --json. */
function nodeInfoJson(wire: Buffer): Record<string, unknown> {
  const a = nodeInfoAnswer(wire);
  if (!a) return { result: 'malformed' };
  const result = a.code === ni.SUCCESS ? 'success' : a.code === ni.REFUSED ? 'refused' : a.code === ni.UNKNOWN_QTYPE ? 'unknown qtype' : `code ${a.code}`;
  const out: Record<string, unknown> = { result, qtype: a.qtype, flags: a.flags };
  if (a.tooShort) out.parse_error = true;
  if (a.names) Object.assign(out, { ttl: a.ttl, names: a.names.map((n) => n.name + (n.fqdn ? '.' : '')), parse_error: a.cut });
  if (a.addresses) Object.assign(out, { addresses: a.addresses, parse_error: a.cut, truncated: (a.flags & ni.FLAG_TRUNCATE) !== 0 });
  return out;
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

/** inet_aton(3): the IPv4 forms iputils takes as numeric ("127.1", "0x7f000001" ...). */
export function inetAton(s: string): string | null {
  const parts = s.split('.');
  if (parts.length < 1 || parts.length > 4 || parts.some((p) => p === '')) return null;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) n = parseInt(p, 8);
    else if (/^[1-9]\d*$/.test(p)) n = parseInt(p, 10);
    else return null;
    nums.push(n);
  }
  const last = nums.pop()!;
  if (nums.some((n) => n > 255) || last >= 2 ** (8 * (4 - nums.length))) return null;
  let v = 0;
  nums.forEach((n, i) => (v += n * 2 ** (24 - 8 * i)));
  v += last;
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].join('.');
}

// ---- IP options, as iputils' pr_options prints them after a reply ----

const IPOPT_NOP = 1;
const IPOPT_RR = 7;
const IPOPT_TS = 68;
const IPOPT_TS_TSONLY = 0;
const IPOPT_TS_TSANDADDR = 1;
const IPOPT_TS_PRESPEC = 3;
/** iputils: -T tsprespec names at most 4 hops (the option has room for 4 address and stamp pairs) */
const MAX_PRESPEC = 4;
const IPOPT_LSRR = 131;
const IPOPT_SSRR = 137;
const IPOPT_MINOFF = 4;

/** NOP, then record route with room for 9 addresses: 40 bytes, the most IPv4 allows. */
function recordRouteOption(): Buffer {
  const b = Buffer.alloc(40);
  b[0] = IPOPT_NOP;
  b[1] = IPOPT_RR;
  b[2] = 39;
  b[3] = IPOPT_MINOFF;
  return b;
}

type TimestampType = 'tsonly' | 'tsandaddr' | 'tsprespec';

/**
 * The timestamp option: room for 9 stamps (tsonly), for 4 address and stamp
 * pairs (tsandaddr), or the prespecified hops' addresses, each followed by
 * the slot its stamp goes in (tsprespec: only those hops stamp, in order).
 */
function timestampOption(type: TimestampType, hops: string[] = []): Buffer {
  const b = Buffer.alloc(type === 'tsonly' ? 40 : type === 'tsandaddr' ? 36 : 4 + hops.length * 8);
  b[0] = IPOPT_TS;
  b[1] = b.length;
  b[2] = 5;
  b[3] = type === 'tsonly' ? IPOPT_TS_TSONLY : type === 'tsandaddr' ? IPOPT_TS_TSANDADDR : IPOPT_TS_PRESPEC;
  hops.forEach((h, i) => parseIPv4(h)!.copy(b, 4 + i * 8));
  return b;
}

type OptionItem =
  | { kind: 'nop' }
  /** text, with { address } where a name may go */
  | { kind: 'ts'; entries: StampEntry[]; flags: number }
  | { kind: 'rr'; same: boolean; addresses: string[] }
  | { kind: 'srr'; strict: boolean; addresses: string[] }
  | { kind: 'unknown'; type: number };

/** The last route recorded, for "(same route)": its pointer byte and addresses, as iputils compares them. */
interface RouteMemory {
  last: Buffer | null;
}

/** An address from an option, 0.0.0.0 past its end. */
function optionAddress(opts: Buffer, at: number): string {
  return at + 4 <= opts.length ? formatIPv4(opts, at) : '0.0.0.0';
}

function addressesAt(opts: Buffer, from: number, bytes: number): string[] {
  const out: string[] = [];
  for (let i = 0; ; i += 4) {
    out.push(optionAddress(opts, from + i));
    if (bytes - i - 4 <= 0) break;
  }
  return out;
}

/** iputils' pr_options walk, its quirks included (a source route is read from its pointer byte on). */
export function ipOptionItems(opts: Buffer, memory: RouteMemory): OptionItem[] {
  const items: OptionItem[] = [];
  let p = 0;
  let total = opts.length;
  while (total > 0) {
    const type = opts[p]!;
    if (type === 0) break; // end of options
    if (type === IPOPT_NOP) {
      items.push({ kind: 'nop' });
      total--;
      p++;
      continue;
    }
    const olen = opts[p + 1] ?? 0;
    if (olen < 2 || olen > total) break;
    if (type === IPOPT_SSRR || type === IPOPT_LSRR) {
      const j = olen;
      items.push({ kind: 'srr', strict: type === IPOPT_SSRR, addresses: j > IPOPT_MINOFF ? addressesAt(opts, p + 2, j - IPOPT_MINOFF) : [] });
    } else if (type === IPOPT_RR) {
      let i = Math.min(opts[p + 2] ?? 0, olen);
      i -= IPOPT_MINOFF;
      if (i > 0) {
        const seen = opts.subarray(p + 2, p + 2 + i);
        if (memory.last && memory.last.equals(seen)) items.push({ kind: 'rr', same: true, addresses: [] });
        else {
          memory.last = Buffer.from(seen);
          items.push({ kind: 'rr', same: false, addresses: addressesAt(opts, p + 3, i) });
        }
      }
    } else if (type === IPOPT_TS) {
      const ts = timestampEntries(opts, p, olen);
      if (ts) items.push({ kind: 'ts', ...ts });
    } else {
      items.push({ kind: 'unknown', type });
    }
    total -= olen;
    p += olen;
  }
  return items;
}

/** One slot of a timestamp option: the hop's address (not in tsonly), then its stamp if it got that far. */
interface StampEntry {
  address?: string;
  /** milliseconds since midnight UT, or any value when not standard */
  stamp?: number;
  standard?: boolean;
}

/** The timestamp option's slots in use, walked as iputils' pr_options walks them; null when none. */
function timestampEntries(opts: Buffer, p: number, olen: number): { entries: StampEntry[]; flags: number } | null {
  let i = Math.min(opts[p + 2] ?? 0, olen) - 5;
  if (i <= 0) return null;
  const flags = opts[p + 3] ?? 0;
  const entries: StampEntry[] = [];
  let c = p + 4;
  for (;;) {
    const e: StampEntry = {};
    entries.push(e);
    if ((flags & 0xf) !== IPOPT_TS_TSONLY) {
      e.address = optionAddress(opts, c);
      c += 4;
      i -= 4;
      if (i <= 0) break;
    }
    const l = c + 4 <= opts.length ? opts.readUInt32BE(c) : 0;
    c += 4;
    e.standard = (l & 0x80000000) === 0;
    e.stamp = l & 0x7fffffff;
    i -= 4;
    if (i <= 0) break;
  }
  return { entries, flags };
}

/** The text iputils prints after a reply for its IP options (pr_options), names looked up with `name`. */
export async function optionsText(items: OptionItem[], name: (a: string) => Promise<string>): Promise<string> {
  const list = async (addresses: string[]) =>
    (await Promise.all(addresses.map((a) => (a === '0.0.0.0' ? a : name(a))))).map((a) => `\t${a}\n`).join('');
  let s = '';
  for (const it of items) {
    if (it.kind === 'nop') s += '\nNOP';
    else if (it.kind === 'rr') s += it.same ? '\t(same route)' : `\nRR: ${await list(it.addresses)}`;
    else if (it.kind === 'srr') s += `\n${it.strict ? 'S' : 'L'}SRR: ${await list(it.addresses)}`;
    else if (it.kind === 'ts') {
      // the first standard time absolute, the rest relative to the one before
      s += '\nTS: ';
      let stdtime = 0;
      let nonstdtime = 0;
      for (const e of it.entries) {
        if (e.address !== undefined) s += `\t${e.address === '0.0.0.0' ? e.address : await name(e.address)}`;
        if (e.stamp === undefined) break;
        if (!e.standard) {
          s += nonstdtime === 0 ? `\t${e.stamp} absolute not-standard` : `\t${e.stamp - nonstdtime} not-standard`;
          nonstdtime = e.stamp;
        } else {
          s += stdtime === 0 ? `\t${e.stamp} absolute` : `\t${e.stamp - stdtime}`;
          stdtime = e.stamp;
        }
        s += '\n';
      }
      if (it.flags >> 4) s += `Unrecorded hops: ${it.flags >> 4}\n`;
    }
    else s += `\nunknown option ${it.type.toString(16)}`;
  }
  return s;
}

/**
 * A reply's IP options for --json: the addresses a record-route option holds
 * so far, or a timestamp option's slots (absolute stamps, address when it
 * has one) and the hops that found it full; the walk the text takes, without
 * "same route".
 */
function optionsJson(opts: Buffer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const it of ipOptionItems(opts, { last: null })) {
    if (it.kind === 'rr') out.record_route = it.addresses;
    else if (it.kind === 'ts') {
      out.ip_timestamps = it.entries.map((e) => ({
        ...(e.address !== undefined ? { address: e.address } : {}),
        ms_since_midnight_ut: e.stamp ?? null,
        ...(e.stamp !== undefined && !e.standard ? { standard: false } : {}),
      }));
      out.unrecorded_hops = it.flags >> 4;
    }
  }
  return out;
}

/** Parsed options and target, or the exit status when there is nothing to ping (-V, -h, --help). */
function parse(argv: string[]): { opts: Opts; target: string } | number {
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
    .option('-e <identifier>', 'define identifier for ping session, default is random for SOCK_RAW and kernel defined for SOCK_DGRAM', intArg('argument', 0, 65535))
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
      count: o.c, interval: o.i, size: o.s ?? 56, ttl: o.t, timeout: o.W ?? 10_000, deadline: o.w ?? 0,
      flood: !!o.f, quiet: !!o.q, numeric: !!o.n || !!o.f, timestamps: !!o.D, outstanding: !!o.O,
      patternText: o.p, pattern: o.p ? patternBytes(o.p) : undefined, tos: o.Q, preload: o.l ?? 1, iface: o.I, pmtu: o.M,
      audible: !!o.a, adaptive: !!o.A, verbose: !!o.v, json: !!o.json, family,
      mode: o.mode, sndbuf: o.S, mark: o.m, debug: !!o.d, dontroute: !!o.r,
      broadcast: !!o.b, sticky: !!o.B, ident: o.e, nodeInfo: o.N?.qtype !== undefined ? o.N : undefined, noLoop: !!o.L, userLatency: !!o.U, connect: !!o.C, recordRoute: !!o.R, timestamp: o.T, prespec, flowLabel: o.F,
    },
  };
}

/** " time=0.045 ms": iputils' rounding to 3 significant-ish digits (microseconds in). */
export function formatTime(us: number): string {
  if (us >= 100000 - 50) return `${Math.trunc((us + 500) / 1000)}`;
  if (us >= 10000 - 5) return `${Math.trunc((us + 50) / 1000)}.${Math.trunc(((us + 50) % 1000) / 100)}`;
  if (us >= 1000) return `${Math.trunc((us + 5) / 1000)}.${String(Math.trunc(((us + 5) % 1000) / 10)).padStart(2, '0')}`;
  return `${Math.trunc(us / 1000)}.${String(us % 1000).padStart(3, '0')}`;
}

/** %ld.%03ld of microseconds */
function ms3(us: number): string {
  const neg = us < 0 ? '-' : '';
  const a = Math.abs(us);
  return `${neg}${Math.trunc(a / 1000)}.${String(a % 1000).padStart(3, '0')}`;
}

/** printf's %g (6 significant digits) */
export function formatG(v: number): string {
  if (v === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  if (exp < -4 || exp >= 6) {
    const [m, e] = v.toExponential(5).split('e');
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const n = Number(e);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const s = v.toFixed(Math.max(0, 5 - exp));
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** The statistics block iputils prints at the end. */
export function summaryText(host: string, s: PingStats): string {
  let out = `\n--- ${host} ping statistics ---\n`;
  out += `${s.ntransmitted} packets transmitted, ${s.nreceived} received`;
  if (s.nrepeats) out += `, +${s.nrepeats} duplicates`;
  if (s.nchecksum) out += `, +${s.nchecksum} corrupted`;
  if (s.nerrors) out += `, +${s.nerrors} errors`;
  if (s.ntransmitted) out += `, ${formatG(s.lossPercent)}% packet loss, time ${s.elapsedMs}ms`;
  out += '\n';
  let comma = '';
  const r = s.rttSummary();
  if (r) {
    out += `rtt min/avg/max/mdev = ${ms3(r.min)}/${ms3(r.avg)}/${ms3(r.max)}/${ms3(r.mdev)} ms`;
    comma = ', ';
  }
  if (s.pipesize > 1) {
    out += `${comma}pipe ${s.pipesize}`;
    comma = ', ';
  }
  const ie = s.ipgEwma();
  if (ie) out += `${comma}ipg/ewma ${ms3(ie.ipg)}/${ms3(ie.ewma)} ms`;
  return out + '\n';
}

function nowStamp(): string {
  const ns = native.clock(0);
  return `[${ns / 1_000_000_000n}.${String((ns % 1_000_000_000n) / 1000n).padStart(6, '0')}] `;
}

/** Lines in order (some wait for a name lookup), with flood marks batched in between. */
class Out {
  private readonly ordered = new OrderedOutput();
  private flood = '';
  private floodScheduled = false;

  line(text: string | Promise<string>, stream: NodeJS.WriteStream = process.stdout): void {
    this.flushFlood();
    this.ordered.write(text, stream);
  }

  /** flood marks, batched per event-loop turn (the same bytes as iputils, fewer writes) */
  mark(s: string): void {
    this.flood += s;
    if (!this.floodScheduled) {
      this.floodScheduled = true;
      setImmediate(() => this.flushFlood());
    }
  }

  private flushFlood(): void {
    this.floodScheduled = false;
    if (this.flood) {
      const f = this.flood;
      this.flood = '';
      this.ordered.write(f);
    }
  }

  async drain(): Promise<void> {
    this.flushFlood();
    await this.ordered.drain();
  }
}

async function main(argv: string[]): Promise<number> {
  const parsed = parse(argv);
  if (typeof parsed === 'number') return parsed;
  const { opts: o, target } = parsed;
  const privileged = process.getuid?.() === 0;

  // resolve once (getaddrinfo, AI_CANONNAME)
  let resolved;
  try {
    resolved = await resolveHost(target, o.family);
  } catch (e) {
    const err = e as ResolveError;
    throw new UsageError(`${target}: ${err.message}`);
  }
  const dst = resolved.addresses[0];
  if (!dst) throw new UsageError(`${target}: Address family for hostname not supported`);
  const family = dst.family;
  const v4 = family === 4;
  // the largest ICMP data an IPv4 / IPv6 packet can carry (no jumbograms)
  const maxData = v4 ? 65507 : 65527;
  if (o.size > maxData) throw new UsageError(`invalid argument: '${o.size}': out of range: 0 <= value <= ${maxData}`);
  const numericTarget = v4 ? inetAton(target) !== null : target.includes(':');
  const numeric = o.numeric || numericTarget;
  // iputils: the canonical name for IPv4 names, the name as given for IPv6
  const hostname = v4 && !numericTarget ? resolved.canonname : target;
  // -T tsprespec's hops, resolved as the destination is (IPv6 is refused with the other IP options below)
  const hops: string[] = [];
  if (o.prespec && v4) {
    for (const hop of o.prespec) hops.push(await addressOf(hop, 4));
  }

  // interval rules (iputils setup())
  let intervalMs = o.interval ?? 1000;
  if (o.flood && o.interval === undefined) intervalMs = 0;
  if (!privileged && intervalMs < MINUSERINTERVAL) throw new UsageError(`cannot flood; minimal interval allowed for user is ${MINUSERINTERVAL}ms`);
  if (!privileged && o.preload > 3) throw new UsageError(`cannot set preload to value greater than 3: ${o.preload}`);

  // -I: a source address or an interface
  let source: string | undefined;
  let device: string | undefined;
  if (o.iface) {
    if (o.iface.includes(':')) {
      const [addr, dev] = o.iface.split('%');
      if (!parseIPv6(addr)) throw new UsageError(`invalid source address: ${o.iface}`);
      source = addr;
      device = dev;
    } else if (parseIPv4(o.iface)) source = o.iface;
    else device = o.iface;
  }
  // -B binds the source the kernel picks now, as -I with an address does
  const strictSource = source !== undefined || o.sticky;

  // which source the kernel would pick (iputils' probe connect); a
  // broadcast destination refuses the connect with EACCES until SO_BROADCAST
  if (!source) {
    // (iputils asks about the first prespecified hop when there is one)
    const probe = (broadcast: boolean) => sourceAddressFor(hops[0] ?? dst.address, { device, tos: o.tos, mark: o.mark, broadcast });
    try {
      try {
        source = probe(false);
      } catch (e) {
        if (!(isSystemError(e) && e.code === 'EACCES' && v4)) throw e;
        if (!o.broadcast) throw new UsageError('Do you want to ping broadcast? Then -b. If not, check your local firewall rules');
        process.stderr.write('WARNING: pinging broadcast address\n');
        source = probe(true);
      }
    } catch (e) {
      if (!isSystemError(e)) throw e;
      if (e.code === 'ENODEV' && device) throw new UsageError(`SO_BINDTODEVICE ${device}: ${native.strerror(-e.errno)}`);
      throw new UsageError(`connect: ${native.strerror(-e.errno)}`);
    }
  }

  // broadcast and multicast (iputils): users wait at least a second between
  // probes, nothing is fragmented, and replies come from many addresses
  const multicast = o.broadcast || isMulticast(dst.address);
  let pmtu = o.pmtu;
  if (multicast) {
    const what = v4 ? 'broadcast' : 'multicast';
    if (!privileged && intervalMs < 1000) throw new UsageError(`${what} ping with too short interval: ${intervalMs}`);
    if (!privileged && pmtu !== undefined && pmtu !== 'do') throw new UsageError(`${what} ping does not fragment`);
    pmtu ??= 'do';
  }

  // -e 0: a ping socket cannot have identifier 0 (the kernel picks one): raw
  let mode = o.mode;
  if (o.ident === 0 && !mode) {
    mode = 'raw';
    if (o.verbose) process.stderr.write(`sockit ${NAME}: WARNING: ident 0 => forcing raw socket\n`);
  }
  // -R, -T: the replies' IP options are read from the IP header, which only a raw socket shows
  const ipOption = o.recordRoute ? '-R' : o.timestamp ? '-T' : undefined;
  if (ipOption) {
    if (!v4) throw new UsageError(`${ipOption}: IP options are IPv4's`);
    if (mode === 'dgram') throw new UsageError(`${ipOption}: IP options need a raw socket (a ping socket does not show the replies' IP header)`);
    mode = 'raw';
  }
  // -N: node information queries, about the destination unless a subject is named; raw ICMPv6 only
  let nodeInfo: NodeInfoQuery | undefined;
  if (o.nodeInfo) {
    if (v4) throw new UsageError("-N: node information queries are IPv6's");
    if (mode === 'dgram') throw new UsageError('-N: node information queries need a raw socket (a ping socket sends only echo requests)');
    mode = 'raw';
    nodeInfo = await nodeInfoQuery(o.nodeInfo, dst.address);
  }

  let method: IcmpProbe;
  try {
    method = new IcmpProbe({
      target: dst.address, family, mode, source: strictSource ? source : undefined, device, ident: o.ident,
      ttl: o.ttl, tos: o.tos, pmtu, sndbuf: o.sndbuf, mark: o.mark, debug: o.debug, dontroute: o.dontroute, broadcast: o.broadcast,
      multicastLoop: o.noLoop ? false : undefined, timestamps: !o.userLatency, connect: o.connect,
      ipOptions: o.recordRoute ? recordRouteOption() : o.timestamp ? timestampOption(o.timestamp, hops) : undefined,
      nodeInfo,
      // iputils: room for the preload in the receive buffer, at least 64 KiB
      rcvbuf: Math.max(65536, (o.size + 8 + Math.ceil((o.size + 8) / 512) * (20 + 16 + 64 + 160)) * o.preload),
    });
  } catch (e) {
    if (e instanceof IcmpPermissionError) throw new UsageError(e.message);
    if (isSystemError(e)) {
      const what = e.syscall === 'setsockopt' && device ? `SO_BINDTODEVICE ${device}` : e.syscall === 'connect' ? 'connect failed' : e.syscall;
      throw new UsageError(`${what}: ${native.strerror(-e.errno)}`);
    }
    throw e;
  }

  // -F: a label already leased elsewhere (another ping's, for its linger time) is EPERM, as for iputils
  if (!v4 && o.flowLabel !== undefined) {
    try {
      method.setFlowLabel(o.flowLabel);
    } catch (e) {
      method.close();
      if (isSystemError(e)) throw new UsageError(`can't set flowlabel: ${native.strerror(-e.errno)}`);
      throw e;
    }
  }

  const out = new Out();
  const routes: RouteMemory = { last: null };
  const namer = new AddressNamer(numeric);
  const prAddr = (a: string) => namer.format(a);
  const ts = () => (o.timestamps ? nowStamp() : '');
  const json = o.json;
  const datalen = o.size;
  const flood = o.flood && !o.quiet && !json;
  const screenWidth = process.stdout.isTTY ? process.stdout.columns || INT_MAX : INT_MAX;

  if (o.verbose) {
    process.stderr.write(
      `sockit ${NAME}: ${method.mechanism} (${method.unprivileged ? 'SOCK_DGRAM, unprivileged' : 'SOCK_RAW, CAP_NET_RAW'})` +
      `${method.unprivileged ? '' : `, ident ${method.ident}`}\n`,
    );
  }

  if (json) {
    jsonLine({
      type: 'start', host: hostname, address: dst.address, family, source: source ?? null, device: device ?? null,
      data_bytes: datalen, packet_bytes: datalen + method.headerBytes, mechanism: method.mechanism, ident: method.ident,
    });
  } else {
    if (o.patternText && !o.quiet) out.line(`PATTERN: 0x${o.pattern!.toString('hex')}\n`);
    const from = device || strictSource ? `from ${v4 ? source : await prAddr(source!)} ${device ?? ''}: ` : '';
    // iputils counts 40 bytes for any IP option it sends, whatever its length
    if (v4) out.line(`PING ${hostname} (${dst.address}) ${from}${datalen}(${datalen + 28 + (ipOption ? 40 : 0)}) bytes of data.\n`);
    else {
      const flow = o.flowLabel ? `, flow 0x${o.flowLabel.toString(16).padStart(5, '0')}, ` : '';
      out.line(`PING ${hostname}(${await prAddr(dst.address)}) ${flow}${from}${datalen} data bytes\n`);
    }
  }

  let exitCode = 0;
  const done = new Promise<void>((resolve) => {
    const session = new PingSession(
      method,
      {
        count: o.count ?? 0, intervalMs, flood: o.flood, preload: o.preload, deadlineS: o.deadline, lingerMs: o.timeout,
        // a node information query carries no data of ours: nothing to time or check (iputils)
        dataLen: nodeInfo ? 0 : datalen, pattern: o.pattern, adaptive: o.adaptive, outstanding: o.outstanding, privileged, quiet: o.quiet, multicast,
      },
      (e) => render(e),
    );

    const onInt = () => session.stop();
    const onQuit = () => statusLine(session.stats);
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onInt);
    process.on('SIGQUIT', onQuit);

    function statusLine(s: PingStats): void {
      const loss = s.ntransmitted ? Math.trunc(((s.ntransmitted - s.nreceived) * 100) / s.ntransmitted) : 0;
      if (json) {
        jsonLine({ type: 'status', transmitted: s.ntransmitted, received: s.nreceived, loss_percent: loss });
        return;
      }
      let line = `\r${s.nreceived}/${s.ntransmitted} packets, ${loss}% loss`;
      if (s.nreceived && s.timing) {
        const tavg = Math.trunc(s.tsum / (s.nreceived + s.nrepeats));
        line += `, min/avg/ewma/max = ${ms3(s.tmin)}/${ms3(tavg)}/${ms3(Math.trunc(s.rtt / 8))}/${ms3(s.tmax)} ms`;
      }
      process.stderr.write(line + '\n');
    }

    function render(e: PingEvent): void {
      switch (e.type) {
        case 'sent':
          if (flood) {
            const s = session.stats;
            if ((o.preload < screenWidth && s.pipesize < screenWidth) || session.inFlight < screenWidth) out.mark('.');
          }
          return;
        case 'reply': {
          if (json) {
            jsonLine({
              type: 'reply', seq: e.seq, from: e.from, bytes: e.bytes, ttl: e.ttl ?? null,
              time_ms: e.rttUs === undefined ? null : e.rttUs / 1000, dup: e.dup, truncated: e.truncated, late: e.late,
              checksum_ok: e.checksumOk, different_address: e.wrongSource, timestamp: Number(native.clock(0) / 1000n) / 1e6,
              ...(e.ipOptions && e.ipOptions.length > 0 ? optionsJson(e.ipOptions) : {}),
              ...(e.nodeInfo ? { node_info: nodeInfoJson(e.nodeInfo) } : {}),
            });
            return;
          }
          if (o.quiet) return;
          if (flood) {
            out.mark(e.checksumOk ? '\b \b' : '\bC');
            if (o.audible) out.mark('\x07');
            return;
          }
          const stamp = ts();
          // decided now, in arrival order: "(same route)" compares with the previous reply
          const options = e.ipOptions && !e.truncated ? ipOptionItems(e.ipOptions, routes) : [];
          out.line(Promise.all([prAddr(e.from), optionsText(options, prAddr)]).then(([from, optText]) => {
            let l = `${stamp}${e.bytes} bytes from ${from}:${e.nodeInfo ? nodeInfoText(e.nodeInfo) : ` icmp_seq=${e.seq}`}`;
            if (o.verbose && !method.unprivileged) l += ` ident=${method.ident}`;
            if (e.ttl !== undefined) l += ` ttl=${e.ttl}`;
            if (e.truncated) return l + ' (truncated)\n';
            if (e.rttUs !== undefined) l += ` time=${formatTime(e.rttUs)} ms`;
            // many hosts answer a broadcast: iputils marks the repeats only with -v
            if (e.dup && (!multicast || o.verbose)) l += ' (DUP!)';
            if (!e.checksumOk) l += ' (BAD CHECKSUM!)';
            if (e.wrongSource) l += ' (DIFFERENT ADDRESS!)';
            if (e.mismatch) {
              const m = e.mismatch;
              l += `\nwrong data byte #${m.index} should be 0x${m.expected.toString(16)} but was 0x${m.actual.toString(16)}`;
              for (let i = 0; i < m.received.length; i++) {
                if (i % 32 === 0) l += `\n#${i + 16}\t`;
                l += `${m.received[i].toString(16)} `;
              }
            }
            if (o.audible) l += '\x07';
            return l + optText + '\n';
          }));
          if (e.clockWentBack !== undefined) out.line(`sockit ${NAME}: Warning: time of day goes back (${e.clockWentBack}us), taking countermeasures\n`, process.stderr);
          return;
        }
        case 'icmp-error': {
          const text = v4 ? describe4(e.icmpType, e.icmpCode, e.mtu) : describe6(e.icmpType, e.icmpCode, e.mtu);
          if (json) {
            jsonLine({ type: 'icmp_error', seq: e.seq, from: e.from, icmp_type: e.icmpType, icmp_code: e.icmpCode, mtu: e.mtu || null, message: text });
            return;
          }
          if (o.quiet) return;
          if (flood) {
            out.mark('\bE');
            return;
          }
          const stamp = ts();
          out.line(prAddr(e.from).then((from) => `${stamp}From ${from} icmp_seq=${e.seq} ${text}\n`));
          return;
        }
        case 'icmp-notice': {
          const text = describe4(e.icmpType, e.icmpCode, 0) + (e.icmpType === icmp4.REDIRECT ? `(New nexthop: ${e.gateway})` : '');
          if (json) {
            jsonLine({ type: 'icmp_notice', seq: e.seq, from: e.from, icmp_type: e.icmpType, icmp_code: e.icmpCode, gateway: e.gateway ?? null, message: text });
            return;
          }
          if (o.quiet || o.flood) return;
          const stamp = ts();
          out.line(prAddr(e.from).then((from) => `${stamp}From ${from}: icmp_seq=${e.seq} ${text}\n`));
          return;
        }
        case 'local-error': {
          const text = e.code === 'EMSGSIZE'
            ? `local error: message too long, mtu${v4 ? '=' : ': '}${e.info}`
            : `local error: ${native.strerror(e.errno)}`;
          if (json) {
            jsonLine({ type: 'local_error', errno: e.errno, code: e.code, mtu: e.code === 'EMSGSIZE' ? e.info : null, message: text });
            return;
          }
          if (o.quiet) return;
          if (flood) out.mark('E');
          else out.line(`sockit ${NAME}: ${text}\n`, process.stderr);
          return;
        }
        case 'send-error': {
          const text = `sendmsg: ${native.strerror(-e.error.errno)}`;
          if (json) jsonLine({ type: 'send_error', code: e.error.code, message: text });
          else if (!o.quiet) {
            if (flood) out.mark('E');
            else out.line(`sockit ${NAME}: ${text}\n`, process.stderr);
          }
          return;
        }
        case 'no-answer-yet':
          if (json) jsonLine({ type: 'no_answer_yet', seq: e.seq });
          else out.line(`${ts()}no answer yet for icmp_seq=${e.seq}\n`);
          return;
        case 'timeout':
          if (json) jsonLine({ type: 'timeout', seq: e.seq });
          return;
        case 'done': {
          process.off('SIGINT', onInt);
          process.off('SIGTERM', onInt);
          process.off('SIGQUIT', onQuit);
          const s = e.stats;
          exitCode = s.exitCode;
          if (json) {
            const r = s.rttSummary();
            const ie = s.ipgEwma();
            jsonLine({
              type: 'summary', host: hostname, address: dst.address, transmitted: s.ntransmitted, received: s.nreceived,
              duplicates: s.nrepeats, corrupted: s.nchecksum, errors: s.nerrors,
              loss_percent: s.ntransmitted ? Number(formatG(s.lossPercent)) : 0, time_ms: s.elapsedMs,
              rtt_ms: r && { min: r.min / 1000, avg: r.avg / 1000, max: r.max / 1000, mdev: r.mdev / 1000 },
              pipe: s.pipesize > 1 ? s.pipesize : null, ipg_ms: ie ? ie.ipg / 1000 : null, ewma_ms: ie ? ie.ewma / 1000 : null,
              exit_code: exitCode,
            });
          } else {
            out.line(summaryText(hostname, s));
          }
          resolve();
          return;
        }
      }
    }

    session.start();
  });
  await done;
  await out.drain();
  return exitCode;
}

export function run(argv: string[]): Promise<number> {
  return runMain(NAME, () => main(argv));
}
