// Predicates over packet bytes and their classic BPF code, after libpcap's
// gencode.c: a primitive is an and/or/not tree of atoms (statements, then one
// conditional jump) in the very shape gencode builds it (host tests the link
// type once per direction, port puts IPv6 before IPv4, arithmetic goes
// through scratch registers allocated as gencode allocates them), because
// that shape decides what libpcap's optimiser makes of it and so what
// `tcpdump -d` prints. emit() turns the tree into gencode's blocks, runs the
// optimiser (optimize.ts) and lays the program out.
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
  RSH,
  ST,
  SUB,
  TAX,
  W,
  X,
  XOR,
  type Insn,
  stmt,
} from '../bpf.js';
import { UsageError } from '../errors.js';
import { parseIPv4, parseIPv6 } from '../packet/addr.js';
import * as lt from '../capture/linktype.js';
import { servicesFile } from '../services.js';
import { Block, finish, genAnd, genNot, genOr, linearize, optimize } from './optimize.js';

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
const ETHERMTU = 1500;
const MEMWORDS = 16;
const PROTO_NUMBERS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmp6: 58, sctp: 132, igmp: 2 };

export class Gen {
  // gencode.c's scratch registers: allocated round-robin, freed as arithmetic is consumed
  private readonly regUsed: boolean[] = new Array<boolean>(MEMWORDS).fill(false);
  private curReg = 0;

  constructor(private readonly ctx: Ctx) {}

  private get nl(): number {
    return this.ctx.offNl;
  }

