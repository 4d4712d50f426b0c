// Classic BPF (the SO_ATTACH_FILTER machine): enough of an assembler to
// write small socket filters, encoded as the kernel's struct sock_filter
// array { __u16 code; __u8 jt; __u8 jf; __u32 k; } in host byte order.

// instruction classes and modes (linux/bpf_common.h)
export const LD = 0x00,
  LDX = 0x01,
  ALU = 0x04,
  JMP = 0x05,
  RET = 0x06,
  MISC = 0x07;
export const W = 0x00,
  H = 0x08,
  B = 0x10;
export const IMM = 0x00,
  ABS = 0x20,
  IND = 0x40,
  MEM = 0x60,
  LEN = 0x80,
  MSH = 0xa0;
export const JA = 0x00,
  JEQ = 0x10,
  JGT = 0x20,
  JGE = 0x30,
  JSET = 0x40;
export const K = 0x00,
  X = 0x08,
  A = 0x10;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const stmt = (code: number, k: number): Insn => ({ code, jt: 0, jf: 0, k });
export const jump = (code: number, k: number, jt: number, jf: number): Insn => ({ code, jt, jf, k });

export function encode(prog: Insn[]): Buffer {
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1; // host byte order
  const out = Buffer.alloc(prog.length * 8);
  prog.forEach((ins, i) => {
    const o = i * 8;
    if (le) {
      out.writeUInt16LE(ins.code, o);
      out.writeUInt32LE(ins.k >>> 0, o + 4);
    } else {
      out.writeUInt16BE(ins.code, o);
      out.writeUInt32BE(ins.k >>> 0, o + 4);
    }
    out[o + 2] = ins.jt;
    out[o + 3] = ins.jf;
  });
  return out;
}

/**
 * Accept our echo replies and every non-echo-reply ICMP message; drop
 * echo replies that carry another identifier (another ping's). `ipHeader`
 * is true for IPv4 raw sockets, whose filter sees the IP header first.
 */
export function echoReplyFilter(ident: number, echoReplyType: number, ipHeader: boolean): Insn[] {
  const prog: Insn[] = [];
  if (ipHeader) {
    prog.push(stmt(LDX | B | MSH, 0)); // x = 4 * (ip[0] & 0xf)
    prog.push(stmt(LD | H | IND, 4)); // a = icmp id
  } else {
    prog.push(stmt(LD | H | ABS, 4));
  }
  prog.push(jump(JMP | JEQ | K, ident & 0xffff, 3, 0)); // ours -> accept
  prog.push(ipHeader ? stmt(LD | B | IND, 0) : stmt(LD | B | ABS, 0)); // a = icmp type
  prog.push(jump(JMP | JEQ | K, echoReplyType, 0, 1)); // foreign echo reply -> drop
  prog.push(stmt(RET | K, 0));
  prog.push(stmt(RET | K, 0xffffffff));
  return prog;
}

// ---------- the rest of the machine (pcap-filter programs, src/stack/filter) ----------

export const ST = 0x02,
  STX = 0x03;
export const ADD = 0x00,
  SUB = 0x10,
  MUL = 0x20,
  DIV = 0x30,
  OR = 0x40,
  AND = 0x50,
  LSH = 0x60,
  RSH = 0x70,
  NEG = 0x80,
  MOD = 0x90,
  XOR = 0xa0;
export const TAX = 0x00,
  TXA = 0x80;
/** scratch memory words (BPF_MEMWORDS) */
export const MEMWORDS = 16;

/**
 * Run a program over a packet as the kernel's sk_run_filter does
 * (net/core/filter.c, classic semantics): a load outside the captured bytes
 * or a division by zero ends the run with 0 (drop). Returns the snap length
 * the program accepts (0: rejected). `wirelen` is BPF_LEN.
 */
