// ss's expression language (ss(8) FILTER, iproute2 misc/ssfilter.y),
// parsed to a tree and evaluated in the process against each record:
//   src/dst HOST[/PREFIX][:PORT]   sport/dport OP [:]PORT   dev NAME
//   fwmark MARK[/MASK]   autobound   and or not && || !   ( )
// with juxtaposition meaning and. OP is = == eq != ne neq > gt < lt >= ge
// geq <= le leq. A parse error names the word it stopped at. Packet and
// netlink sockets are matched as ss's run_ssfilter sees them: the local
// "address" is the protocol, the local port the interface (packet) or the
// port id (netlink), and their HOST is PROTOCOL[:IFACE|:PID], written with
// link: / netlink: or after -f link / -f netlink.
import { parseIPv4, parseIPv6 } from '../packet/addr.js';
import type { NetlinkDiagMsg, PacketDiagMsg } from '../abi/packet_diag.js';
import type { SocketEntry } from './index.js';
import { sysctl } from '../sysctl.js';
import * as bc from '../abi/inet_diag_bc.js';

let portRange: [number, number] | undefined;
function localPortRange(): [number, number] {
  if (portRange) return portRange;
  const v = (sysctl('net.ipv4.ip_local_port_range') ?? '1024 65535').trim().split(/\s+/).map(Number);
  return (portRange = [v[0] ?? 1024, v[1] ?? 65535]);
}

export type Cmp = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le';

export interface HostCond {
  /** IPv4/IPv6 address bytes, or a unix path pattern */
  addr?: Buffer;
  path?: string;
  prefix?: number;
  /** a port; for a packet socket its interface index, for a netlink socket its port id */
  port?: number;
  /** link: / netlink: — the socket's protocol (an ethertype, a NETLINK_* number) in place of an address */
  proto?: number;
}

export type Filter =
  | { op: 'and' | 'or'; a: Filter; b: Filter }
  | { op: 'not'; a: Filter }
  | { op: 'src' | 'dst'; host: HostCond }
  | { op: 'sport' | 'dport'; cmp: Cmp; port: number }
  | { op: 'dev'; ifindex: number; name: string }
  | { op: 'fwmark'; mark: number; mask: number }
  | { op: 'autobound' };

/** A filter that does not parse: the word it stopped at and what it wanted there. */
export class FilterError extends Error {
  override readonly name = 'FilterError';
  constructor(
    readonly word: string,
    readonly expected: string,
  ) {
    super(`bad filter at '${word}': expected ${expected}`);
  }
}

const CMP: Record<string, Cmp> = {
  '=': 'eq',
  '==': 'eq',
  eq: 'eq',
  '!=': 'ne',
  ne: 'ne',
  neq: 'ne',
  '>': 'gt',
  gt: 'gt',
  '<': 'lt',
  lt: 'lt',
  '>=': 'ge',
  ge: 'ge',
  geq: 'ge',
  '<=': 'le',
  le: 'le',
  leq: 'le',
};

/** Split the words as ss's lexer does: parentheses and ! stand alone. */
export function tokenize(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    for (const w of a.split(/\s+/)) {
      let rest = w;
      while (rest) {
        const m = /^(\(|\)|&&|\|\||!=|!|[^()!&|]+|&|\|)/.exec(rest)!;
        out.push(m[1]);
        rest = rest.slice(m[1].length);
      }
    }
  }
  return out.filter((t) => t !== '');
}

export interface FilterContext {
  /** a service name to a port ("ssh" -> 22), null when unknown */
  service(name: string): number | null;
  /** an interface name to its index, 0 when there is none */
  ifindex(name: string): number;
  /** ss's preferred family (the last -f, -0, -x, -4, -6): 'link' or 'netlink' read every HOST in that family's form */
  family?: 'link' | 'netlink' | null;
  /** ll_proto_a2n: an ethertype by name ("ip", "all") or number, null when unknown */
  llProto?(name: string): number | null;
  /** nl_proto_a2n: a NETLINK_* protocol by name ("rtnl", "tcpdiag") or number, null when unknown */
  nlProto?(name: string): number | null;
}

const PRIMARY = "src, dst, sport, dport, dev, fwmark, autobound, not or '('";

