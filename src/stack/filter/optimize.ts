// The filter as libpcap holds it between gencode.c and the BPF array: a DAG
// of basic blocks (statements, then one conditional jump or a return), built
// from a predicate tree with gencode's backpatch lists (gen_and, gen_or,
// gen_not), optimised as optimize.c does it, and laid out as
// icode_to_fcode() lays it out. Each step follows libpcap's algorithm and
// its visiting orders, because `tcpdump -d` prints the result and scripts
// compare it: levels (leaves at 0), block and edge dominators, use-def sets
// of A, X and the 16 scratch words, value numbering with constant folding
// (opt_stmt, opt_peep), dead-store elimination, jump threading along
// dominating edges (opt_j), or/and pull-ups, then interning of equal blocks
// and the root's hoisting. Written from libpcap's description and source
// (optimize.c, BSD licence); nothing here is copied.
import { type Insn, ALU, JMP, LD, LDX, MISC, RET, ST, STX, IMM, MEM, IND, ABS, LEN, MSH, B, H, W, X, K, JA, JEQ, JGT, JGE, JSET } from '../bpf.js';
import { ADD, AND, DIV, LSH, MOD, MUL, NEG, OR, RSH, SUB, TAX, TXA, XOR } from '../bpf.js';
import { UsageError } from '../errors.js';

/** A statement; code -1 is a deleted one (optimize.c NOP). */
export interface Stmt {
  code: number;
  k: number;
}

const NOP = -1;
const MEMWORDS = 16;
const A_ATOM = MEMWORDS;
const X_ATOM = MEMWORDS + 1;
const N_ATOMS = MEMWORDS + 2;
const AX_ATOM = N_ATOMS;

interface Edge {
  id: number;
  code: number;
  pred: Block;
  succ: Block | null;
  edom: Uint32Array;
  next: Edge | null;
}

export class Block {
  id = 0;
  stmts: Stmt[] = [];
  s: Stmt;
  sense = false;
  head: Block;
  et: Edge;
  ef: Edge;
  level = 0;
  mark = 0;
  offset = 0;
  longjt = 0;
  longjf = 0;
  dom = new Uint32Array(0);
  inEdges: Edge | null = null;
  def = 0;
  kill = 0;
  inUse = 0;
  outUse = 0;
  oval = 0;
  val: number[] = new Array<number>(N_ATOMS).fill(0);

  constructor(code: number, k = 0) {
    this.s = { code, k: k >>> 0 };
    this.head = this;
    this.et = { id: 0, code: 0, pred: this, succ: null, edom: new Uint32Array(0), next: null };
    this.ef = { id: 0, code: 0, pred: this, succ: null, edom: new Uint32Array(0), next: null };
  }
  get jt(): Block | null {
    return this.et.succ;
  }
  set jt(b: Block | null) {
    this.et.succ = b;
  }
  get jf(): Block | null {
    return this.ef.succ;
  }
  set jf(b: Block | null) {
    this.ef.succ = b;
  }
}

// ---------- gencode.c's block lists ----------

function backpatch(list: Block | null, target: Block): void {
  while (list) {
    let next: Block | null;
    if (!list.sense) {
      next = list.jt;
      list.jt = target;
    } else {
      next = list.jf;
      list.jf = target;
    }
    list = next;
  }
}

function merge(b0: Block, b1: Block): void {
  let p = b0;
  for (;;) {
    const nx = !p.sense ? p.jt : p.jf;
    if (!nx) break;
    p = nx;
  }
  if (!p.sense) p.jt = b1;
  else p.jf = b1;
}

export function genAnd(b0: Block, b1: Block): void {
  backpatch(b0, b1.head);
  b0.sense = !b0.sense;
  b1.sense = !b1.sense;
  merge(b1, b0);
  b1.sense = !b1.sense;
  b1.head = b0.head;
}

export function genOr(b0: Block, b1: Block): void {
  b0.sense = !b0.sense;
  backpatch(b0, b1.head);
  b0.sense = !b0.sense;
  merge(b1, b0);
  b1.head = b0.head;
}

export function genNot(b: Block): void {
  b.sense = !b.sense;
}