export function run(prog: readonly Insn[], pkt: Uint8Array, wirelen = pkt.length): number {
  let a = 0,
    x = 0;
  const mem = new Uint32Array(MEMWORDS);
  const n = pkt.length;
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, k } = prog[pc]!;
    const cls = code & 0x07;
    switch (cls) {
      case LD:
      case LDX: {
        const mode = code & 0xe0,
          size = code & 0x18;
        let v: number;
        if (mode === IMM) v = k >>> 0;
        else if (mode === LEN) v = wirelen >>> 0;
        else if (mode === MEM) v = mem[k & 15]!;
        else if (mode === MSH) {
          if (k >= n) return 0;
          v = (pkt[k]! & 0xf) * 4;
        } else {
          const off = mode === IND ? (x + k) >>> 0 : k >>> 0;
          const len = size === W ? 4 : size === H ? 2 : 1;
          if (off + len > n) return 0;
          v =
            len === 4
              ? ((pkt[off]! << 24) | (pkt[off + 1]! << 16) | (pkt[off + 2]! << 8) | pkt[off + 3]!) >>> 0
              : len === 2
                ? (pkt[off]! << 8) | pkt[off + 1]!
                : pkt[off]!;
        }
        if (cls === LD) a = v;
        else x = v;
        break;
      }
      case ST:
        mem[k & 15] = a;
        break;
      case STX:
        mem[k & 15] = x;
        break;
      case ALU: {
        const src = code & X ? x : k >>> 0;
        switch (code & 0xf0) {
          case ADD:
            a = (a + src) >>> 0;
            break;
          case SUB:
            a = (a - src) >>> 0;
            break;
          case MUL:
            a = Math.imul(a, src) >>> 0;
            break;
          case DIV:
            if (src === 0) return 0;
            a = Math.floor(a / src) >>> 0;
            break;
          case MOD:
            if (src === 0) return 0;
            a = (a % src) >>> 0;
            break;
          case OR:
            a = (a | src) >>> 0;
            break;
          case AND:
            a = (a & src) >>> 0;
            break;
          case XOR:
            a = (a ^ src) >>> 0;
            break;
          case LSH:
            a = src >= 32 ? 0 : (a << src) >>> 0;
            break;
          case RSH:
            a = src >= 32 ? 0 : a >>> src;
            break;
          case NEG:
            a = -a >>> 0;
            break;
          default:
            return 0;
        }
        break;
      }
      case JMP: {
        const { jt, jf } = prog[pc]!;
        const src = code & X ? x : k >>> 0;
        switch (code & 0xf0) {
          case JA:
            pc += k;
            break;
          case JEQ:
            pc += a === src ? jt : jf;
            break;
          case JGT:
            pc += a > src ? jt : jf;
            break;
          case JGE:
            pc += a >= src ? jt : jf;
            break;
          case JSET:
            pc += (a & src) !== 0 ? jt : jf;
            break;
          default:
            return 0;
        }
        break;
      }
      case RET:
        return (code & 0x18) === A ? a : k >>> 0;
      case MISC:
        if ((code & 0xf8) === TXA) a = x;
        else x = a;
        break;
    }
  }
  return 0;
}

/** A program compiled by compile(): the packet and BPF_LEN in, what run() returns out. */
export type CompiledProgram = (pkt: Uint8Array, wirelen: number) => number;

/** Programs longer than this are run by run(): one nested block per jump target is as deep as V8's parser goes comfortably. */
const COMPILE_MAX = 512;

/**
 * The program as one JavaScript function with run()'s semantics, for a
 * program run over many packets (a file's filter): straight-line code, the
 * registers and scratch words as locals, a load's bounds check against a
 * constant, and the jumps (forward only in classic BPF) as `break` out of
 * labelled blocks that close where their target begins. run() stays the
 * reference: the tests hold the two to the same verdicts.
 */