/** Parse ss's filter words; throws FilterError. An empty list is no filter (null). */
export function parseFilter(args: string[], ctx: FilterContext): Filter | null {
  const t = tokenize(args);
  if (t.length === 0) return null;
  const p = new Parser(t, ctx);
  const e = p.or();
  if (!p.atEnd()) throw new FilterError(p.word(), 'and, or, or the end of the filter');
  return e;
}

/**
 * ssfilter.y's grammar by recursive descent over the words: an or of ands
 * (juxtaposition is and) of unaries (not, parentheses) of primaries.
 */
class Parser {
  private i = 0;
  constructor(
    private readonly t: string[],
    private readonly ctx: FilterContext,
  ) {}

  private peek(): string | undefined {
    return this.t[this.i];
  }
  private next(): string | undefined {
    return this.t[this.i++];
  }
  /** the word a parse error names */
  word(): string {
    return this.i < this.t.length ? this.t[this.i] : '(end)';
  }
  atEnd(): boolean {
    return this.i >= this.t.length;
  }

  or(): Filter {
    let a = this.and();
    while (this.peek() === 'or' || this.peek() === '||' || this.peek() === '|' || this.peek() === ',') {
      this.next();
      a = { op: 'or', a, b: this.and() };
    }
    return a;
  }
  private and(): Filter {
    let a = this.unary();
    for (;;) {
      const w = this.peek();
      if (w === 'and' || w === '&&' || w === '&') {
        this.next();
        a = { op: 'and', a, b: this.unary() };
      } else if (w !== undefined && w !== ')' && w !== 'or' && w !== '||' && w !== '|' && w !== ',') {
        a = { op: 'and', a, b: this.unary() }; // juxtaposition
      } else return a;
    }
  }
  private unary(): Filter {
    const w = this.peek();
    if (w === 'not' || w === '!') {
      this.next();
      return { op: 'not', a: this.unary() };
    }
    if (w === '(') {
      this.next();
      const e = this.or();
      if (this.peek() !== ')') throw new FilterError(this.word(), "')'");
      this.next();
      return e;
    }
    return this.primary();
  }
  private cmpWord(): Cmp | null {
    const c = CMP[this.peek() ?? ''];
    if (c) this.next();
    return c ?? null;
  }
  private primary(): Filter {
    const w = this.peek();
    switch (w) {
      case 'src':
      case 'dst': {
        this.next();
        const c = this.cmpWord() ?? 'eq';
        if (c !== 'eq' && c !== 'ne') throw new FilterError(this.t[this.i - 1], `= or != after ${w}`);
        const f: Filter = { op: w, host: this.hostCond(w) };
        return c === 'ne' ? { op: 'not', a: f } : f;
      }
      case 'sport':
      case 'dport': {
        this.next();
        const c = this.cmpWord() ?? 'eq';
        return { op: w, cmp: c, port: this.portOf(w) };
      }
      case 'dev':
        this.next();
        return this.dev();
      case 'fwmark':
        this.next();
        return this.fwmark();
      case 'autobound':
        this.next();
        return { op: 'autobound' };
      default:
        throw new FilterError(this.word(), PRIMARY);
    }
  }
  /** dev [=] NAME|INDEX */
  private dev(): Filter {
    if (this.peek() === '=' || this.peek() === '==') this.next();
    const name = this.next();
    if (name === undefined) throw new FilterError('(end)', 'an interface name after dev');
    const ifindex = /^\d+$/.test(name) ? Number(name) : this.ctx.ifindex(name);
    if (!ifindex) throw new FilterError(name, 'an interface name or index after dev');
    return { op: 'dev', ifindex, name };
  }
  /** fwmark [=] MARK[/MASK] */
  private fwmark(): Filter {
    if (this.peek() === '=' || this.peek() === '==') this.next();
    const v = this.next() ?? '(end)';
    const m = /^(0x[0-9a-f]+|\d+)(?:\/(0x[0-9a-f]+|\d+))?$/i.exec(v);
    if (!m) throw new FilterError(v, 'MARK[/MASK] after fwmark');
    return { op: 'fwmark', mark: Number(m[1]) >>> 0, mask: m[2] === undefined ? 0xffffffff : Number(m[2]) >>> 0 };
  }
  private portOf(what: string): number {
    const v = this.next();
    if (v === undefined) throw new FilterError('(end)', `a port after ${what}`);
    const p = this.port(v.replace(/^\*?:/, ''));
    if (p === null) throw new FilterError(v, `a port number or service name after ${what}`);
    return p;
  }
  private port(s: string): number | null {
    if (/^\d+$/.test(s)) return Number(s) <= 65535 ? Number(s) : null;
    return this.ctx.service(s);
  }
  /** parse_hostcond: the HOST after src or dst, in the form its prefix or ss's preferred family says */
  private hostCond(what: string): HostCond {
    const v = this.next();
    if (v === undefined) throw new FilterError('(end)', `an address after ${what}`);
    if (v.startsWith('netlink:') || (this.ctx.family === 'netlink' && !v.startsWith('link:'))) return this.netlinkCond(v, what);
    if (v.startsWith('link:') || this.ctx.family === 'link') return this.linkCond(v, what);
    if (v.startsWith('/') || v.startsWith('@')) return { path: v };
    return this.inetCond(v, what);
  }
  /** parse_hostcond for AF_INET and AF_INET6: HOST[/PREFIX][:PORT] or [IPV6][:PORT], * for any */
  private inetCond(v: string, what: string): HostCond {
    const bad = () => new FilterError(v, `HOST[/PREFIX][:PORT], [IPV6]:PORT or a unix path after ${what}`);
    const portOrBad = (s: string): number => {
      const n = this.port(s);
      if (n === null) throw bad();
      return n;
    };
    let host = v,
      p: number | undefined;
    const br = /^\[([^\]]+)\](?::(.+))?$/.exec(v);
    if (br) {
      host = br[1];
      if (br[2] !== undefined) p = portOrBad(br[2]);
    } else if (v.split(':').length === 2 || v.startsWith('*:') || v.startsWith(':')) {
      const k = v.lastIndexOf(':');
      host = v.slice(0, k);
      const ps = v.slice(k + 1);
      if (ps !== '*' && ps !== '') p = portOrBad(ps);
    }
    if (host === '' || host === '*') return p === undefined ? {} : { port: p };
    let prefix: number | undefined;
    const slash = host.indexOf('/');
    if (slash >= 0) {
      prefix = Number(host.slice(slash + 1));
      host = host.slice(0, slash);
      if (!Number.isInteger(prefix)) throw bad();
    }
    const addr = parseIPv4(host) ?? parseIPv6(host);
    if (!addr || (prefix !== undefined && (prefix < 0 || prefix > addr.length * 8))) throw bad();
    return { addr, prefix: prefix ?? addr.length * 8, ...(p === undefined ? {} : { port: p }) };
  }
  /** parse_hostcond for AF_NETLINK: [netlink:]PROTOCOL[:PID|:kernel|:*] */
  private netlinkCond(v: string, what: string): HostCond {
    const body = v.startsWith('netlink:') ? v.slice(8) : v;
    const k = body.indexOf(':');
    const name = k < 0 ? body : body.slice(0, k),
      pid = k < 0 ? '' : body.slice(k + 1);
    const h: HostCond = {};
    const bad = () => new FilterError(v, `[netlink:]PROTOCOL[:PID] after ${what}`);
    if (pid !== '' && pid !== '*') {
      if (pid === 'kernel') h.port = 0;
      else if (/^-?\d+$/.test(pid)) h.port = Number(pid) === -1 ? undefined : Number(pid) | 0;
      else throw bad();
    }
    if (name !== '' && name !== '*') {
      const p = this.ctx.nlProto?.(name) ?? null;
      if (p === null) throw bad();
      h.proto = p;
    }
    return h;
  }
  /** parse_hostcond for AF_PACKET: [link:]PROTOCOL[:IFACE|:*] */
  private linkCond(v: string, what: string): HostCond {
    const body = v.startsWith('link:') ? v.slice(5) : v;
    const k = body.indexOf(':');
    const name = k < 0 ? body : body.slice(0, k),
      dev = k < 0 ? '' : body.slice(k + 1);
    const h: HostCond = {};
    const bad = () => new FilterError(v, `[link:]PROTOCOL[:INTERFACE] after ${what}`);
    if (dev !== '' && dev !== '*') {
      // a number as it is (0 too); a name must name an interface
      const index = /^\d+$/.test(dev) ? Number(dev) : this.ctx.ifindex(dev);
      if (!/^\d+$/.test(dev) && !index) throw bad();
      h.port = index;
    }
    if (name !== '' && name !== '*') {
      const p = this.ctx.llProto?.(name) ?? null;
      if (p === null) throw bad();
      h.proto = p;
    }
    return h;
  }
}

