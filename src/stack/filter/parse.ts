// The pcap-filter(7) language, read into predicates: a tokenizer that
// remembers each word's place (an error points at it), and a recursive
// descent parser with tcpdump's precedence (`not` binds tightest; `and` and
// `or` are equal and associate left) and its reuse of the last qualifiers
// (`host a or b`). Each primitive is turned into a predicate over packet
// bytes as it is read (gen.ts), so `vlan` moves the offsets of what follows,
// as libpcap's gencode.c does.
import { UsageError } from '../errors.js';
import { type Arith, type Ctx, type Pred, type Qualifiers, Gen, not, and, or } from './gen.js';

export interface Token {
  kind: 'word' | 'op' | 'num';
  text: string;
  word: number;
}

const OPS = ['&&', '||', '<<', '>>', '>=', '<=', '==', '!=', '(', ')', '[', ']', ':', '+', '-', '*', '/', '%', '&', '|', '^', '=', '>', '<', '!'];

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0,
    depth = 0,
    word = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    word++;
    // addresses and names; inside [] a ':' is the size separator
    const wordRe = depth > 0 ? /^[A-Za-z0-9_.\\]+(-[A-Za-z][A-Za-z0-9_]*)*/ : /^[A-Za-z0-9_.:\\]+(-[A-Za-z0-9][A-Za-z0-9_.:]*)*(\/\d+)?/;
    const m = wordRe.exec(text.slice(i));
    if (m && !(m[0].startsWith(':') && m[0].length === 1)) {
      const w = m[0];
      out.push({ kind: /^(0x[0-9a-fA-F]+|\d+)$/.test(w) ? 'num' : 'word', text: w, word });
      i += w.length;
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (!op) throw new UsageError(`expression: syntax error at '${c}' (word ${word})`);
    if (op === '[') depth++;
    if (op === ']') depth--;
    out.push({ kind: 'op', text: op, word });
    i += op.length;
  }
  return out;
}

const PROTOS = new Set(['ether', 'link', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'igmp']);
const DIRS = new Set(['src', 'dst']);
const TYPES = new Set(['host', 'net', 'port', 'portrange', 'proto', 'gateway']);
const KEYWORDS = new Set([...PROTOS, ...DIRS, ...TYPES, 'and', 'or', 'not', 'less', 'greater', 'len', 'vlan', 'broadcast', 'multicast', 'mask']);

// named constants and offsets (pcap-filter(7) "expr relop expr")
export const CONSTANTS: Record<string, number> = {
  icmptype: 0,
  icmpcode: 1,
  icmp6type: 0,
  icmp6code: 1,
  tcpflags: 13,
  'icmp-echoreply': 0,
  'icmp-unreach': 3,
  'icmp-sourcequench': 4,
  'icmp-redirect': 5,
  'icmp-echo': 8,
  'icmp-routeradvert': 9,
  'icmp-routersolicit': 10,
  'icmp-timxceed': 11,
  'icmp-paramprob': 12,
  'icmp-tstamp': 13,
  'icmp-tstampreply': 14,
  'icmp-ireq': 15,
  'icmp-ireqreply': 16,
  'icmp-maskreq': 17,
  'icmp-maskreply': 18,
  'tcp-fin': 0x01,
  'tcp-syn': 0x02,
  'tcp-rst': 0x04,
  'tcp-push': 0x08,
  'tcp-ack': 0x10,
  'tcp-urg': 0x20,
  'tcp-ece': 0x40,
  'tcp-cwr': 0x80,
  'icmp6-destinationunreach': 1,
  'icmp6-packettoobig': 2,
  'icmp6-timeexceeded': 3,
  'icmp6-parameterproblem': 4,
  'icmp6-echo': 128,
  'icmp6-echoreply': 129,
  'icmp6-multicastlistenerquery': 130,
  'icmp6-multicastlistenerreportv1': 131,
  'icmp6-multicastlistenerdone': 132,
  'icmp6-routersolicit': 133,
  'icmp6-routeradvert': 134,
  'icmp6-neighborsolicit': 135,
  'icmp6-neighboradvert': 136,
  'icmp6-redirect': 137,
  'icmp6-multicastlistenerreportv2': 143,
};

