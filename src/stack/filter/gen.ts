// Predicates over packet bytes and their classic BPF code, after libpcap's
// gencode.c: a primitive is an and/or/not tree of atoms (load into A, then
// one conditional jump); code is laid out with short-circuit jumps to the
// accept (`ret #snaplen`) and reject (`ret #0`) returns.
import {
  ABS,
  ADD,
  ALU,
  AND,
  B,
  DIV,
  H,
  IMM,
  IND,
  JEQ,
  JGE,
  JGT,
  JMP,
  JSET,
  K,
  LD,
  LDX,
  LEN,
  LSH,
  MEM,
  MISC,
  MOD,
  MSH,
  MUL,
  NEG,
  OR,
  RET,
  RSH,
  ST,
  SUB,
  TAX,
  W,
  X,
  XOR,
  type Insn,
  jump,
  stmt,
} from '../bpf.js';
import { UsageError } from '../errors.js';
import { parseIPv4, parseIPv6 } from '../packet/addr.js';
import * as lt from '../capture/linktype.js';

export type Pred =
  | { t: 'and' | 'or'; l: Pred; r: Pred }
  | { t: 'not'; e: Pred }
  | { t: 'const'; v: boolean }
  | { t: 'atom'; code: Insn[]; op: number; k: number };

export type Arith =
  | { t: 'num'; v: number }
  | { t: 'len' }
  | { t: 'load'; proto: string; index: Arith; size: number }
  | { t: 'bin'; op: string; l: Arith; r: Arith }
  | { t: 'neg'; e: Arith };

export interface Qualifiers {
  proto: string | undefined;
  dir: string | undefined;
  type: string | undefined;
}

/** Where the link layer puts its type field and the network header (gencode.c off_linktype, off_nl). */
export interface Ctx {
  linktype: number;
  offLinktype: number | null;
  offNl: number;
}

export function contextFor(linktype: number): Ctx {
  switch (linktype) {
    case lt.LINKTYPE_ETHERNET:
      return { linktype, offLinktype: 12, offNl: 14 };
    case lt.LINKTYPE_LINUX_SLL:
      return { linktype, offLinktype: 14, offNl: 16 };
    case lt.LINKTYPE_LINUX_SLL2:
      return { linktype, offLinktype: 0, offNl: 20 };
    case lt.LINKTYPE_NULL:
    case lt.LINKTYPE_LOOP:
      return { linktype, offLinktype: null, offNl: 4 };
    default:
      return { linktype, offLinktype: null, offNl: 0 };
  }
}

export const and = (l: Pred, r: Pred): Pred => ({ t: 'and', l, r });
export const or = (l: Pred, r: Pred): Pred => ({ t: 'or', l, r });
export const not = (e: Pred): Pred => ({ t: 'not', e });
const TRUE: Pred = { t: 'const', v: true };
const FALSE: Pred = { t: 'const', v: false };
const atom = (code: Insn[], op: number, k: number): Pred => ({ t: 'atom', code, op, k: k >>> 0 });
const ld = (size: number, off: number) => stmt(LD | size | ABS, off);
const cmp = (size: number, off: number, v: number, mask?: number): Pred =>
  atom(mask === undefined || mask === 0xffffffff ? [ld(size, off)] : [ld(size, off), stmt(ALU | AND | K, mask >>> 0)], JMP | JEQ | K, v);

const ETHERTYPE_IP = 0x0800,
  ETHERTYPE_IPV6 = 0x86dd,
  ETHERTYPE_ARP = 0x0806,
  ETHERTYPE_REVARP = 0x8035;
const PROTO_NUMBERS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmp6: 58, sctp: 132, igmp: 2 };

export class Gen {
  constructor(private readonly ctx: Ctx) {}

  private get nl(): number {
    return this.ctx.offNl;
  }

