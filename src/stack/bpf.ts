// Classic BPF (the SO_ATTACH_FILTER machine): enough of an assembler to
// write small socket filters, encoded as the kernel's struct sock_filter
// array { __u16 code; __u8 jt; __u8 jf; __u32 k; } in host byte order.
import { endianness } from 'node:os';

// instruction classes and modes (linux/bpf_common.h)
export const LD = 0x00, LDX = 0x01, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
export const W = 0x00, H = 0x08, B = 0x10;
export const IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80, MSH = 0xa0;
export const JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
export const K = 0x00, X = 0x08, A = 0x10;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const stmt = (code: number, k: number): Insn => ({ code, jt: 0, jf: 0, k });
export const jump = (code: number, k: number, jt: number, jf: number): Insn => ({ code, jt, jf, k });

export function encode(prog: Insn[]): Buffer {
  const le = endianness() === 'LE';
  const out = Buffer.alloc(prog.length * 8);
  prog.forEach((ins, i) => {
    const o = i * 8;
    if (le) { out.writeUInt16LE(ins.code, o); out.writeUInt32LE(ins.k >>> 0, o + 4); }
    else { out.writeUInt16BE(ins.code, o); out.writeUInt32BE(ins.k >>> 0, o + 4); }
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
    prog.push(stmt(LDX | B | MSH, 0));          // x = 4 * (ip[0] & 0xf)
    prog.push(stmt(LD | H | IND, 4));           // a = icmp id
  } else {
    prog.push(stmt(LD | H | ABS, 4));
  }
  prog.push(jump(JMP | JEQ | K, ident & 0xffff, 3, 0)); // ours -> accept
  prog.push(ipHeader ? stmt(LD | B | IND, 0) : stmt(LD | B | ABS, 0)); // a = icmp type
  prog.push(jump(JMP | JEQ | K, echoReplyType, 0, 1));  // foreign echo reply -> drop
  prog.push(stmt(RET | K, 0));
  prog.push(stmt(RET | K, 0xffffffff));
  return prog;
}
