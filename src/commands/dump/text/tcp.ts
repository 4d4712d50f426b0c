// print-tcp.c (tcpdump 4.99): the flags, the relative sequence numbers of
// tcp_seq_hash, the options and the segment's line. Facts copied, not code.
import type { Layer, TcpLayer } from '../../../stack/dissect/index.js';
import { dnsText } from './domain.js';
import { type TextOptions, endpoint, hex4, tcpPort } from './netdissect.js';

// print-tcp.c tcp_flag_values, in its order
const TCP_FLAGS: [number, string][] = [
  [0x01, 'F'],
  [0x02, 'S'],
  [0x04, 'R'],
  [0x08, 'P'],
  [0x10, '.'],
  [0x20, 'U'],
  [0x40, 'E'],
  [0x80, 'W'],
];

// the text of every flags byte, made once
const FLAG_TEXT = Array.from({ length: 256 }, (_, bits) => TCP_FLAGS.map(([b, c]) => (bits & b ? c : '')).join('') || 'none');

export function tcpFlagText(f: TcpLayer['segment']['flags']): string {
  const bits =
    (f.fin ? 1 : 0) | (f.syn ? 2 : 0) | (f.rst ? 4 : 0) | (f.psh ? 8 : 0) | (f.ack ? 0x10 : 0) | (f.urg ? 0x20 : 0) | (f.ece ? 0x40 : 0) | (f.cwr ? 0x80 : 0);
  return FLAG_TEXT[bits]!;
}

/** The options as print-tcp.c lists them, comma-separated. */
function tcpOptionsText(options: TcpLayer['segment']['options'], sackBase: number): string {
  let s = '';
  for (let i = 0; i < options.length; i++) s += (i ? ',' : '') + tcpOptionText(options[i]!, sackBase);
  return s;
}

/** A conversation's base sequence numbers (print-tcp.c struct tcp_seq_hash: tcp_seq, tcp_ack). */
interface SeqBase {
  seq: number;
  ack: number;
}

/**
 * tcpdump's per-conversation initial sequence numbers (print-tcp.c
 * tcp_seq_hash), keyed as its hash is: the lower endpoint first. Maps by
 * address, then address, then the two ports as one number: the address
 * strings are the formatter's cached ones, so no key is built per packet.
 */
export class TcpState {
  private readonly seqs = new Map<string, Map<string, Map<number, SeqBase>>>();
  private journal: { a: string; b: string; ports: number; was: SeqBase | undefined }[] | null = null;
  /** what relative() found: seq and ack as printed, and the base of SACK block edges */
  seq = 0;
  ack = 0;
  sack = 0;

  /** Note what the next packets change, so that undo() can take it back (a line printed twice). */
  mark(): void {
    this.journal = [];
  }

  /** Take back what changed since mark(). */
  undo(): void {
    for (const { a, b, ports, was } of (this.journal ?? []).reverse()) {
      const m = this.seqs.get(a)!.get(b)!;
      if (was) m.set(ports, was);
      else m.delete(ports);
    }
    this.journal = null;
  }

  /**
   * seq and ack as printed (this.seq, this.ack): relative to the conversation's first ACK-bearing segment unless -S;
   * this.sack is what SACK block edges are taken from (the base of ack, as print-tcp.c's thseq/thack).
   */
  relative(src: string, dst: string, sport: number, dport: number, seq: number, ack: number, syn: boolean): void {
    let rev = sport > dport;
    if (sport === dport) rev = compareAddress(src, dst) > 0;
    const a = rev ? dst : src,
      b = rev ? src : dst,
      ports = rev ? dport * 0x10000 + sport : sport * 0x10000 + dport;
    let byA = this.seqs.get(a);
    if (!byA) this.seqs.set(a, (byA = new Map()));
    let byB = byA.get(b);
    if (!byB) byA.set(b, (byB = new Map()));
    let th = byB.get(ports);
    if (!th || syn) {
      this.journal?.push({ a, b, ports, was: th });
      th = rev ? { ack: seq, seq: (ack - 1) >>> 0 } : { seq, ack: (ack - 1) >>> 0 };
      byB.set(ports, th);
      this.seq = seq;
      this.ack = ack;
      this.sack = rev ? th.seq : th.ack;
      return;
    }
    this.seq = (seq - (rev ? th.ack : th.seq)) >>> 0;
    this.ack = (ack - (rev ? th.seq : th.ack)) >>> 0;
    this.sack = rev ? th.seq : th.ack;
  }
}

/** memcmp of two addresses in network order. */
function compareAddress(a: string, b: string): number {
  const pa = comparable(a),
    pb = comparable(b);
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/** IPv4's octets padded to three digits, so that string order is byte order (an IPv6 address as it is). */
const comparable = (a: string) =>
  a.includes(':')
    ? a
    : a
        .split('.')
        .map((x) => x.padStart(3, '0'))
        .join('.');

export function tcpText(t: TcpLayer, next: Layer | undefined, src: string, dst: string, o: TextOptions, ts: TcpState): string {
  const g = t.segment;
  let s = `${endpoint(o, src, tcpPort(o, g.srcPort))} > ${endpoint(o, dst, tcpPort(o, g.dstPort))}: `;
  if (o.quiet) return s + `tcp ${t.length}`;
  s += `Flags [${tcpFlagText(g.flags)}]`;
  if (o.verbose && t.sum) s += `, cksum 0x${hex4(t.sum.value)} ${t.sum.value === t.sum.good ? '(correct)' : `(incorrect -> 0x${hex4(t.sum.good)})`}`;
  let seq = g.seq,
    ack = g.ack,
    sack = 0;
  if (!o.absolute && g.flags.ack) {
    ts.relative(src, dst, g.srcPort, g.dstPort, g.seq, g.ack, g.flags.syn);
    seq = ts.seq;
    ack = ts.ack;
    sack = ts.sack;
  }
  const length = t.length;
  if (o.verbose > 1 || length > 0 || g.flags.syn || g.flags.fin || g.flags.rst) {
    s += `, seq ${seq}`;
    if (length > 0) s += `:${(seq + length) >>> 0}`;
  }
  if (g.flags.ack) s += `, ack ${ack}`;
  s += `, win ${g.window}`;
  if (g.flags.urg) s += `, urg ${g.urgent}`;
  if (t.optionsCut) {
    // print-tcp.c: the options read so far, the cut one's name, then the mark
    const sep = g.options.length ? ',' : '';
    return `${s}, options [${tcpOptionsText(g.options, sack)}${sep}${t.optionsCut.name} [|tcp]${t.optionsCut.mark ? '>' : ''}`;
  }
  if (g.options.length) s += `, options [${tcpOptionsText(g.options, sack)}]`;
  s += `, length ${length}`;
  if (next?.layer === 'dns') s += dnsText(next, o);
  return s;
}

function tcpOptionText(x: TcpLayer['segment']['options'][number], sackBase: number): string {
  switch (x.kind) {
    case 'eol':
      return 'eol';
    case 'nop':
      return 'nop';
    case 'mss':
      return `mss ${x.value}`;
    case 'windowScale':
      return `wscale ${x.shift}`;
    case 'sackPermitted':
      return 'sackOK';
    case 'sack':
      return `sack ${x.blocks.length} ${x.blocks.map(([a, b]) => `{${(a - sackBase) >>> 0}:${(b - sackBase) >>> 0}}`).join('')}`;
    case 'timestamps':
      return `TS val ${x.value} ecr ${x.echo}`;
    case 'unknown':
      return `unknown-${x.type} 0x${x.data.toString('hex')}`;
  }
}