  /** The link layer says ethertype `type` (gencode.c gen_linktype). */
  linkType(type: number): Pred {
    const c = this.ctx;
    if (c.offLinktype !== null) return cmp(H, c.offLinktype, type);
    const version = type === ETHERTYPE_IP ? 4 : type === ETHERTYPE_IPV6 ? 6 : 0;
    if (c.linktype === lt.LINKTYPE_IPV4) return version === 4 ? TRUE : FALSE;
    if (c.linktype === lt.LINKTYPE_IPV6) return version === 6 ? TRUE : FALSE;
    if (c.linktype === lt.LINKTYPE_NULL || c.linktype === lt.LINKTYPE_LOOP) {
      // the AF_ value; BSD's AF_INET6 differs per system (gencode.c BSD_AFNUM_INET6_*)
      if (version === 0) return FALSE;
      const swap = c.linktype === lt.LINKTYPE_NULL;
      const w = (v: number) => (swap ? (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0 : v);
      if (version === 4) return or(cmp(W, 0, w(2)), cmp(W, 0, 2));
      return [10, 24, 28, 30].map((v) => or(cmp(W, 0, w(v)), cmp(W, 0, v))).reduce((a, b) => or(a, b));
    }
    // raw IP: the version nibble
    return version ? cmp(B, c.offNl, version << 4, 0xf0) : FALSE;
  }

  protocol(proto: string): Pred {
    switch (proto) {
      case 'ip':
        return this.linkType(ETHERTYPE_IP);
      case 'ip6':
        return this.linkType(ETHERTYPE_IPV6);
      case 'arp':
        return this.linkType(ETHERTYPE_ARP);
      case 'rarp':
        return this.linkType(ETHERTYPE_REVARP);
      case 'ether':
      case 'link':
        return TRUE;
      case 'icmp':
      case 'igmp':
        return this.ipProto(PROTO_NUMBERS[proto]!);
      case 'icmp6':
        return this.ip6Proto(58);
      default:
        return or(this.ipProto(PROTO_NUMBERS[proto]!), this.ip6Proto(PROTO_NUMBERS[proto]!));
    }
  }

  private ipProto(n: number): Pred {
    return and(this.linkType(ETHERTYPE_IP), cmp(B, this.nl + 9, n));
  }

  /** ip6 proto N: the next header, or the one after a fragment header (gencode.c gen_ip6proto). */
  private ip6Proto(n: number): Pred {
    const nh = this.nl + 6;
    return and(this.linkType(ETHERTYPE_IPV6), or(cmp(B, nh, n), and(cmp(B, nh, 44), cmp(B, this.nl + 40, n))));
  }

  protoNumber(proto: string | undefined, n: number): Pred {
    if (proto === 'ip') return this.ipProto(n);
    if (proto === 'ip6') return this.ip6Proto(n);
    if (proto === 'ether' || proto === 'link') return this.linkType(n);
    if (proto === undefined) return or(this.ipProto(n), this.ip6Proto(n));
    throw new UsageError(`'${proto} proto' is not a valid qualifier`);
  }

  length(which: string, n: number): Pred {
    const p = atom([stmt(LD | W | LEN, 0)], JMP | (which === 'less' ? JGT : JGE) | K, n);
    return which === 'less' ? not(p) : p;
  }

  /** `vlan [id]`: a tag, and every later primitive 4 bytes further in (gencode.c gen_vlan). */
  vlan(id?: number): Pred {
    const c = this.ctx;
    if (c.offLinktype === null) throw new UsageError('no VLAN support for this link type');
    const off = c.offLinktype;
    let p = or(cmp(H, off, 0x8100), or(cmp(H, off, 0x88a8), cmp(H, off, 0x9100)));
    if (id !== undefined) p = and(p, cmp(H, off + 2, id, 0x0fff));
    c.offLinktype += 4;
    c.offNl += 4;
    return p;
  }

  cast(proto: string, which: string): Pred {
    if (proto === 'ether' || proto === 'link') {
      if (this.ctx.linktype !== lt.LINKTYPE_ETHERNET) throw new UsageError(`not a broadcast link`);
      return which === 'broadcast' ? and(cmp(W, 2, 0xffffffff), cmp(H, 0, 0xffff)) : atom([ld(B, 0)], JMP | JSET | K, 1);
    }
    if (which === 'broadcast') throw new UsageError(`netmask not known, so '${proto} broadcast' not supported`);
    if (proto === 'ip') return and(this.linkType(ETHERTYPE_IP), atom([ld(B, this.nl + 16)], JMP | JGE | K, 224));
    if (proto === 'ip6') return and(this.linkType(ETHERTYPE_IPV6), cmp(B, this.nl + 24, 255));
    throw new UsageError(`'${proto} ${which}' is not a valid qualifier`);
  }

  private dir(dir: string | undefined, src: () => Pred, dst: () => Pred): Pred {
    if (dir === 'src') return src();
    if (dir === 'dst') return dst();
    if (dir === 'src and dst') return and(src(), dst());
    return or(src(), dst());
  }

  qualified(q: Qualifiers, id: string, mask?: string): Pred {
    switch (q.type) {
      case 'port':
      case 'portrange':
        return this.port(q, id);
      case 'net':
        return this.net(q, id, mask);
      default:
        if (q.proto === 'ether' || q.proto === 'link') return this.etherHost(q.dir, id);
        if (mask !== undefined) throw new UsageError("'mask' goes with 'net'");
        return this.host(q, id);
    }
  }

  private etherHost(dir: string | undefined, id: string): Pred {
    const m = /^([0-9a-fA-F]{1,2})([:.-])([0-9a-fA-F]{1,2})\2([0-9a-fA-F]{1,2})\2([0-9a-fA-F]{1,2})\2([0-9a-fA-F]{1,2})\2([0-9a-fA-F]{1,2})$/.exec(id);
    if (!m) throw new UsageError(`bogus ethernet address ${id}`);
    const b = [m[1], m[3], m[4], m[5], m[6], m[7]].map((x) => parseInt(x!, 16));
    const at = (off: number) => and(cmp(W, off + 2, ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0), cmp(H, off, (b[0]! << 8) | b[1]!));
    return this.dir(
      dir,
      () => at(6),
      () => at(0),
    );
  }

  private host(q: Qualifiers, id: string, prefix?: number, explicitMask?: number): Pred {
    const v4 = parseIPv4(id) ?? partialIPv4(id, q.type === 'net');
    if (v4) {
      const bits = prefix ?? 32;
      const addr = v4.readUInt32BE(0);
      const mask = explicitMask ?? (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);
      if ((addr & ~mask) >>> 0 !== 0) throw new UsageError(`non-network bits set in "${id}"`);
      const ip = () =>
        and(
          this.linkType(ETHERTYPE_IP),
          this.dir(
            q.dir,
            () => cmp(W, this.nl + 12, addr, mask),
            () => cmp(W, this.nl + 16, addr, mask),
          ),
        );
      const arp = (type: number) =>
        and(
          this.linkType(type),
          this.dir(
            q.dir,
            () => cmp(W, this.nl + 14, addr, mask),
            () => cmp(W, this.nl + 24, addr, mask),
          ),
        );
      if (q.proto === 'ip') return ip();
      if (q.proto === 'arp') return arp(ETHERTYPE_ARP);
      if (q.proto === 'rarp') return arp(ETHERTYPE_REVARP);
      if (q.proto === undefined) return or(ip(), or(arp(ETHERTYPE_ARP), arp(ETHERTYPE_REVARP)));
      throw new UsageError(`'${q.proto} host' is not a valid qualifier`);
    }
    const v6 = id.includes(':') ? parseIPv6(id) : null;
    if (v6) {
      const bits = prefix ?? 128;
      if (q.proto !== undefined && q.proto !== 'ip6') throw new UsageError(`'${q.proto} host' is not a valid qualifier for an IPv6 address`);
      const words = (off: number): Pred => {
        let p: Pred | null = null;
        for (let i = 0; i < 4; i++) {
          const m = bits >= 32 * (i + 1) ? 0xffffffff : bits <= 32 * i ? 0 : (0xffffffff << (32 - (bits - 32 * i))) >>> 0;
          if (m === 0) continue;
          const w = v6.readUInt32BE(4 * i);
          if ((w & ~m) >>> 0 !== 0) throw new UsageError(`non-network bits set in "${id}/${bits}"`);
          const c = cmp(W, off + 4 * i, w, m);
          p = p ? and(p, c) : c;
        }
        return p ?? TRUE;
      };
      return and(
        this.linkType(ETHERTYPE_IPV6),
        this.dir(
          q.dir,
          () => words(this.nl + 8),
          () => words(this.nl + 24),
        ),
      );
    }
    throw new UsageError(`unknown host '${id}'`);
  }

  private net(q: Qualifiers, id: string, mask?: string): Pred {
    const slash = id.indexOf('/');
    if (slash >= 0) {
      const bits = Number(id.slice(slash + 1));
      const addr = id.slice(0, slash);
      const max = addr.includes(':') ? 128 : 32;
      if (!/^\d+$/.test(id.slice(slash + 1)) || bits > max) throw new UsageError(`mask length must be <= ${max}`);
      return this.host(q, addr, bits);
    }
    if (mask !== undefined) {
      const m = parseIPv4(mask);
      if (!m) throw new UsageError(`bad mask ${mask}`);
      return this.host(q, id, undefined, m.readUInt32BE(0));
    }
    if (id.includes(':')) return this.host(q, id, 128);
    const parts = id.split('.').length;
    return this.host(q, id, Math.min(32, 8 * parts));
  }

  private port(q: Qualifiers, id: string): Pred {
    const range = q.type === 'portrange' ? /^(\d+)-(\d+)$/.exec(id) : null;
    const one = q.type === 'port' ? portNumber(id) : undefined;
    if (q.type === 'portrange' && !range) throw new UsageError(`illegal port range '${id}'`);
    if (q.type === 'port' && one === undefined) throw new UsageError(`unknown port '${id}'`);
    let lo = range ? Number(range[1]) : one!,
      hi = range ? Number(range[2]) : one!;
    if (lo > hi) [lo, hi] = [hi, lo];
    if (hi > 65535) throw new UsageError(`illegal port number ${hi} > 65535`);
    const test = (code: Insn[]): Pred => (lo === hi ? atom(code, JMP | JEQ | K, lo) : and(atom(code, JMP | JGE | K, lo), not(atom(code, JMP | JGT | K, hi))));
    const protos = q.proto === undefined || q.proto === 'ip' || q.proto === 'ip6' ? [132, 6, 17] : [PROTO_NUMBERS[q.proto]];
    if (protos[0] === undefined || q.proto === 'icmp' || q.proto === 'icmp6') throw new UsageError(`'${q.proto} port' is not a valid qualifier`);
    const anyOf = (off: number) => protos.map((n) => cmp(B, off, n!)).reduce((a, b) => or(a, b));
    const nl = this.nl;
    const v4 = and(
      this.linkType(ETHERTYPE_IP),
      and(
        anyOf(nl + 9),
        and(
          not(atom([ld(H, nl + 6)], JMP | JSET | K, 0x1fff)),
          this.dir(
            q.dir,
            () => test([stmt(LDX | B | MSH, nl), stmt(LD | H | IND, nl)]),
            () => test([stmt(LDX | B | MSH, nl), stmt(LD | H | IND, nl + 2)]),
          ),
        ),
      ),
    );
    const v6 = and(
      this.linkType(ETHERTYPE_IPV6),
      and(
        anyOf(nl + 6),
        this.dir(
          q.dir,
          () => test([ld(H, nl + 40)]),
          () => test([ld(H, nl + 42)]),
        ),
      ),
    );
    if (q.proto === 'ip') return v4;
    if (q.proto === 'ip6') return v6;
    return or(v6, v4);
  }

  // ---------- proto[expr:size] relop expr ----------

  relation(op: string, l: Arith, r: Arith): Pred {
    const guards: Pred[] = [];
    const slots = { next: 0 };
    const lf = fold(l),
      rf = fold(r);
    let p: Pred;
    const jop = op === '>' || op === '<=' ? JGT : op === '>=' || op === '<' ? JGE : JEQ;
    if (rf.t === 'num') {
      p = atom(this.arith(lf, guards, slots), JMP | jop | K, rf.v);
    } else {
      const s = slots.next++;
      const code = [...this.arith(rf, guards, slots), stmt(ST, s), ...this.arith(lf, guards, slots), stmt(LDX | W | MEM, s)];
      p = atom(code, JMP | jop | X, 0);
    }
    if (op === '!=' || op === '<' || op === '<=') p = not(p);
    for (let i = guards.length - 1; i >= 0; i--) p = and(guards[i]!, p);
    return p;
  }

  private arith(e: Arith, guards: Pred[], slots: { next: number }): Insn[] {
    switch (e.t) {
      case 'num':
        return [stmt(LD | IMM, e.v)];
      case 'len':
        return [stmt(LD | W | LEN, 0)];
      case 'neg':
        return [...this.arith(e.e, guards, slots), stmt(ALU | NEG, 0)];
      case 'bin': {
        const code = ALU_OPS[e.op]!;
        if (e.r.t === 'num') return [...this.arith(e.l, guards, slots), stmt(ALU | code | K, e.r.v)];
        const s = slots.next++;
        if (slots.next > 16) throw new UsageError('too many registers needed to evaluate expression');
        return [...this.arith(e.r, guards, slots), stmt(ST, s), ...this.arith(e.l, guards, slots), stmt(LDX | W | MEM, s), stmt(ALU | code | X, 0)];
      }
      case 'load':
        return this.load(e, guards, slots);
    }
  }

  private load(e: Extract<Arith, { t: 'load' }>, guards: Pred[], slots: { next: number }): Insn[] {
    const size = e.size === 4 ? W : e.size === 2 ? H : B;
    const nl = this.nl;
    const idx = fold(e.index);
    const at = (base: number): Insn[] =>
      idx.t === 'num' ? [stmt(LD | size | ABS, base + idx.v)] : [...this.arith(idx, guards, slots), stmt(MISC | TAX, 0), stmt(LD | size | IND, base)];
    switch (e.proto) {
      case 'ether':
      case 'link':
        return at(0);
      case 'ip':
      case 'arp':
      case 'rarp':
      case 'ip6':
        addGuard(guards, this.protocol(e.proto));
        return at(nl);
      case 'icmp6':
        addGuard(guards, this.protocol('icmp6'));
        return at(nl + 40);
      default: {
        // a transport header after IPv4's variable-length header (tcp[], udp[], icmp[] are IPv4 only)
        const n = PROTO_NUMBERS[e.proto];
        if (n === undefined) throw new UsageError(`'${e.proto}[]' is not supported`);
        addGuard(guards, this.ipProto(n));
        addGuard(guards, not(atom([ld(H, nl + 6)], JMP | JSET | K, 0x1fff)));
        if (idx.t === 'num') return [stmt(LDX | B | MSH, nl), stmt(LD | size | IND, nl + idx.v)];
        const s = slots.next++;
        return [
          ...this.arith(idx, guards, slots),
          stmt(ST, s),
          stmt(LDX | B | MSH, nl),
          stmt(LD | MEM, s),
          stmt(ALU | ADD | X, 0),
          stmt(MISC | TAX, 0),
          stmt(LD | size | IND, nl),
        ];
      }
    }
  }
}

const ALU_OPS: Record<string, number> = { '+': ADD, '-': SUB, '*': MUL, '/': DIV, '%': MOD, '&': AND, '|': OR, '^': XOR, '<<': LSH, '>>': RSH };

function addGuard(guards: Pred[], p: Pred): void {
  const key = JSON.stringify(p);
  if (!guards.some((g) => JSON.stringify(g) === key)) guards.push(p);
}

/** Constant folding, as grammar.y's arithmetic on constants does. */
export function fold(e: Arith): Arith {
  if (e.t === 'neg') {
    const x = fold(e.e);
    return x.t === 'num' ? { t: 'num', v: -x.v >>> 0 } : { t: 'neg', e: x };
  }
  if (e.t === 'load') return { ...e, index: fold(e.index) };
  if (e.t !== 'bin') return e;
  const l = fold(e.l),
    r = fold(e.r);
  if (l.t === 'num' && r.t === 'num') {
    const a = l.v,
      b = r.v;
    const v: Record<string, () => number> = {
      '+': () => a + b,
      '-': () => a - b,
      '*': () => Math.imul(a, b),
      '/': () => (b ? Math.floor(a / b) : NaN),
      '%': () => (b ? a % b : NaN),
      '&': () => a & b,
      '|': () => a | b,
      '^': () => a ^ b,
      '<<': () => (b >= 32 ? 0 : a << b),
      '>>': () => (b >= 32 ? 0 : a >>> b),
    };
    const x = v[e.op]!();
    if (Number.isNaN(x)) throw new UsageError('division by zero');
    return { t: 'num', v: x >>> 0 };
  }
  return { t: 'bin', op: e.op, l, r };
}

/** "192.0.2" as a network: the given bytes, zero filled (gencode.c __pcap_atoin). */
function partialIPv4(id: string, asNet: boolean): Buffer | null {
  if (!asNet || !/^\d{1,3}(\.\d{1,3}){0,2}$/.test(id)) return null;
  const parts = id.split('.').map(Number);
  if (parts.some((n) => n > 255)) return null;
  return Buffer.from([...parts, 0, 0, 0].slice(0, 4));
}

const PORT_NAMES: Record<string, number> = {
  domain: 53,
  http: 80,
  https: 443,
  ssh: 22,
  ntp: 123,
  ftp: 21,
  telnet: 23,
  smtp: 25,
  echo: 7,
  daytime: 13,
  bootps: 67,
  bootpc: 68,
  tftp: 69,
};

function portNumber(id: string): number | undefined {
  if (/^\d+$/.test(id)) return Number(id) > 65535 ? undefined : Number(id);
  return PORT_NAMES[id];
}

// ---------- layout ----------

interface Pending {
  ins: Insn;
  t?: number;
  f?: number;
  ja?: number;
}

/** The program for a predicate: accept with `ret #snaplen`, reject with `ret #0`. */
export function emit(p: Pred, snaplen: number): Insn[] {
  const code: Pending[] = [];
  const labels: number[] = [];
  const label = () => labels.push(-1) - 1;
  const place = (l: number) => {
    labels[l] = code.length;
  };
  const ACCEPT = label(),
    REJECT = label();
  const walk = (p: Pred, t: number, f: number): void => {
    switch (p.t) {
      case 'const':
        code.push({ ins: stmt(JMP | 0, 0), ja: p.v ? t : f });
        return;
      case 'not':
        return walk(p.e, f, t);
      case 'and': {
        const m = label();
        walk(p.l, m, f);
        place(m);
        return walk(p.r, t, f);
      }
      case 'or': {
        const m = label();
        walk(p.l, t, m);
        place(m);
        return walk(p.r, t, f);
      }
      case 'atom':
        for (const ins of p.code) code.push({ ins });
        code.push({ ins: jump(p.op, p.k, 0, 0), t, f });
    }
  };
  walk(p, ACCEPT, REJECT);
  place(ACCEPT);
  code.push({ ins: stmt(RET | K, snaplen) });
  place(REJECT);
  code.push({ ins: stmt(RET | K, 0) });
  return resolve(code, labels);
}

/**
 * Drop a load whose value A already holds on every path to it (the part of
 * libpcap's optimizer that matters most for -d): jumps only go forward, so
 * one pass in order sees every predecessor first.
 */
function dropKnownLoads(code: Pending[], labels: number[]): Pending[] {
  const incoming = new Map<number, (string | null)[]>();
  const at = (pos: number, state: string | null) => {
    const l = incoming.get(pos) ?? [];
    l.push(state);
    incoming.set(pos, l);
  };
  const keep: Pending[] = [];
  let state: string | null = null,
    reachable = true;
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    const from: (string | null)[] = [...(reachable ? [state] : []), ...(incoming.get(i) ?? [])];
    state = from.length > 0 && from.every((s) => s === from[0]) ? from[0]! : null;
    reachable = true;
    const cls = c.ins.code & 0x07;
    if (cls === LD && c.t === undefined && c.ja === undefined) {
      const key = `${c.ins.code}/${c.ins.k}`;
      if (state === key) continue;
      state = (c.ins.code & 0xe0) === MEM ? null : key;
    } else if (cls === LDX || (cls === MISC && (c.ins.code & 0xf8) !== 0x80)) {
      if (state?.startsWith(`${LD | IND}`) || (state !== null && (Number(state.split('/')[0]) & 0xe0) === IND)) state = null;
    } else if (cls === ALU || cls === MISC) {
      state = null;
    } else if (c.ja !== undefined) {
      at(labels[c.ja]!, state);
      reachable = false;
    } else if (c.t !== undefined) {
      at(labels[c.t]!, state);
      at(labels[c.f!]!, state);
      reachable = false;
    } else if (cls === RET) {
      reachable = false;
    }
    keep.push(c);
  }
  return keep;
}