/** A socket the filter can see: an inet or unix socket, or a packet or netlink one. */
export type Filterable = SocketEntry | PacketDiagMsg | NetlinkDiagMsg;

/**
 * A packet or netlink socket as ss's sockstat has it for run_ssfilter: the
 * protocol in the local address's first word (host order), the interface
 * (packet) or port id (netlink) as the local port, the remote port 0
 * (packet) or -1 (netlink), no remote address, no mark.
 */
interface LinkView {
  local: Buffer;
  lport: number;
  rport: number;
  iface: number;
  autobound: boolean;
}

function linkView(s: PacketDiagMsg | NetlinkDiagMsg): LinkView {
  const local = Buffer.alloc(16);
  local.writeUInt32LE(s.protocol >>> 0, 0);
  if (s.table === 'packet') {
    const iface = s.info?.index ?? s.proc?.ifindex ?? 0;
    return { local, lport: iface, rport: 0, iface, autobound: iface === 0 && s.protocol === 0 };
  }
  const pid = s.portid | 0;
  return { local, lport: pid, rport: -1, iface: 0, autobound: pid < 0 };
}

const NO_ADDRESS = Buffer.alloc(16);

/** inet_addr_match over raw words: the first `bits` bits of a and p agree */
function bitsMatch(a: Buffer, p: Buffer, bits: number): boolean {
  if (bits > a.length * 8 || bits > p.length * 8) return false;
  return prefixMatch(a.subarray(0, p.length), p, bits);
}

