// bpf.compile against bpf.run, the reference interpreter: seeded random
// programs that use every instruction the machine has (loads of each size and
// mode, the scratch words, every ALU operation with K and X, division by
// zero, every jump, jumps to the end, each return) give the same result on
// random packets, short ones included (a load past the end ends the run).
import { describe, expect, it } from 'vitest';
import * as bpf from '../../src/stack/bpf.js';
import { mulberry32 as rng } from '../helpers/fuzz.js';

const { LD, LDX, ST, STX, ALU, JMP, RET, MISC, W, H, B, IMM, ABS, IND, MEM, LEN, MSH, K, X, A } = bpf;
const ALU_OPS = [bpf.ADD, bpf.SUB, bpf.MUL, bpf.DIV, bpf.MOD, bpf.OR, bpf.AND, bpf.XOR, bpf.LSH, bpf.RSH, bpf.NEG, 0xb0];
const JUMPS = [bpf.JA, bpf.JEQ, bpf.JGT, bpf.JGE, bpf.JSET, 0x50];

function randomProgram(r: () => number, length: number): bpf.Insn[] {
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  // constants that meet the edge cases: small offsets, 0, shift counts around 32, all ones
  const k = () => pick([0, 1, 2, 3, 4, 12, 14, 23, 31, 32, 33, 40, 60, 0xff, 0xffff, 0xffffffff, int(64), int(2 ** 32)]);
  const prog: bpf.Insn[] = [];
  for (let pc = 0; pc < length; pc++) {
    const left = length - pc - 1;
    const off = () => (r() < 0.1 ? 255 : int(Math.min(left + 2, 256)));
    const kind = r();
    if (kind < 0.3) {
      const cls = pick([LD, LDX]);
      const mode = pick([IMM, ABS, IND, MEM, LEN, MSH]);
      prog.push(bpf.stmt(cls | mode | pick([W, H, B]), mode === MEM ? int(16) : mode === ABS || mode === IND || mode === MSH ? int(70) : k()));
    } else if (kind < 0.38) prog.push(bpf.stmt(pick([ST, STX]), int(16)));
    else if (kind < 0.6) prog.push(bpf.stmt(ALU | pick(ALU_OPS) | pick([K, X]), k()));
    else if (kind < 0.85) {
      const op = pick(JUMPS);
      prog.push(op === bpf.JA ? bpf.stmt(JMP | op, off()) : bpf.jump(JMP | op | pick([K, X]), k(), off(), off()));
    } else if (kind < 0.93) prog.push(bpf.stmt(MISC | pick([bpf.TAX, bpf.TXA]), 0));
    else prog.push(bpf.stmt(RET | pick([K, X, A]), k()));
  }
  if (r() < 0.8) prog.push(bpf.stmt(RET | pick([K, A]), k()));
  return prog;
}

describe('bpf.compile gives what bpf.run gives', () => {
  it('for 3000 seeded random programs over 40 packets each', () => {
    const r = rng(20261202);
    const packets = Array.from({ length: 40 }, () => Uint8Array.from({ length: Math.floor(r() * 80) }, () => Math.floor(r() * 256)));
    const differ: string[] = [];
    const results = new Set<number>();
    for (let i = 0; i < 3000; i++) {
      const prog = randomProgram(r, 1 + Math.floor(r() * 40));
      const f = bpf.compile(prog);
      for (const p of packets) {
        const wire = p.length + (r() < 0.3 ? Math.floor(r() * 1000) : 0);
        const want = bpf.run(prog, p, wire),
          got = f(p, wire);
        results.add(want);
        if (got !== want) differ.push(`program ${i} ${JSON.stringify(prog)} on ${Buffer.from(p).toString('hex')}: ${want} run, ${got} compiled`);
      }
    }
    expect(differ.slice(0, 3)).toEqual([]);
    // the programs end in many ways: rejected, accepted with constants, with A
    expect(results.size).toBeGreaterThan(50);
  });

  it('runs what it cannot compile (no program, constants out of range, too long) with the interpreter, and compiles up to that length', () => {
    expect(bpf.compile([])(new Uint8Array(4), 4)).toBe(0);
    const negative = [bpf.stmt(LDX | B | MSH, -1), bpf.stmt(MISC | bpf.TXA, 0), bpf.stmt(RET | A, 0)];
    const p = Uint8Array.of(0x45, 1, 2, 3);
    expect(bpf.compile(negative)(p, 4)).toBe(bpf.run(negative, p, 4));
    const long = [...Array.from({ length: 600 }, () => bpf.jump(JMP | bpf.JEQ | K, 7, 0, 0)), bpf.stmt(RET | K, 96)];
    expect(bpf.compile(long)(p, 4)).toBe(96);
    // the longest it compiles, a target at every instruction (a block in a block 511 deep)
    const deep = [...Array.from({ length: 511 }, (_, i) => bpf.jump(JMP | bpf.JEQ | K, i, 0, 1)), bpf.stmt(RET | K, 7)];
    const q = new Uint8Array(10);
    expect(bpf.compile(deep)(q, 10)).toBe(bpf.run(deep, q, 10));
    expect(bpf.compile(deep).toString()).toContain('L511:{');
  });
});