const isAbsLoad = (i: Insn) => (i.code & 0x07) === LD && (i.code & 0xe0) === ABS;
const keyOf = (i: Insn) => `${i.code}/${i.k}`;

/**
 * Jump threading on what an edge already knows: past `ldh [12]; jeq #0x800`
 * the false edge knows [12] != 0x800 and the true edge [12] = 0x800, so a
 * later test of the same bytes is decided there and the edge goes straight
 * to its outcome (what libpcap's optimizer does for `tcp`, `port` ...).
 */
type Facts = Map<string, { eq?: number; ne: Set<number> }>;

function meet(list: { facts: Facts; a: string | null }[]): { facts: Facts; a: string | null } {
  if (list.length === 0) return { facts: new Map(), a: null };
  const [first, ...rest] = list;
  const facts: Facts = new Map();
  for (const [key, f] of first!.facts) {
    let eq = f.eq;
    let ne = new Set(f.ne);
    let everywhere = true;
    for (const o of rest) {
      const g = o.facts.get(key);
      if (!g) {
        everywhere = false;
        break;
      }
      if (g.eq !== eq) eq = undefined;
      ne = new Set([...ne].filter((v) => g.ne.has(v) || (g.eq !== undefined && g.eq !== v)));
    }
    if (everywhere && (eq !== undefined || ne.size)) facts.set(key, { eq, ne });
  }
  return { facts, a: list.every((x) => x.a === first!.a) ? first!.a : null };
}