function linkMatches(f: Filter, v: LinkView): boolean {
  switch (f.op) {
    case 'and':
      return linkMatches(f.a, v) && linkMatches(f.b, v);
    case 'or':
      return linkMatches(f.a, v) || linkMatches(f.b, v);
    case 'not':
      return !linkMatches(f.a, v);
    case 'src':
    case 'dst': {
      const h = f.host;
      if (h.path !== undefined) return false;
      if (h.port !== undefined && h.port !== (f.op === 'src' ? v.lport : v.rport)) return false;
      const pattern = h.addr ?? (h.proto !== undefined ? Buffer.from(new Uint32Array([h.proto >>> 0]).buffer) : undefined);
      if (!pattern) return true;
      return bitsMatch(f.op === 'src' ? v.local : NO_ADDRESS, pattern, h.addr ? (h.prefix ?? h.addr.length * 8) : 32);
    }
    case 'sport':
    case 'dport':
      return cmp(f.op === 'sport' ? v.lport : v.rport, f.cmp, f.port);
    case 'dev':
      return v.iface === f.ifindex;
    case 'fwmark':
      return (0 & f.mask) === f.mark;
    case 'autobound':
      return v.autobound;
  }
}

function prefixMatch(a: Buffer, p: Buffer, bits: number): boolean {
  if (a.length !== p.length) return false;
  const full = bits >> 3;
  for (let k = 0; k < full; k++) if (a[k] !== p[k]) return false;
  const rem = bits & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return (a[full] & mask) === (p[full] & mask);
}

const MAPPED = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

function addrMatch(text: string, h: HostCond): boolean {
  if (!h.addr) return true;
  let a = parseIPv4(text) ?? parseIPv6(text);
  if (!a) return false;
  // ss: a v4-mapped socket matches an IPv4 rule (inet2_addr_match)
  if (h.addr.length === 4 && a.length === 16 && a.subarray(0, 12).equals(MAPPED)) a = a.subarray(12);
  return prefixMatch(a, h.addr, h.prefix ?? h.addr.length * 8);
}

function globMatch(name: string, pattern: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(name);
}

function cmp(v: number, c: Cmp, p: number): boolean {
  switch (c) {
    case 'eq':
      return v === p;
    case 'ne':
      return v !== p;
    case 'gt':
      return v > p;
    case 'lt':
      return v < p;
    case 'ge':
      return v >= p;
    case 'le':
      return v <= p;
  }
}