export function compile(prog: readonly Insn[]): CompiledProgram {
  const n = prog.length;
  // what the generated code takes as given: constants that are 32-bit words, jumps that are byte counts
  const plain = prog.every((i) => i.k === i.k >>> 0 && i.jt === (i.jt & 0xff) && i.jf === (i.jf & 0xff));
  if (n === 0 || n > COMPILE_MAX || !plain) return (pkt, wirelen) => run(prog, pkt, wirelen);
  // every pc a jump lands on (n: past the last instruction, where run() returns 0)
  const targets = new Set<number>();
  const to = (pc: number, off: number) => Math.min(pc + 1 + off, n);
  for (let pc = 0; pc < n; pc++) {
    const { code, jt, jf, k } = prog[pc]!;
    if ((code & 0x07) !== JMP) continue;
    if ((code & 0xf0) === JA) targets.add(to(pc, k >>> 0));
    else targets.add(to(pc, jt)).add(to(pc, jf));
  }
  targets.delete(0);
  const sorted = [...targets].sort((a, b) => a - b);
  let src = '';
  // the blocks open innermost last: the nearest target's block closes first
  for (let i = sorted.length - 1; i >= 0; i--) src += `L${sorted[i]}:{`;
  const goto = (pc: number, t: number) => (t === pc + 1 ? '' : `break L${t};`);
  for (let pc = 0; pc < n; pc++) {
    if (targets.has(pc)) src += '}';
    src += insnSource(prog[pc]!, pc, (off) => goto(pc, to(pc, off)));
  }
  if (targets.has(n)) src += '}';
  src += 'return 0;';
  const body = `"use strict";let a=0,x=0,${Array.from({ length: MEMWORDS }, (_, i) => `m${i}=0`).join(',')};const n=p.length;${src}`;
  return new Function('p', 'l', body) as CompiledProgram;
}

/** One instruction as JavaScript (a, x, m0..m15, p the packet, n its length, l BPF_LEN), as run() executes it. */
function insnSource(ins: Insn, pc: number, jumpTo: (offset: number) => string): string {
  const { code, jt, jf } = ins;
  const k = ins.k >>> 0;
  const cls = code & 0x07;
  switch (cls) {
    case LD:
    case LDX: {
      const dst = cls === LD ? 'a' : 'x';
      const mode = code & 0xe0,
        size = code & 0x18;
      if (mode === IMM) return `${dst}=${k};`;
      if (mode === LEN) return `${dst}=l>>>0;`;
      if (mode === MEM) return `${dst}=m${k & 15};`;
      if (mode === MSH) return `if(${k}>=n)return 0;${dst}=(p[${k}]&15)*4;`;
      const len = size === W ? 4 : size === H ? 2 : 1;
      // IND: the offset in a constant of its own (o<pc>); anything else loads as ABS does in run()
      const off = `o${pc}`;
      const check = mode === IND ? `const ${off}=(x+${k})>>>0;if(${off}+${len}>n)return 0;` : `if(${k + len}>n)return 0;`;
      const at = (i: number) => (mode === IND ? `p[${off}+${i}]` : `p[${k + i}]`);
      const v = len === 4 ? `((${at(0)}<<24)|(${at(1)}<<16)|(${at(2)}<<8)|${at(3)})>>>0` : len === 2 ? `(${at(0)}<<8)|${at(1)}` : at(0);
      return `${check}${dst}=${v};`;
    }
    case ST:
      return `m${k & 15}=a;`;
    case STX:
      return `m${k & 15}=x;`;
    case ALU: {
      const byX = (code & X) !== 0;
      const s = byX ? 'x' : String(k);
      switch (code & 0xf0) {
        case ADD:
          return `a=(a+${s})>>>0;`;
        case SUB:
          return `a=(a-${s})>>>0;`;
        case MUL:
          return `a=Math.imul(a,${s})>>>0;`;
        case DIV:
          if (!byX) return k === 0 ? 'return 0;' : `a=Math.floor(a/${k})>>>0;`;
          return 'if(x===0)return 0;a=Math.floor(a/x)>>>0;';
        case MOD:
          if (!byX) return k === 0 ? 'return 0;' : `a=(a%${k})>>>0;`;
          return 'if(x===0)return 0;a=(a%x)>>>0;';
        case OR:
          return `a=(a|${s})>>>0;`;
        case AND:
          return `a=(a&${s})>>>0;`;
        case XOR:
          return `a=(a^${s})>>>0;`;
        case LSH:
          if (!byX) return k >= 32 ? 'a=0;' : `a=(a<<${k})>>>0;`;
          return 'a=x>=32?0:(a<<x)>>>0;';
        case RSH:
          if (!byX) return k >= 32 ? 'a=0;' : `a=a>>>${k};`;
          return 'a=x>=32?0:a>>>x;';
        case NEG:
          return 'a=-a>>>0;';
        default:
          return 'return 0;';
      }
    }
    case JMP: {
      const s = code & X ? 'x' : String(k);
      let test: string;
      switch (code & 0xf0) {
        case JA:
          return jumpTo(k);
        case JEQ:
          test = `a===${s}`;
          break;
        case JGT:
          test = `a>${s}`;
          break;
        case JGE:
          test = `a>=${s}`;
          break;
        case JSET:
          test = `(a&${s})!==0`;
          break;
        default:
          return 'return 0;';
      }
      const yes = jumpTo(jt),
        no = jumpTo(jf);
      if (yes === no) return yes;
      if (yes === '') return `if(!(${test}))${no}`;
      return `if(${test})${yes}${no === '' ? '' : `else ${no}`}`;
    }
    case RET:
      return (code & 0x18) === A ? 'return a;' : `return ${k};`;
    default:
      return (code & 0xf8) === TXA ? 'a=x;' : 'x=a;';
  }
}