/** finish_parse(): the accept and reject returns; the root of the DAG. */
export function finish(p: Block, snaplen: number): Block {
  backpatch(p, new Block(RET | K, snaplen));
  p.sense = !p.sense;
  backpatch(p, new Block(RET | K, 0));
  return p.head;
}

// ---------- the optimiser ----------

const cls = (c: number) => c & 0x07;
const insert = (set: Uint32Array, n: number) => {
  set[n >>> 5]! |= 1 << (n & 31);
};
const member = (set: Uint32Array, n: number) => (set[n >>> 5]! & (1 << (n & 31))) !== 0;
const bit = (n: number) => 1 << n;
const has = (set: number, n: number) => (set & (1 << n)) !== 0;

function atomUse(s: Stmt): number {
  const c = s.code;
  if (c === NOP) return -1;
  switch (cls(c)) {
    case RET:
      return (c & 0x18) === 0x10 ? A_ATOM : (c & 0x18) === X ? X_ATOM : -1;
    case LD:
    case LDX:
      return (c & 0xe0) === IND ? X_ATOM : (c & 0xe0) === MEM ? s.k : -1;
    case ST:
      return A_ATOM;
    case STX:
      return X_ATOM;
    case JMP:
    case ALU:
      return (c & 0x08) === X ? AX_ATOM : A_ATOM;
    default:
      return (c & 0xf8) === TXA ? X_ATOM : A_ATOM;
  }
}

function atomDef(s: Stmt): number {
  if (s.code === NOP) return -1;
  switch (cls(s.code)) {
    case LD:
    case ALU:
      return A_ATOM;
    case LDX:
      return X_ATOM;
    case ST:
    case STX:
      return s.k;
    case MISC:
      return (s.code & 0xf8) === TAX ? X_ATOM : A_ATOM;
  }
  return -1;
}

class Optimizer {
  done = true;
  moved = false; // non_branch_movement_performed
  blocks: Block[] = [];
  edges: Edge[] = [];
  levels: Block[][] = [];
  markNo = 1;
  // value numbering
  curval = 0;
  table = new Map<string, number>();
  consts = new Map<number, number>();

  constructor(public root: Block) {
    this.unmarkAll();
    this.number(root);
    const n = this.blocks.length;
    for (let i = 0; i < n; i++) {
      const b = this.blocks[i]!;
      b.et.id = i;
      b.ef.id = n + i;
      this.edges[i] = b.et;
      this.edges[n + i] = b.ef;
      b.et.pred = b;
      b.ef.pred = b;
      // bit sets of 32-bit words, as optimize.c's (nodewords, edgewords)
      b.dom = new Uint32Array((n >>> 5) + 1);
      b.et.edom = new Uint32Array(((2 * n) >>> 5) + 1);
      b.ef.edom = new Uint32Array(((2 * n) >>> 5) + 1);
    }
  }

  unmarkAll(): void {
    this.markNo++;
  }
  marked(b: Block): boolean {
    return b.mark === this.markNo;
  }

  private number(p: Block | null): void {
    if (!p || this.marked(p)) return;
    p.mark = this.markNo;
    p.id = this.blocks.length;
    this.blocks.push(p);
    this.number(p.jt);
    this.number(p.jf);
  }

  // -- analysis --

  findLevels(): void {
    this.levels = this.blocks.map(() => []);
    this.unmarkAll();
    const walk = (b: Block): void => {
      if (this.marked(b)) return;
      b.mark = this.markNo;
      let level = 0;
      if (b.jt) {
        walk(b.jt);
        walk(b.jf!);
        level = Math.max(b.jt.level, b.jf!.level) + 1;
      }
      b.level = level;
      this.levels[level]!.unshift(b);
    };
    walk(this.root);
  }

  findDom(): void {
    for (const b of this.blocks) b.dom.fill(0xffffffff);
    this.root.dom.fill(0);
    for (let level = this.root.level; level >= 0; level--) {
      for (const b of this.levels[level]!) {
        insert(b.dom, b.id);
        if (!b.jt) continue;
        for (const c of [b.jt, b.jf!]) for (let i = 0; i < c.dom.length; i++) c.dom[i]! &= b.dom[i]!;
      }
    }
  }