function withFact(facts: Facts, key: string, eq: boolean, v: number): Facts {
  const out: Facts = new Map([...facts].map(([k, f]) => [k, { eq: f.eq, ne: new Set(f.ne) }]));
  const f = out.get(key) ?? { ne: new Set<number>() };
  if (eq) f.eq = v;
  else f.ne.add(v);
  out.set(key, f);
  return out;
}

/**
 * Jump threading on what a path already knows about the packet's bytes:
 * past `ldh [12]; jeq #0x800` the false edge knows [12] != 0x800, the true
 * edge [12] = 0x800, and what a path knows stays true further on (packet
 * bytes do not change), so a later test of the same bytes is decided and the
 * edge goes straight to its outcome, as libpcap's optimizer does.
 */
function threadJumps(code: Pending[], labels: number[]): void {
  const incoming = new Map<number, { facts: Facts; a: string | null }[]>();
  const add = (pos: number, st: { facts: Facts; a: string | null }) => {
    const l = incoming.get(pos) ?? [];
    l.push(st);
    incoming.set(pos, l);
  };
  let st: { facts: Facts; a: string | null } | null = { facts: new Map(), a: null };
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    st = meet([...(st ? [st] : []), ...(incoming.get(i) ?? [])]);
    if (c.ja !== undefined) {
      add(labels[c.ja]!, st);
      st = null;
      continue;
    }
    if (c.t === undefined) {
      const cls = c.ins.code & 0x07;
      if (cls === RET) {
        st = null;
        continue;
      }
      st = { facts: st.facts, a: isAbsLoad(c.ins) ? keyOf(c.ins) : cls === ST || cls === JMP ? st.a : null };
      continue;
    }
    const a = st.a;
    const isEq = c.ins.code === (JMP | JEQ | K) && a !== null;
    for (const edge of ['t', 'f'] as const) {
      let facts = isEq ? withFact(st.facts, a!, edge === 't', c.ins.k >>> 0) : st.facts;
      let ea = a;
      for (let hops = 0; hops < 64; hops++) {
        let pos = labels[c[edge]!]!;
        const head = code[pos];
        let key = ea;
        if (head && head.t === undefined && head.ja === undefined && isAbsLoad(head.ins)) {
          key = keyOf(head.ins);
          pos++;
        }
        const j = code[pos];
        if (!j || j.t === undefined || j.ins.code !== (JMP | JEQ | K) || key === null) break;
        const f = facts.get(key);
        const k2 = j.ins.k >>> 0;
        const outcome = f?.eq !== undefined ? f.eq === k2 : f?.ne.has(k2) ? false : undefined;
        if (outcome === undefined) break;
        c[edge] = outcome ? j.t : j.f!;
        facts = withFact(facts, key, outcome, k2);
        ea = key;
      }
      add(labels[c[edge]!]!, { facts, a: ea === a ? a : ea });
    }
    st = null;
  }
}