  /** The link layer says ethertype (or, up to 1500, LLC SAP) `type` (gencode.c gen_linktype). */
  linkType(type: number): Pred {
    const c = this.ctx;
    if (c.offLinktype !== null) {
      if (c.linktype === lt.LINKTYPE_ETHERNET && type <= ETHERMTU)
        return and(not(atom([ld(H, c.offLinktype)], JMP | JGT | K, ETHERMTU)), cmp(B, c.offLinktype + 2, type));
      return cmp(H, c.offLinktype, type);
    }
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

  /** A protocol named alone (gencode.c gen_proto_abbrev). */
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
        throw new UsageError('link layer applied in wrong context');
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

  /** ip6 proto N: the next header, or the one after a fragment header (gencode.c gen_proto Q_IPV6). */
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

  /** `vlan [id]`: a tag, and every later primitive 4 bytes further in (gencode.c gen_vlan_no_bpf_extensions). */
  vlan(id?: number): Pred {
    const c = this.ctx;
    if (c.offLinktype === null) throw new UsageError('no VLAN support for this link type');
    const off = c.offLinktype;
    let p = or(or(cmp(H, off, 0x8100), cmp(H, off, 0x88a8)), cmp(H, off, 0x9100));
    if (id !== undefined) {
      if (id > 0x0fff) throw new UsageError(`VLAN tag ${id} greater than maximum 4095`);
      p = and(p, cmp(H, c.offNl, id, 0x0fff));
    }
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

  /** src, dst, `src and dst`, or either (gencode.c's Q_SRC, Q_DST, Q_AND, Q_OR/Q_DEFAULT): each side is built on its own. */
  private dir(dir: string | undefined, side: (src: boolean) => Pred): Pred {
    if (dir === 'src') return side(true);
    if (dir === 'dst') return side(false);
    if (dir === 'src and dst') return and(side(true), side(false));
    return or(side(true), side(false));
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

  /** gencode.c gen_ehostop: the six bytes as a word and a halfword (gen_bcmp). */
  private etherHost(dir: string | undefined, id: string): Pred {
    const m = /^([0-9a-fA-F]{1,2})([:.-])([0-9a-fA-F]{1,2})\2([0-9a-fA-F]{1,2})\2([0-9a-fA-F]{1,2})\2([0-9a-fA-F]{1,2})\2([0-9a-fA-F]{1,2})$/.exec(id);
    if (!m) throw new UsageError(`bogus ethernet address ${id}`);
    const b = [m[1], m[3], m[4], m[5], m[6], m[7]].map((x) => parseInt(x!, 16));
    const at = (off: number) => and(cmp(W, off + 2, ((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0), cmp(H, off, (b[0]! << 8) | b[1]!));
    return this.dir(dir, (src) => at(src ? 6 : 0));
  }

  private host(q: Qualifiers, id: string, prefix?: number, explicitMask?: number): Pred {
    const v4 = parseIPv4(id) ?? partialIPv4(id, q.type === 'net' || id.includes('.'));
    if (v4) {
      // a host of fewer than four parts is a network of them, as gen_ncode makes it (host 192.0.2)
      const bits = prefix ?? (parseIPv4(id) ? 32 : 8 * id.split('.').length);
      const addr = v4.readUInt32BE(0);
      const mask = explicitMask ?? (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);
      if ((addr & ~mask) >>> 0 !== 0) throw new UsageError(`non-network bits set in "${id}"`);
      // gencode.c gen_hostop: each direction tests the link type again
      const hostop = (type: number, srcOff: number, dstOff: number) =>
        this.dir(q.dir, (src) => and(this.linkType(type), cmp(W, this.nl + (src ? srcOff : dstOff), addr, mask)));
      const ip = () => hostop(ETHERTYPE_IP, 12, 16);
      const arp = () => hostop(ETHERTYPE_ARP, 14, 24);
      const rarp = () => hostop(ETHERTYPE_REVARP, 14, 24);
      if (q.proto === 'ip') return ip();
      if (q.proto === 'arp') return arp();
      if (q.proto === 'rarp') return rarp();
      if (q.proto === undefined) return or(or(ip(), arp()), rarp());
      throw new UsageError(`'${q.proto} host' is not a valid qualifier`);
    }
    const v6 = id.includes(':') ? parseIPv6(id) : null;
    if (v6) {
      const bits = prefix ?? 128;
      if (q.proto !== undefined && q.proto !== 'ip6') throw new UsageError(`'${q.proto} host' is not a valid qualifier for an IPv6 address`);
      const masks = [0, 1, 2, 3].map((i) => (bits >= 32 * (i + 1) ? 0xffffffff : bits <= 32 * i ? 0 : (0xffffffff << (32 - (bits - 32 * i))) >>> 0));
      for (let i = 0; i < 4; i++) if ((v6.readUInt32BE(4 * i) & ~masks[i]!) >>> 0 !== 0) throw new UsageError(`non-network bits set in "${id}/${bits}"`);
      // gencode.c gen_hostop6: all four words (a zero mask too), last word innermost, the link type first
      const words = (off: number): Pred => {
        let p = cmp(W, off + 12, v6.readUInt32BE(12), masks[3]);
        for (let i = 2; i >= 0; i--) p = and(cmp(W, off + 4 * i, v6.readUInt32BE(4 * i), masks[i]), p);
        return and(this.linkType(ETHERTYPE_IPV6), p);
      };
      return this.dir(q.dir, (src) => words(this.nl + (src ? 8 : 24)));
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

  /** gencode.c gen_port/gen_port6 (and the portrange pair): IPv6 first, then IPv4 with its fragment check. */
  private port(q: Qualifiers, id: string): Pred {
    const range = q.type === 'portrange' ? (/^(\d+)-(\d+)$/.exec(id) ?? (/^\d+$/.test(id) ? [id, id, id] : null)) : null;
    const named = q.type === 'port' ? portNumber(id) : undefined;
    const one = named?.port;
    if (q.type === 'portrange' && !range) throw new UsageError(`illegal port range '${id}'`);
    if (q.type === 'port' && one === undefined) throw new UsageError(`unknown port '${id}'`);
    let lo = range ? Number(range[1]) : one!,
      hi = range ? Number(range[2]) : one!;
    if (lo > hi) [lo, hi] = [hi, lo];
    if (hi > 65535) throw new UsageError(`illegal port number ${hi} > 65535`);
    if (q.proto === 'icmp' || q.proto === 'icmp6' || (q.proto !== undefined && !['ip', 'ip6', 'tcp', 'udp', 'sctp'].includes(q.proto)))
      throw new UsageError(`'${q.proto} port' is not a valid qualifier`);
    const test = (code: () => Insn[]): Pred =>
      range ? and(atom(code(), JMP | JGE | K, lo), not(atom(code(), JMP | JGT | K, hi))) : atom(code(), JMP | JEQ | K, lo);
    const nl = this.nl;
    let given = q.proto === 'tcp' ? 6 : q.proto === 'udp' ? 17 : q.proto === 'sctp' ? 132 : 0;
    if (named?.proto !== undefined) {
      // a service name is a tcp or a udp port (gen_scode Q_PORT)
      if (given && given !== named.proto) throw new UsageError(`port '${id}' is ${named.proto === 6 ? 'tcp' : 'udp'}`);
      given = named.proto;
    }
    const protos = (one: (n: number) => Pred): Pred => {
      const n = given;
      return n ? one(n) : or(one(132), or(one(6), one(17)));
    };
    const v4 = () =>
      and(
        this.linkType(ETHERTYPE_IP),
        protos((n) =>
          and(
            and(cmp(B, nl + 9, n), not(atom([ld(H, nl + 6)], JMP | JSET | K, 0x1fff))),
            this.dir(q.dir, (src) => test(() => [stmt(LDX | B | MSH, nl), stmt(LD | H | IND, nl + (src ? 0 : 2))])),
          ),
        ),
      );
    const v6 = () =>
      and(
        this.linkType(ETHERTYPE_IPV6),
        protos((n) =>
          and(
            cmp(B, nl + 6, n),
            this.dir(q.dir, (src) => test(() => [ld(H, nl + 40 + (src ? 0 : 2))])),
          ),
        ),
      );
    if (q.proto === 'ip') return v4();
    if (q.proto === 'ip6') return v6();
    return or(v6(), v4());
  }

  // ---------- proto[expr:size] relop expr, as gencode.c's struct arth ----------

  private allocReg(): number {
    for (let n = MEMWORDS; --n >= 0; ) {
      if (this.regUsed[this.curReg]) this.curReg = (this.curReg + 1) % MEMWORDS;
      else {
        this.regUsed[this.curReg] = true;
        return this.curReg;
      }
    }
    throw new UsageError('too many registers needed to evaluate expression');
  }

  private freeReg(n: number): void {
    this.regUsed[n] = false;
  }

  /** gencode.c gen_relation: a1 into X, a0 into A, then the jump (`=` subtracts and tests for 0). */
  relation(op: string, l: Arith, r: Arith): Pred {
    const a0 = this.arth(l);
    const a1 = this.arth(r);
    const jop = op === '>' || op === '<=' ? JGT : op === '>=' || op === '<' ? JGE : JEQ;
    const code = [...a0.s, ...a1.s, stmt(LDX | MEM, a1.reg), stmt(LD | MEM, a0.reg)];
    let p: Pred;
    if (jop === JEQ) {
      code.push(stmt(ALU | SUB | X, 0));
      p = atom(code, JMP | JEQ | K, 0);
    } else p = atom(code, JMP | jop | X, 0);
    if (op === '!=' || op === '<' || op === '<=') p = not(p);
    this.freeReg(a0.reg);
    this.freeReg(a1.reg);
    const guard = a0.b && a1.b ? and(a0.b, a1.b) : (a0.b ?? a1.b);
    return guard ? and(guard, p) : p;
  }

  private arth(e: Arith): Arth {
    switch (e.t) {
      case 'num':
      case 'len': {
        const reg = this.allocReg();
        return { s: [e.t === 'num' ? stmt(LD | IMM, e.v >>> 0) : stmt(LD | W | LEN, 0), stmt(ST, reg)], reg, b: null };
      }
      case 'neg': {
        const a = this.arth(e.e);
        a.s.push(stmt(LD | MEM, a.reg), stmt(ALU | NEG, 0), stmt(ST, a.reg));
        return a;
      }
      case 'bin': {
        const a0 = this.arth(e.l);
        const a1 = this.arth(e.r);
        const code = ALU_OPS[e.op]!;
        const first = a1.s[0]!;
        const k0 = first.code === (LD | IMM) ? first.k : undefined;
        if (code === DIV && k0 === 0) throw new UsageError('division by zero');
        if (code === MOD && k0 === 0) throw new UsageError('modulus by zero');
        if ((code === LSH || code === RSH) && k0 !== undefined && k0 > 31) throw new UsageError('shift by more than 31 bits');
        const s = [...a0.s, ...a1.s, stmt(LDX | MEM, a1.reg), stmt(LD | MEM, a0.reg), stmt(ALU | X | code, 0)];
        this.freeReg(a0.reg);
        this.freeReg(a1.reg);
        const reg = this.allocReg();
        s.push(stmt(ST, reg));
        return { s, reg, b: a0.b };
      }
      case 'load':
        return this.load(e.proto, this.arth(e.index), e.size);
    }
  }

  /** gencode.c gen_load: the byte(s) at the index's value in a header, and the test that the header is there. */
  private load(proto: string, inst: Arth, sizeBytes: number): Arth {
    const size = sizeBytes === 4 ? W : sizeBytes === 2 ? H : B;
    const reg = this.allocReg();
    this.freeReg(inst.reg);
    const nl = this.nl;
    switch (proto) {
      case 'ether':
      case 'link':
        inst.s.push(stmt(LDX | MEM, inst.reg), stmt(LD | size | IND, 0));
        break;
      case 'ip':
      case 'arp':
      case 'rarp':
      case 'ip6': {
        inst.s.push(stmt(LDX | MEM, inst.reg), stmt(LD | size | IND, nl));
        const b = this.protocol(proto);
        inst.b = inst.b ? and(inst.b, b) : b;
        break;
      }
      case 'icmp6': {
        const ip6 = this.protocol('ip6');
        inst.b = and(inst.b ? and(inst.b, ip6) : ip6, cmp(B, nl + 6, 58));
        inst.s.push(stmt(LDX | MEM, inst.reg), stmt(LD | size | IND, nl + 40));
        break;
      }
      default: {
        // a transport header after IPv4's variable-length header (tcp[], udp[], icmp[] are IPv4 only)
        if (PROTO_NUMBERS[proto] === undefined) throw new UsageError(`'${proto}[]' is not supported`);
        inst.s.push(stmt(LDX | B | MSH, nl), stmt(LD | MEM, inst.reg), stmt(ALU | ADD | X, 0), stmt(MISC | TAX, 0), stmt(LD | size | IND, nl));
        let b = and(this.protocol(proto), not(atom([ld(H, nl + 6)], JMP | JSET | K, 0x1fff)));
        if (inst.b) b = and(inst.b, b);
        inst.b = and(this.protocol('ip'), b);
      }
    }
    inst.reg = reg;
    inst.s.push(stmt(ST, reg));
    return inst;
  }
}

interface Arth {
  s: Insn[];
  reg: number;
  b: Pred | null;
}

const ALU_OPS: Record<string, number> = { '+': ADD, '-': SUB, '*': MUL, '/': DIV, '%': MOD, '&': AND, '|': OR, '^': XOR, '<<': LSH, '>>': RSH };

/** "192.0.2" as a network: the given bytes, zero filled (gencode.c __pcap_atoin). */
function partialIPv4(id: string, asNet: boolean): Buffer | null {
  if (!asNet || !/^\d{1,3}(\.\d{1,3}){0,2}$/.test(id)) return null;
  const parts = id.split('.').map(Number);
  if (parts.some((n) => n > 255)) return null;
  return Buffer.from([...parts, 0, 0, 0].slice(0, 4));
}

/** A few services for systems without /etc/services: name, port, protocols. */
const FALLBACK_SERVICES =
  'echo 7 tu,daytime 13 tu,ftp 21 t,ssh 22 t,telnet 23 t,smtp 25 t,domain 53 tu,bootps 67 u,bootpc 68 u,tftp 69 u,http 80 t,ntp 123 u,https 443 tu';

let services: Map<string, { tcp?: number; udp?: number }> | undefined;

/** /etc/services (services.ts) by name and alias, tcp and udp, as getaddrinfo(3) reads it for pcap_nametoport(). */
function serviceTable(): Map<string, { tcp?: number; udp?: number }> {
  if (services) return services;
  services = new Map();
  const add = (name: string, port: number, proto: string) => {
    const e = services!.get(name) ?? {};
    if (proto === 'tcp' && e.tcp === undefined) e.tcp = port;
    if (proto === 'udp' && e.udp === undefined) e.udp = port;
    services!.set(name, e);
  };
  const file = servicesFile();
  if (file === null) {
    for (const entry of FALLBACK_SERVICES.split(',')) {
      const [name, port, protos] = entry.split(' ') as [string, string, string];
      if (protos.includes('t')) add(name, Number(port), 'tcp');
      if (protos.includes('u')) add(name, Number(port), 'udp');
    }
    return services;
  }
  for (const s of file) if (s.proto === 'tcp' || s.proto === 'udp') for (const name of [s.name, ...s.aliases]) add(name, s.port, s.proto);
  return services;
}

/** A port by number or name, and the protocol a name is limited to (pcap_nametoport: tcp, udp, or either when both agree). */
function portNumber(id: string): { port: number; proto?: number } | undefined {
  if (/^\d+$/.test(id)) return Number(id) > 65535 ? undefined : { port: Number(id) };
  const e = serviceTable().get(id.replace(/^\\/, ''));
  if (!e) return undefined;
  if (e.tcp !== undefined) return { port: e.tcp, proto: e.udp === e.tcp ? undefined : 6 };
  if (e.udp !== undefined) return { port: e.udp, proto: 17 };
  return undefined;
}

// ---------- to blocks and to BPF ----------

/** The predicate as gencode.c's blocks: atoms in order, joined with gen_and, gen_or, gen_not. */
function toBlock(p: Pred): Block {
  switch (p.t) {
    case 'const': {
      // gencode.c gen_uncond: ld #0 (true) or #1 (false); jeq #0
      const b = new Block(JMP | JEQ | K, 0);
      b.stmts = [{ code: LD | IMM, k: p.v ? 0 : 1 }];
      return b;
    }
    case 'atom': {
      const b = new Block(p.op, p.k);
      b.stmts = p.code.map((i) => ({ code: i.code, k: i.k >>> 0 }));
      return b;
    }
    case 'not': {
      const b = toBlock(p.e);
      genNot(b);
      return b;
    }
    default: {
      const b0 = toBlock(p.l);
      const b1 = toBlock(p.r);
      if (p.t === 'and') genAnd(b0, b1);
      else genOr(b0, b1);
      return b1;
    }
  }
}

/** The program for a predicate: accept with `ret #snaplen`, reject with `ret #0`; optimised as libpcap does unless told not to. */
export function emit(p: Pred, snaplen: number, optimized = true): Insn[] {
  let root = finish(toBlock(p), snaplen);
  if (optimized) root = optimize(root);
  return linearize(root);
}