  findEdom(): void {
    for (const e of this.edges) e.edom.fill(0xffffffff);
    this.root.et.edom.fill(0);
    this.root.ef.edom.fill(0);
    const prop = (ep: Edge) => {
      insert(ep.edom, ep.id);
      if (ep.succ) {
        for (const e of [ep.succ.et, ep.succ.ef]) for (let i = 0; i < e.edom.length; i++) e.edom[i]! &= ep.edom[i]!;
      }
    };
    for (let level = this.root.level; level >= 0; level--) {
      for (const b of this.levels[level]!) {
        prop(b.et);
        prop(b.ef);
      }
    }
  }

  private localUd(b: Block): void {
    let def = 0,
      use = 0,
      killed = 0;
    const useOf = (s: Stmt) => {
      const atom = atomUse(s);
      if (atom < 0) return;
      if (atom === AX_ATOM) {
        if (!has(def, X_ATOM)) use |= bit(X_ATOM);
        if (!has(def, A_ATOM)) use |= bit(A_ATOM);
      } else if (!has(def, atom)) use |= bit(atom);
    };
    for (const s of b.stmts) {
      if (s.code === NOP) continue;
      useOf(s);
      const atom = atomDef(s);
      if (atom >= 0) {
        if (!has(use, atom)) killed |= bit(atom);
        def |= bit(atom);
      }
    }
    if (cls(b.s.code) === JMP) useOf(b.s);
    b.def = def;
    b.kill = killed;
    b.inUse = use;
  }

  findUd(): void {
    const max = this.root.level;
    for (let i = max; i >= 0; i--)
      for (const p of this.levels[i]!) {
        this.localUd(p);
        p.outUse = 0;
      }
    for (let i = 1; i <= max; i++)
      for (const p of this.levels[i]!) {
        p.outUse |= p.jt!.inUse | p.jf!.inUse;
        p.inUse |= p.outUse & ~p.kill;
      }
  }

  findInEdges(): void {
    for (const b of this.blocks) b.inEdges = null;
    for (let level = this.root.level; level > 0; level--)
      for (const b of this.levels[level]!) {
        for (const [e, child] of [
          [b.et, b.jt!],
          [b.ef, b.jf!],
        ] as const) {
          e.next = child.inEdges;
          child.inEdges = e;
        }
      }
  }

  // -- value numbering --

  initVal(): void {
    this.curval = 0;
    this.table.clear();
    this.consts.clear();
  }

  F(code: number, v0: number, v1: number): number {
    const key = `${code},${v0},${v1}`;
    const got = this.table.get(key);
    if (got !== undefined) return got;
    const val = ++this.curval;
    if ((code & 0xe0) === IMM && (cls(code) === LD || cls(code) === LDX)) this.consts.set(val, v0 >>> 0);
    this.table.set(key, val);
    return val;
  }
  K(k: number): number {
    return this.F(LD | IMM | W, k >>> 0, 0);
  }
  isConst(v: number): boolean {
    return this.consts.has(v);
  }
  constOf(v: number): number {
    return this.consts.get(v) ?? 0;
  }

  private changed(): void {
    this.moved = true;
    this.done = false;
  }

  private vstore(s: Stmt, val: number[], i: number, nv: number, alter: boolean): void {
    if (alter && nv !== 0 && val[i] === nv) s.code = NOP;
    else val[i] = nv;
  }

  private foldOp(s: Stmt, v0: number, v1: number): void {
    let a = this.constOf(v0);
    const b = this.constOf(v1);
    switch (s.code & 0xf0) {
      case ADD:
        a = (a + b) >>> 0;
        break;
      case SUB:
        a = (a - b) >>> 0;
        break;
      case MUL:
        a = Math.imul(a, b) >>> 0;
        break;
      case DIV:
        if (b === 0) throw new UsageError('division by zero');
        a = Math.floor(a / b) >>> 0;
        break;
      case MOD:
        if (b === 0) throw new UsageError('modulus by zero');
        a = (a % b) >>> 0;
        break;
      case AND:
        a = (a & b) >>> 0;
        break;
      case OR:
        a = (a | b) >>> 0;
        break;
      case XOR:
        a = (a ^ b) >>> 0;
        break;
      case LSH:
        a = b < 32 ? (a << b) >>> 0 : 0;
        break;
      case RSH:
        a = b < 32 ? a >>> b : 0;
        break;
      default:
        throw new Error('fold_op: unknown operation');
    }
    s.k = a;
    s.code = LD | IMM;
    this.changed();
  }