const ALU_NAMES: Record<number, string> = {
  [ADD]: 'add',
  [SUB]: 'sub',
  [MUL]: 'mul',
  [DIV]: 'div',
  [MOD]: 'mod',
  [AND]: 'and',
  [OR]: 'or',
  [XOR]: 'xor',
  [LSH]: 'lsh',
  [RSH]: 'rsh',
};
const JMP_NAMES: Record<number, string> = { [JEQ]: 'jeq', [JGT]: 'jgt', [JGE]: 'jge', [JSET]: 'jset' };

/** One instruction as libpcap's bpf_image() prints it (bpf_image.c), for `tcpdump -d`. */
export function image(ins: Insn, n: number): string {
  const { code, k, jt, jf } = ins;
  const hex = `#0x${(k >>> 0).toString(16)}`;
  const size = (code & 0x18) === W ? '' : (code & 0x18) === H ? 'h' : 'b';
  let op: string,
    operand = '';
  switch (code & 0x07) {
    case RET:
      op = 'ret';
      operand = (code & 0x18) === A ? '' : (code & 0x18) === X ? 'x' : `#${k | 0}`;
      break;
    case LD:
    case LDX: {
      const x = (code & 0x07) === LDX;
      const mode = code & 0xe0;
      op = (x ? 'ldx' : 'ld') + (mode === MSH ? 'b' : mode === IMM || mode === LEN || mode === MEM ? '' : size);
      if (mode === IMM) operand = `#0x${(k >>> 0).toString(16)}`;
      else if (mode === LEN) operand = '#pktlen';
      else if (mode === MEM) operand = `M[${k}]`;
      else if (mode === ABS) operand = `[${k}]`;
      else if (mode === IND) operand = `[x + ${k}]`;
      else operand = `4*([${k}]&0xf)`;
      break;
    }
    case ST:
      op = 'st';
      operand = `M[${k}]`;
      break;
    case STX:
      op = 'stx';
      operand = `M[${k}]`;
      break;
    case ALU:
      if ((code & 0xf0) === NEG) {
        op = 'neg';
        break;
      }
      op = ALU_NAMES[code & 0xf0] ?? 'unimp';
      // bpf_image.c: and, or, xor in hex; the others as a signed decimal
      operand = code & X ? 'x' : [AND, OR, XOR].includes(code & 0xf0) ? hex : `#${k | 0}`;
      break;
    case JMP:
      if ((code & 0xf0) === JA) return `(${String(n).padStart(3, '0')}) ${'ja'.padEnd(8)} ${n + 1 + k}`;
      op = JMP_NAMES[code & 0xf0] ?? 'unimp';
      operand = code & X ? 'x' : hex;
      return `(${String(n).padStart(3, '0')}) ${op.padEnd(8)} ${operand.padEnd(16)} jt ${n + 1 + jt}\tjf ${n + 1 + jf}`;
    default:
      op = (code & 0xf8) === TXA ? 'txa' : 'tax';
  }
  return `(${String(n).padStart(3, '0')}) ${op.padEnd(8)} ${operand}`;
}