function resolve(all: Pending[], labels: number[]): Insn[] {
  threadJumps(all, labels);
  const code = dropKnownLoads(all, labels);
  if (code.length !== all.length) {
    // renumber the labels onto the kept instructions (a label on a dropped load moves to the next kept one)
    const kept = new Set(code);
    const map: number[] = [];
    let j = 0;
    for (let i = 0; i <= all.length; i++) {
      map[i] = j;
      if (i < all.length && kept.has(all[i]!)) j++;
    }
    for (let l = 0; l < labels.length; l++) labels[l] = map[labels[l]!]!;
  }
  // a jump to the very next instruction is dropped; then offsets are filled in
  const keep = code.filter((c, i) => !(c.ja !== undefined && labels[c.ja] === i + 1));
  if (keep.length !== code.length) {
    const map: number[] = [];
    let j = 0;
    for (let i = 0; i <= code.length; i++) {
      map[i] = j;
      if (i < code.length && keep.includes(code[i]!)) j++;
    }
    for (let l = 0; l < labels.length; l++) labels[l] = map[labels[l]!]!;
  }
  return keep.map((c, i) => {
    if (c.ja !== undefined) return stmt(JMP | 0, labels[c.ja]! - i - 1);
    if (c.t === undefined) return c.ins;
    const jt = labels[c.t]! - i - 1,
      jf = labels[c.f!]! - i - 1;
    if (jt > 255 || jf > 255) throw new UsageError('expression too complex: a jump beyond 255 instructions');
    return { ...c.ins, jt, jf };
  });
}

export { IMM, MEM };