  /**
   * opt_stmt: the value a statement leaves in A, X or a scratch word,
   * numbered into val; with alter, the statement rewritten by what is known
   * (a constant folded in, a known load made an immediate, a no-op deleted).
   * By instruction class: loads, ALU operations, then stores and transfers.
   */
  private optStmt(s: Stmt, val: number[], alter: boolean): void {
    switch (cls(s.code)) {
      case LD:
      case LDX:
        this.optLoad(s, val, alter);
        return;
      case ALU:
        this.optAlu(s, val, alter);
        return;
    }
    switch (s.code) {
      case TXA | MISC:
        this.vstore(s, val, A_ATOM, val[X_ATOM]!, alter);
        return;
      case TAX | MISC:
        this.vstore(s, val, X_ATOM, val[A_ATOM]!, alter);
        return;
      case ST:
        this.vstore(s, val, s.k, val[A_ATOM]!, alter);
        return;
      case STX:
        this.vstore(s, val, s.k, val[X_ATOM]!, alter);
        return;
    }
  }

  /** opt_stmt for ld and ldx: a packet load, the length, an immediate or a scratch word */
  private optLoad(s: Stmt, val: number[], alter: boolean): void {
    const c = s.code;
    switch (c) {
      case LD | ABS | W:
      case LD | ABS | H:
      case LD | ABS | B:
        this.vstore(s, val, A_ATOM, this.F(c, s.k, 0), alter);
        return;
      case LD | IND | W:
      case LD | IND | H:
      case LD | IND | B: {
        let v = val[X_ATOM]!;
        if (alter && this.isConst(v)) {
          s.code = LD | ABS | (c & 0x18);
          s.k = (s.k + this.constOf(v)) >>> 0;
          v = this.F(s.code, s.k, 0);
          this.changed();
        } else v = this.F(c, s.k, v);
        this.vstore(s, val, A_ATOM, v, alter);
        return;
      }
      case LD | LEN:
        this.vstore(s, val, A_ATOM, this.F(c, 0, 0), alter);
        return;
      case LD | IMM:
        this.vstore(s, val, A_ATOM, this.K(s.k), alter);
        return;
      case LDX | IMM:
        this.vstore(s, val, X_ATOM, this.K(s.k), alter);
        return;
      case LDX | MSH | B:
        this.vstore(s, val, X_ATOM, this.F(c, s.k, 0), alter);
        return;
      case LD | MEM:
        this.optLoadMem(s, val, alter, A_ATOM, LD | IMM);
        return;
      case LDX | MEM:
        this.optLoadMem(s, val, alter, X_ATOM, LDX | IMM);
        return;
    }
  }

  /** ld M[k] or ldx M[k]: a word holding a known constant is loaded as the immediate imm */
  private optLoadMem(s: Stmt, val: number[], alter: boolean, atom: number, imm: number): void {
    const v = val[s.k]!;
    if (alter && this.isConst(v)) {
      s.code = imm;
      s.k = this.constOf(v);
      this.changed();
    }
    this.vstore(s, val, atom, v, alter);
  }

  /** opt_stmt for the ALU: neg, an operation with k, or one with X */
  private optAlu(s: Stmt, val: number[], alter: boolean): void {
    const c = s.code;
    if (c === (ALU | NEG)) {
      if (alter && this.isConst(val[A_ATOM]!)) {
        s.code = LD | IMM;
        s.k = (0 - this.constOf(val[A_ATOM]!)) >>> 0;
        val[A_ATOM] = this.K(s.k);
      } else val[A_ATOM] = this.F(c, val[A_ATOM]!, 0);
      return;
    }
    if ((c & 0x08) === K) this.optAluK(s, val, alter);
    else this.optAluX(s, val, alter);
  }

  /** A op k: k = 0 makes some a no-op or a constant, a known A folds */
  private optAluK(s: Stmt, val: number[], alter: boolean): void {
    const op = s.code & 0xf0;
    if (alter) {
      if (s.k === 0) {
        if (op === ADD || op === LSH || op === RSH || op === OR || op === XOR) {
          s.code = NOP;
          return;
        }
        if (op === MUL || op === AND) {
          s.code = LD | IMM;
          val[A_ATOM] = this.K(s.k);
          return;
        }
        if (op === DIV) throw new UsageError('division by zero');
        if (op === MOD) throw new UsageError('modulus by zero');
      }
      if (this.isConst(val[A_ATOM]!)) {
        this.foldOp(s, val[A_ATOM]!, this.K(s.k));
        val[A_ATOM] = this.K(s.k);
        return;
      }
    }
    val[A_ATOM] = this.F(s.code, val[A_ATOM]!, this.K(s.k));
  }