export class Parser {
  private i = 0;
  private last: Qualifiers = { proto: undefined, dir: undefined, type: 'host' };
  private readonly gen: Gen;

  constructor(
    private readonly toks: Token[],
    ctx: Ctx,
  ) {
    this.gen = new Gen(ctx);
  }

  private peek(k = 0): Token | undefined {
    return this.toks[this.i + k];
  }
  private is(text: string, k = 0): boolean {
    return this.peek(k)?.text === text;
  }

  private error(what = 'syntax error'): never {
    const t = this.peek();
    throw new UsageError(t ? `expression: ${what} at '${t.text}' (word ${t.word})` : `expression: ${what} at the end`);
  }

  private next(): Token {
    const t = this.toks[this.i++];
    if (!t) {
      this.i--;
      this.error();
    }
    return t;
  }

  parse(): Pred {
    const p = this.expr();
    if (this.i < this.toks.length) this.error();
    return p;
  }

  private expr(): Pred {
    let p = this.term();
    for (;;) {
      if (this.is('and') || this.is('&&')) {
        this.i++;
        p = and(p, this.term());
      } else if (this.is('or') || this.is('||')) {
        this.i++;
        p = or(p, this.term());
      } else return p;
    }
  }

  private term(): Pred {
    if (this.is('not') || this.is('!')) {
      this.i++;
      return not(this.term());
    }
    const save = this.i;
    if (this.startsArith()) {
      try {
        return this.relation();
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        // `(` may open a group, a number may be an id reusing qualifiers (`port 53 or 80`)
        const first = this.toks[save]!;
        if (first.text !== '(' && first.kind !== 'num') throw e;
        this.i = save;
        if (first.kind === 'num') {
          try {
            return this.primitive();
          } catch {
            this.i = save;
            throw e;
          }
        }
      }
    }
    if (this.is('(')) {
      this.i++;
      const p = this.expr();
      if (!this.is(')')) this.error();
      this.i++;
      return p;
    }
    return this.primitive();
  }

  private startsArith(): boolean {
    const t = this.peek();
    if (!t) return false;
    if (t.kind === 'num' || t.text === '(' || t.text === '-' || t.text === 'len' || CONSTANTS[t.text] !== undefined) return true;
    return PROTOS.has(t.text) && this.is('[', 1);
  }

  private relation(): Pred {
    const l = this.arith();
    const op = this.peek();
    if (!op || !['=', '==', '!=', '>', '>=', '<', '<='].includes(op.text)) this.error();
    this.i++;
    const r = this.arith();
    return this.gen.relation(op.text, l, r);
  }

