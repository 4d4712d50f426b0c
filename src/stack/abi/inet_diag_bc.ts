// INET_DIAG_REQ_BYTECODE (<linux/inet_diag.h>): the little program the
// kernel runs on each socket of an inet_diag dump (inet_diag_bc_run) to
// skip the ones a filter cannot match. A program is a list of
// struct inet_diag_bc_op { u8 code; u8 yes; u16 no; } with their operands;
// yes and no are forward jumps in bytes: landing exactly at the end keeps
// the socket, 4 bytes past it drops it. Pure: the program is data.

export const INET_DIAG_REQ_BYTECODE = 1;
export const INET_DIAG_BC_NOP = 0;
export const INET_DIAG_BC_JMP = 1;
export const INET_DIAG_BC_S_GE = 2;
export const INET_DIAG_BC_S_LE = 3;
export const INET_DIAG_BC_D_GE = 4;
export const INET_DIAG_BC_D_LE = 5;
export const INET_DIAG_BC_AUTO = 6;
export const INET_DIAG_BC_S_COND = 7;
export const INET_DIAG_BC_D_COND = 8;
export const INET_DIAG_BC_DEV_COND = 9;

/** where a jump goes: the program's true or false exit, or an op of the program */
type Target = 'T' | 'F' | number;

interface Op {
  code: number;
  yes: Target;
  no: Target;
  /** the operands after the op */
  operand: Buffer;
}

/** A program whose exits are still symbolic, so programs combine. */
export type Program = Op[];

const shift = (p: Program, by: number, t: Target, f: Target): Program =>
  p.map((op) => {
    const move = (x: Target): Target => (x === 'T' ? t : x === 'F' ? f : x + by);
    return { ...op, yes: move(op.yes), no: move(op.no) };
  });

/** both: a's true exit goes on to b */
export function and(a: Program, b: Program): Program {
  return [...shift(a, 0, a.length, 'F'), ...shift(b, a.length, 'T', 'F')];
}

/** either: a's false exit tries b */
export function or(a: Program, b: Program): Program {
  return [...shift(a, 0, 'T', a.length), ...shift(b, a.length, 'T', 'F')];
}

/** the exits swapped */
export function not(a: Program): Program {
  return shift(a, 0, 'F', 'T');
}

/** one condition: true goes to the next op (or the end), false to the false exit */
function cond(code: number, operand: Buffer): Program {
  return [{ code, yes: 'T', no: 'F', operand }];
}

/** a port comparison: the port rides in the `no` of a second op */
function portOperand(port: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(port, 2);
  return b;
}

export const portGe = (src: boolean, port: number): Program => cond(src ? INET_DIAG_BC_S_GE : INET_DIAG_BC_D_GE, portOperand(port));
export const portLe = (src: boolean, port: number): Program => cond(src ? INET_DIAG_BC_S_LE : INET_DIAG_BC_D_LE, portOperand(port));

/**
 * struct inet_diag_hostcond { u8 family; u8 prefix_len; int port; __be32 addr[]; }:
 * family 0 (AF_UNSPEC) for any address, port -1 for any port
 */
export function hostCond(src: boolean, addr: Buffer | undefined, prefix: number | undefined, port: number | undefined): Program {
  const b = Buffer.alloc(8 + (addr?.length ?? 0));
  b[0] = addr ? (addr.length === 4 ? 2 : 10) : 0;
  b[1] = addr ? (prefix ?? addr.length * 8) : 0;
  b.writeInt32LE(port ?? -1, 4);
  addr?.copy(b, 8);
  return cond(src ? INET_DIAG_BC_S_COND : INET_DIAG_BC_D_COND, b);
}

export function devCond(ifindex: number): Program {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(ifindex >>> 0, 0);
  return cond(INET_DIAG_BC_DEV_COND, b);
}

/**
 * The program's bytes, every jump resolved to a byte offset (T: the end, F:
 * 4 past it). `yes` is a u8, so each op's true jump goes to the op after it:
 * where it should go farther, a JMP (always its `no`, a u16) follows. Every
 * op then lies on the chain inet_diag_bc_audit walks.
 */
export function assemble(p: Program): Buffer {
  const ops: { code: number; next: boolean; no: Target; operand: Buffer; from: number }[] = [];
  p.forEach((op, i) => {
    const fallsThrough = op.yes === (i + 1 === p.length ? 'T' : i + 1);
    ops.push({ code: op.code, next: true, no: op.no, operand: op.operand, from: i });
    if (!fallsThrough) ops.push({ code: INET_DIAG_BC_JMP, next: true, no: op.yes, operand: Buffer.alloc(0), from: -1 });
  });
  const at: number[] = [];
  const first = new Map<number, number>(); // an op of p -> its byte offset
  let len = 0;
  for (const op of ops) {
    at.push(len);
    if (op.from >= 0) first.set(op.from, len);
    len += 4 + op.operand.length;
  }
  const b = Buffer.alloc(len);
  const where = (t: Target) => (t === 'T' ? len : t === 'F' ? len + 4 : first.get(t)!);
  ops.forEach((op, i) => {
    const o = at[i]!;
    b[o] = op.code;
    b[o + 1] = 4 + op.operand.length;
    b.writeUInt16LE(where(op.no) - o, o + 2);
    op.operand.copy(b, o + 4);
  });
  return b;
}