  /** A op X: a known X becomes k (or folds with a known A), a zero A makes some txa or a constant */
  private optAluX(s: Stmt, val: number[], alter: boolean): void {
    const op = s.code & 0xf0;
    if (alter && this.isConst(val[X_ATOM]!)) {
      if (this.isConst(val[A_ATOM]!)) {
        this.foldOp(s, val[A_ATOM]!, val[X_ATOM]!);
        val[A_ATOM] = this.K(s.k);
      } else {
        s.code = ALU | K | op;
        s.k = this.constOf(val[X_ATOM]!);
        if ((op === LSH || op === RSH) && s.k > 31) throw new UsageError('shift by more than 31 bits');
        this.changed();
        val[A_ATOM] = this.F(s.code, val[A_ATOM]!, this.K(s.k));
      }
      return;
    }
    if (alter && this.isConst(val[A_ATOM]!) && this.constOf(val[A_ATOM]!) === 0) {
      if (op === ADD || op === OR || op === XOR) {
        s.code = MISC | TXA;
        this.vstore(s, val, A_ATOM, val[X_ATOM]!, alter);
        return;
      }
      if (op === MUL || op === DIV || op === MOD || op === AND || op === LSH || op === RSH) {
        s.code = LD | IMM;
        s.k = 0;
        this.vstore(s, val, A_ATOM, this.K(s.k), alter);
        return;
      }
    }
    val[A_ATOM] = this.F(s.code, val[A_ATOM]!, val[X_ATOM]!);
  }

  private thisOp(stmts: Stmt[], i: number): number {
    while (i < stmts.length && stmts[i]!.code === NOP) i++;
    return i < stmts.length ? i : -1;
  }

  private optPeep(b: Block): void {
    const st = b.stmts;
    if (st.length === 0) return;
    let last = 0;
    for (let s = 0; ; ) {
      s = this.thisOp(st, s);
      if (s < 0) break;
      const next = this.thisOp(st, s + 1);
      if (next < 0) break;
      last = next;
      const S = st[s]!,
        N = st[next]!;
      // st M[k]; ldx M[k] -> st M[k]; tax
      if (S.code === ST && N.code === (LDX | MEM) && S.k === N.k) {
        this.changed();
        N.code = MISC | TAX;
      }
      // ld #k; tax -> ldx #k; txa
      if (S.code === (LD | IMM) && N.code === (MISC | TAX)) {
        S.code = LDX | IMM;
        N.code = MISC | TXA;
        this.changed();
      }
      // ld #k; [ldxms]; add x; tax; ld [x+j] -> [ldxms]; ld [x+k+j]  (tcp[k])
      if (S.code === (LD | IMM)) {
        if (has(b.outUse, X_ATOM)) {
          s = next;
          continue;
        }
        const add = N.code !== (LDX | MSH | B) ? next : this.thisOp(st, next + 1);
        if (add < 0 || st[add]!.code !== (ALU | ADD | X)) {
          s = next;
          continue;
        }
        const tax = this.thisOp(st, add + 1);
        if (tax < 0 || st[tax]!.code !== (MISC | TAX)) {
          s = next;
          continue;
        }
        const ild = this.thisOp(st, tax + 1);
        if (ild < 0 || cls(st[ild]!.code) !== LD || (st[ild]!.code & 0xe0) !== IND) {
          s = next;
          continue;
        }
        st[ild]!.k = (st[ild]!.k + S.k) >>> 0;
        S.code = NOP;
        st[add]!.code = NOP;
        st[tax]!.code = NOP;
        this.changed();
      }
      s = next;
    }
    const L = st[last]!;
    if (b.s.code === (JMP | JEQ | K) && !has(b.outUse, A_ATOM)) {
      if (L.code === (ALU | SUB | X)) {
        const v = b.val[X_ATOM]!;
        if (this.isConst(v)) {
          b.s.k = (b.s.k + this.constOf(v)) >>> 0;
          L.code = NOP;
          this.changed();
        } else if (b.s.k === 0) {
          L.code = NOP;
          b.s.code = JMP | JEQ | X;
          this.changed();
        }
      } else if (L.code === (ALU | SUB | K)) {
        L.code = NOP;
        b.s.k = (b.s.k + L.k) >>> 0;
        this.changed();
      } else if (L.code === (ALU | AND | K) && b.s.k === 0) {
        b.s.k = L.k;
        b.s.code = JMP | K | JSET;
        L.code = NOP;
        this.changed();
        const t = b.jt;
        b.jt = b.jf;
        b.jf = t;
      }
    }
    if (b.s.code === (JMP | K | JSET)) {
      if (b.s.k === 0) b.jt = b.jf;
      if (b.s.k === 0xffffffff) b.jf = b.jt;
    }
    const xv = b.val[X_ATOM]!;
    if (this.isConst(xv) && (b.s.code & 0x08) === X) {
      b.s.code &= ~X;
      b.s.k = this.constOf(xv);
    }
    const av = b.val[A_ATOM]!;
    if (this.isConst(av) && (b.s.code & 0x08) === K) {
      let v = this.constOf(av);
      switch (b.s.code & 0xf0) {
        case JEQ:
          v = v === b.s.k ? 1 : 0;
          break;
        case JGT:
          v = v > b.s.k ? 1 : 0;
          break;
        case JGE:
          v = v >= b.s.k ? 1 : 0;
          break;
        case JSET:
          v = (v & b.s.k) >>> 0;
          break;
        default:
          throw new Error('opt_peep: unknown jump');
      }
      if (b.jf !== b.jt) this.changed();
      if (v) b.jf = b.jt;
      else b.jt = b.jf;
    }
  }

