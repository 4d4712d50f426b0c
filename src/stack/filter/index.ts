// pcap-filter(7) expressions compiled to classic BPF (src/stack/bpf.ts runs
// and prints them) as libpcap 1.10 compiles them: gencode's code (gen.ts),
// libpcap's optimiser (optimize.ts), so `sockit dump -d` prints what
// `tcpdump -d` prints. The same program can filter a file in the process or
// be attached to a socket (SO_ATTACH_FILTER).
import { compile, image, K, RET, run, stmt, type Insn } from '../bpf.js';
import { UsageError } from '../errors.js';
import { contextFor, emit } from './gen.js';
import { Parser, tokenize } from './parse.js';

export type { Insn } from '../bpf.js';

/** The program for an expression on a link type ('' accepts everything), optimised unless told not to (tcpdump -O). Throws UsageError for a bad expression and, optimised, for one that rejects every packet. */
export function compileFilter(expression: string, linktype: number, snaplen: number, optimized = true): Insn[] {
  const toks = tokenize(expression);
  if (toks.length === 0) return [stmt(RET | K, snaplen)];
  const prog = emit(new Parser(toks, contextFor(linktype)).parse(), snaplen, optimized);
  // pcap_compile() refuses what its optimiser reduces to `ret #0`
  if (optimized && prog.length === 1 && prog[0]!.code === (RET | K) && prog[0]!.k === 0) throw new UsageError('expression rejects all packets');
  return prog;
}

/** Run a program over a packet: the bytes to keep, 0 when it is rejected. */
export function runFilter(prog: readonly Insn[], data: Uint8Array, wirelen: number): number {
  return run(prog, data, wirelen);
}

/** The program as `tcpdump -d` prints it. */
export function filterImage(prog: readonly Insn[]): string {
  return prog.map((ins, i) => image(ins, i) + '\n').join('');
}

/** The program compiled to a function (bpf.compile) for many packets: the same verdicts as runFilter. */
export function filterFunction(prog: readonly Insn[]): (data: Uint8Array, wirelen: number) => number {
  return compile(prog);
}