/** Whether a socket passes the filter. */
export function matches(f: Filter, s: Filterable): boolean {
  if (s.table === 'packet' || s.table === 'netlink') return linkMatches(f, linkView(s));
  switch (f.op) {
    case 'and':
      return matches(f.a, s) && matches(f.b, s);
    case 'or':
      return matches(f.a, s) || matches(f.b, s);
    case 'not':
      return !matches(f.a, s);
    case 'src':
    case 'dst': {
      if (s.table === 'unix') {
        if (f.host.path === undefined) return f.host.addr === undefined && f.host.port === undefined;
        return f.op === 'src' ? globMatch(s.name ?? '*', f.host.path) : false;
      }
      if (f.host.path !== undefined) return false;
      const port = f.op === 'src' ? s.sport : s.dport;
      if (f.host.port !== undefined && port !== f.host.port) return false;
      return addrMatch(f.op === 'src' ? s.src : s.dst, f.host);
    }
    case 'sport':
    case 'dport':
      if (s.table === 'unix') return false;
      return cmp(f.op === 'sport' ? s.sport : s.dport, f.cmp, f.port);
    case 'dev':
      return s.table !== 'unix' && s.ifindex === f.ifindex;
    case 'fwmark':
      return s.table !== 'unix' && ((s.mark ?? 0) & f.mask) === f.mark;
    case 'autobound': {
      // ss's run_ssfilter: the local port lies in the ephemeral range
      if (s.table === 'unix') return false;
      const [low, high] = localPortRange();
      return s.sport >= low && s.sport <= high;
    }
  }
}

type Compiled = { p: bc.Program; exact: boolean } | null;

/**
 * The part of a filter the kernel can run on one inet dump (`family`), as
 * INET_DIAG_REQ_BYTECODE: ports and port ranges, addresses and prefixes of
 * that family with their ports, dev. What it cannot say (unix paths,
 * wildcards, fwmark, which needs CAP_NET_ADMIN there, autobound, whose
 * kernel test differs from ss's, an address of the other family) is left
 * out so that the program keeps at least every socket the filter keeps:
 * under `not` only exact parts are compiled. The filter is always run again
 * in the process. null: nothing to send.
 */
export function bytecodeFor(f: Filter, family: 4 | 6): Buffer | null {
  const c = compile(f, family);
  return c ? bc.assemble(c.p) : null;
}

function compile(f: Filter, family: 4 | 6): Compiled {
  switch (f.op) {
    case 'and': {
      const a = compile(f.a, family),
        b = compile(f.b, family);
      if (!a) return b && { p: b.p, exact: false };
      if (!b) return { p: a.p, exact: false };
      return { p: bc.and(a.p, b.p), exact: a.exact && b.exact };
    }
    case 'or': {
      const a = compile(f.a, family),
        b = compile(f.b, family);
      return a && b ? { p: bc.or(a.p, b.p), exact: a.exact && b.exact } : null;
    }
    case 'not': {
      const a = compile(f.a, family);
      return a?.exact ? { p: bc.not(a.p), exact: true } : null;
    }
    case 'src':
    case 'dst': {
      const h = f.host;
      if (h.path !== undefined || h.proto !== undefined) return null;
      if (h.addr && h.addr.length !== (family === 4 ? 4 : 16)) return null;
      if (!h.addr && h.port === undefined) return null;
      return { p: bc.hostCond(f.op === 'src', h.addr, h.prefix, h.port), exact: true };
    }
    case 'sport':
    case 'dport': {
      const src = f.op === 'sport',
        p = f.port;
      const eq = () => bc.and(bc.portGe(src, p), bc.portLe(src, p));
      switch (f.cmp) {
        case 'eq':
          return { p: eq(), exact: true };
        case 'ne':
          return { p: bc.not(eq()), exact: true };
        case 'ge':
          return { p: bc.portGe(src, p), exact: true };
        case 'le':
          return { p: bc.portLe(src, p), exact: true };
        case 'gt':
          return p < 65535 ? { p: bc.portGe(src, p + 1), exact: true } : null;
        case 'lt':
          return p > 0 ? { p: bc.portLe(src, p - 1), exact: true } : null;
      }
      return null;
    }
    case 'dev':
      return { p: bc.devCond(f.ifindex), exact: true };
    default:
      return null;
  }
}