  private deadStmt(s: Stmt, last: (Stmt | null)[]): void {
    let atom = atomUse(s);
    if (atom >= 0) {
      if (atom === AX_ATOM) {
        last[X_ATOM] = null;
        last[A_ATOM] = null;
      } else last[atom] = null;
    }
    atom = atomDef(s);
    if (atom >= 0) {
      if (last[atom]) {
        this.changed();
        last[atom]!.code = NOP;
      }
      last[atom] = s;
    }
  }

  private deadStores(b: Block): void {
    const last: (Stmt | null)[] = new Array(N_ATOMS).fill(null);
    for (const s of b.stmts) this.deadStmt(s, last);
    this.deadStmt(b.s, last);
    for (let atom = 0; atom < N_ATOMS; atom++)
      if (last[atom] && !has(b.outUse, atom)) {
        last[atom]!.code = NOP;
        this.changed();
      }
  }

  private optBlk(b: Block, doStmts: boolean): void {
    let p = b.inEdges;
    if (!p) b.val.fill(0);
    else {
      b.val = [...p.pred.val];
      while ((p = p.next) !== null) for (let i = 0; i < N_ATOMS; i++) if (b.val[i] !== p.pred.val[i]) b.val[i] = 0;
    }
    const aval = b.val[A_ATOM]!,
      xval = b.val[X_ATOM]!;
    for (const s of b.stmts) this.optStmt(s, b.val, doStmts);
    if (doStmts && ((b.outUse === 0 && aval !== 0 && b.val[A_ATOM] === aval && xval !== 0 && b.val[X_ATOM] === xval) || cls(b.s.code) === RET)) {
      if (b.stmts.length > 0) {
        b.stmts = [];
        this.changed();
      }
    } else {
      this.optPeep(b);
      this.deadStores(b);
    }
    b.oval = (b.s.code & 0x08) === K ? this.K(b.s.k) : b.val[X_ATOM]!;
    b.et.code = b.s.code;
    b.ef.code = -b.s.code;
  }

  private useConflict(b: Block, succ: Block): boolean {
    const use = succ.outUse;
    if (use === 0) return false;
    for (let atom = 0; atom < N_ATOMS; atom++) if (has(use, atom) && b.val[atom] !== succ.val[atom]) return true;
    return false;
  }