  // arithmetic: | ^ & below << >> below + - below * / % (C's precedence, as grammar.y's %left lists)
  private arith(level = 0): Arith {
    const LEVELS = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];
    if (level === LEVELS.length) return this.unary();
    let l = this.arith(level + 1);
    while (this.peek()?.kind === 'op' && LEVELS[level]!.includes(this.peek()!.text)) {
      const op = this.next().text;
      l = { t: 'bin', op, l, r: this.arith(level + 1) };
    }
    return l;
  }

  private unary(): Arith {
    const t = this.next();
    if (t.text === '-') return { t: 'neg', e: this.unary() };
    if (t.text === '(') {
      const e = this.arith();
      if (!this.is(')')) this.error();
      this.i++;
      return e;
    }
    if (t.kind === 'num') return { t: 'num', v: number(t.text) };
    if (t.text === 'len') return { t: 'len' };
    if (CONSTANTS[t.text] !== undefined) return { t: 'num', v: CONSTANTS[t.text]! };
    if (PROTOS.has(t.text) && this.is('[')) {
      this.i++;
      const index = this.arith();
      let size = 1;
      if (this.is(':')) {
        this.i++;
        const s = this.next();
        if (s.text !== '1' && s.text !== '2' && s.text !== '4') {
          this.i--;
          this.error('data size must be 1, 2, or 4');
        }
        size = Number(s.text);
      }
      if (!this.is(']')) this.error();
      this.i++;
      return { t: 'load', proto: t.text, index, size };
    }
    this.i--;
    this.error();
  }

  private primitive(): Pred {
    const t = this.peek();
    if (!t) this.error();
    switch (t.text) {
      case 'less':
      case 'greater': {
        this.i++;
        const n = this.next();
        if (n.kind !== 'num') {
          this.i--;
          this.error();
        }
        return this.gen.length(t.text, number(n.text));
      }
      case 'vlan': {
        this.i++;
        const id = this.peek()?.kind === 'num' ? number(this.next().text) : undefined;
        return this.gen.vlan(id);
      }
      case 'broadcast':
      case 'multicast':
        this.i++;
        return this.gen.cast('ether', t.text);
    }
    // [proto] [dir] [type] id, or a protocol on its own
    const q: Qualifiers = { proto: undefined, dir: undefined, type: undefined };
    let qualified = false;
    if (PROTOS.has(t.text)) {
      q.proto = t.text;
      this.i++;
      qualified = true;
    }
    if (q.proto && (this.is('broadcast') || this.is('multicast'))) return this.gen.cast(q.proto, this.next().text);
    if (q.proto && this.is('proto')) {
      this.i++;
      return this.gen.protoNumber(q.proto, this.protocolNumber(q.proto));
    }
    if (this.peek() && DIRS.has(this.peek()!.text)) {
      q.dir = this.next().text;
      if ((this.is('or') || this.is('and')) && this.peek(1) && DIRS.has(this.peek(1)!.text) && this.peek(1)!.text !== q.dir) {
        q.dir = `src ${this.next().text} dst`;
        this.i++;
      }
      qualified = true;
    }
    if (this.peek() && TYPES.has(this.peek()!.text)) {
      q.type = this.next().text;
      qualified = true;
      if (q.type === 'proto') return this.gen.protoNumber(q.proto, this.protocolNumber(q.proto));
      if (q.type === 'gateway') this.error("'gateway' is not supported");
    }
    if (q.proto && !q.dir && !q.type) {
      // `tcp` alone, unless an id follows (`ip 192.0.2.1` is `ip host 192.0.2.1`)
      const n = this.peek();
      if (!n || n.kind === 'op' || KEYWORDS.has(n.text)) return this.gen.protocol(q.proto);
    }
    if (!qualified) Object.assign(q, this.last); // `host a or b`: b is `host b`
    const id = this.peek();
    if (!id || id.kind === 'op' || (KEYWORDS.has(id.text) && id.text !== 'len')) this.error();
    this.i++;
    q.type ??= q.proto === 'ether' || q.proto === 'link' ? 'host' : 'host';
    this.last = { ...q };
    let mask: string | undefined;
    if (this.is('mask')) {
      this.i++;
      mask = this.next().text;
    }
    try {
      return this.gen.qualified(q, id.text, mask);
    } catch (e) {
      if (e instanceof UsageError) {
        this.i--;
        this.error(e.message);
      }
      throw e;
    }
  }

  /** A protocol number or name: an ethertype after ether/link (pcap_nametoeproto), else an IP protocol. */
  private protocolNumber(proto?: string): number {
    const t = this.next();
    if (t.kind === 'num') return number(t.text);
    const names: Record<string, number> =
      proto === 'ether' || proto === 'link'
        ? {
            ip: 0x0800,
            ip6: 0x86dd,
            arp: 0x0806,
            rarp: 0x8035,
            atalk: 0x809b,
            aarp: 0x80f3,
            decnet: 0x6003,
            lat: 0x6004,
            sca: 0x6007,
            moprc: 0x6002,
            mopdl: 0x6001,
            loopback: 0x9000,
          }
        : { ip: 0, icmp: 1, igmp: 2, tcp: 6, udp: 17, icmp6: 58, sctp: 132, esp: 50, ah: 51, gre: 47, pim: 103, vrrp: 112 };
    const v = names[t.text.replace(/^\\/, '')];
    if (v === undefined) {
      this.i--;
      this.error('unknown protocol');
    }
    return v;
  }
}

export function number(text: string): number {
  const v = text.startsWith('0x') || text.startsWith('0X') ? parseInt(text, 16) : text.length > 1 && text.startsWith('0') ? parseInt(text, 8) : Number(text);
  return v >>> 0;
}