  private foldEdge(child: Block, ep: Edge): Block | null {
    let code = ep.code;
    let sense: boolean;
    if (code < 0) {
      code = -code;
      sense = false;
    } else sense = true;
    if (child.s.code !== code) return null;
    if (child.val[A_ATOM] !== ep.pred.val[A_ATOM]) return null;
    if (child.oval === ep.pred.oval) return sense ? child.jt : child.jf;
    if (sense && code === (JMP | JEQ | K)) return child.jf;
    return null;
  }

  private optJ(ep: Edge): void {
    if (!ep.succ!.jt) return;
    if (ep.succ!.jt === ep.succ!.jf && !this.useConflict(ep.pred, ep.succ!.jt!)) {
      this.changed();
      ep.succ = ep.succ!.jt;
    }
    top: for (;;) {
      for (let i = 0; i < ep.edom.length; i++) {
        // the dominating edges in ascending order, word by word
        for (let x = ep.edom[i]!; x !== 0; ) {
          const low = x & -x;
          x = (x & ~low) >>> 0;
          const k = 32 * i + (31 - Math.clz32(low));
          const target = this.foldEdge(ep.succ!, this.edges[k]!);
          if (target && !this.useConflict(ep.pred, target)) {
            this.done = false;
            ep.succ = target;
            if (target.jt) continue top;
            return;
          }
        }
      }
      return;
    }
  }

  /** or_pullup (t = false) and and_pullup (t = true): `chain` is the edge followed down the chain. */
  private pullup(b: Block, and: boolean): void {
    let ep = b.inEdges;
    if (!ep) return;
    const val = ep.pred.val[A_ATOM];
    for (ep = ep.next; ep; ep = ep.next) if (val !== ep.pred.val[A_ATOM]) return;
    // a reference to a jt or jf field
    type Ref = { blk: Block; t: boolean };
    const get = (r: Ref) => (r.t ? r.blk.jt : r.blk.jf);
    const set = (r: Ref, v: Block | null) => {
      if (r.t) r.blk.jt = v;
      else r.blk.jf = v;
    };
    const same = (x: Block) => (and ? x.jf : x.jt); // the edge that must agree with b's
    const down = and; // follow jt for and, jf for or
    const first = b.inEdges!.pred;
    let diffp: Ref = { blk: first, t: first.jt === b };
    let atTop = true;
    for (;;) {
      const d = get(diffp);
      if (!d) return;
      if (same(d) !== same(b)) return;
      if (!member(d.dom, b.id)) return;
      if (d.val[A_ATOM] !== val) break;
      diffp = { blk: d, t: down };
      atTop = false;
    }
    let samep: Ref = { blk: get(diffp)!, t: down };
    for (;;) {
      const s = get(samep);
      if (!s) return;
      if (same(s) !== same(b)) return;
      if (!member(s.dom, b.id)) return;
      if (s.val[A_ATOM] === val) break;
      samep = { blk: s, t: down };
    }
    const pull = get(samep)!;
    set(samep, down ? pull.jt : pull.jf);
    if (down) pull.jt = get(diffp);
    else pull.jf = get(diffp);
    if (atTop) {
      for (let e = b.inEdges; e; e = e.next) {
        if (e.pred.jt === b) e.pred.jt = pull;
        else e.pred.jf = pull;
      }
    } else set(diffp, pull);
    this.done = false;
  }

  private optBlks(doStmts: boolean): void {
    this.initVal();
    const max = this.root.level;
    this.findInEdges();
    for (let i = max; i >= 0; i--) for (const p of this.levels[i]!) this.optBlk(p, doStmts);
    if (doStmts) return;
    for (let i = 1; i <= max; i++)
      for (const p of this.levels[i]!) {
        this.optJ(p.et);
        this.optJ(p.ef);
      }
    this.findInEdges();
    for (let i = 1; i <= max; i++)
      for (const p of this.levels[i]!) {
        this.pullup(p, false);
        this.pullup(p, true);
      }
  }

  loop(doStmts: boolean): void {
    let count = 0;
    for (;;) {
      this.done = true;
      this.moved = false;
      this.findLevels();
      this.findDom();
      this.findUd();
      this.findEdom();
      this.optBlks(doStmts);
      if (this.done) break;
      if (this.moved) count = 0;
      else if (++count >= 100) break;
    }
  }

  intern(): void {
    for (;;) {
      let done = true;
      const link = new Map<Block, Block>();
      this.unmarkAll();
      const marks = (p: Block): void => {
        if (this.marked(p)) return;
        p.mark = this.markNo;
        if (cls(p.s.code) !== RET) {
          marks(p.jt!);
          marks(p.jf!);
        }
      };
      marks(this.root);
      // each block goes to the first equal block after it (eq_blk; found by key, not by pairs)
      const n = this.blocks.length;
      const after = new Map<string, Block>();
      for (let i = n - 1; i >= 0; i--) {
        const bi = this.blocks[i]!;
        if (!this.marked(bi)) continue;
        const key = blockKey(bi);
        const bj = after.get(key);
        if (bj && i < n - 1) link.set(bi, link.get(bj) ?? bj);
        after.set(key, bi);
      }
      for (const p of this.blocks) {
        if (!p.jt) continue;
        const t = link.get(p.jt);
        if (t) {
          done = false;
          p.jt = t;
        }
        const f = link.get(p.jf!);
        if (f) {
          done = false;
          p.jf = f;
        }
      }
      if (done) return;
    }
  }
}

/** What eq_blk() compares: the jump, its successors, the statements other than deleted ones. */
function blockKey(b: Block): string {
  let key = `${b.s.code},${b.s.k},${b.jt?.id ?? -1},${b.jf?.id ?? -1}`;
  for (const s of b.stmts) if (s.code !== NOP) key += `;${s.code},${s.k}`;
  return key;
}

/** bpf_optimize(): the optimised DAG's root. */
export function optimize(root: Block): Block {
  const o = new Optimizer(root);
  o.loop(false);
  o.loop(true);
  o.intern();
  // opt_root: skip jumps whose outcomes agree, keeping the root's statements
  let r = o.root;
  const s = r.stmts;
  r.stmts = [];
  while (cls(r.s.code) === JMP && r.jt === r.jf) r = r.jt!;
  r.stmts = [...s, ...r.stmts];
  if (cls(r.s.code) === RET) r.stmts = [];
  return r;
}

/** icode_to_fcode(): the DAG as a BPF array, each block before its successors (jf's laid out last). */
export function linearize(root: Block): Insn[] {
  let mark = 0;
  const marks = new Map<Block, number>();
  const slength = (b: Block) => b.stmts.reduce((n, s) => n + (s.code === NOP ? 0 : 1), 0);
  for (;;) {
    mark++;
    const count = (p: Block | null): number => {
      if (!p || marks.get(p) === mark) return 0;
      marks.set(p, mark);
      return count(p.jt) + count(p.jf) + slength(p) + 1 + p.longjt + p.longjf;
    };
    const n = count(root);
    const out: Insn[] = Array.from({ length: n }, () => ({ code: 0, jt: 0, jf: 0, k: 0 }));
    let tail = n;
    mark++;
    const conv = (p: Block | null): boolean => {
      if (!p || marks.get(p) === mark) return true;
      marks.set(p, mark);
      if (!conv(p.jf)) return false;
      if (!conv(p.jt)) return false;
      const slen = slength(p);
      tail -= slen + 1 + p.longjt + p.longjf;
      p.offset = tail;
      let dst = tail;
      for (const s of p.stmts) {
        if (s.code === NOP) continue;
        out[dst++] = { code: s.code, jt: 0, jf: 0, k: s.k >>> 0 };
      }
      const ins: Insn = { code: p.s.code, jt: 0, jf: 0, k: p.s.k >>> 0 };
      out[dst] = ins;
      if (p.jt) {
        let extra = 0;
        let off = p.jt.offset - (p.offset + slen) - 1;
        if (off >= 256) {
          if (p.longjt === 0) {
            p.longjt++;
            return false;
          }
          ins.jt = extra;
          extra++;
          out[dst + extra] = { code: JMP | JA, jt: 0, jf: 0, k: off - extra };
        } else ins.jt = off;
        off = p.jf!.offset - (p.offset + slen) - 1;
        if (off >= 256) {
          if (p.longjf === 0) {
            p.longjf++;
            return false;
          }
          ins.jf = extra;
          extra++;
          out[dst + extra] = { code: JMP | JA, jt: 0, jf: 0, k: off - extra };
        } else ins.jf = off;
      }
      return true;
    };
    if (conv(root)) return out;
  }
}
