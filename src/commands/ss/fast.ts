// ss's listing of inet sockets in its default formats (-t -u -w with -a,
// -l, -n, -p, -4, -6, -H; no filter and no -e -o -m -i), made without a
// record per socket: each line is read from the sock_diag reply into a few
// numbers (state, queues, ports, numbered addresses), measured as Table
// measures tokens, and written as bytes at ss's render. Same columns,
// widths and render points as Table, so the same bytes; memory holds
// about 30 bytes a line until the render, less than the line itself.
import { AddressTexts, type InetSocket, type InetTable, type Owners } from '../../stack/inventory/index.js';
import { INET_DIAG_MSG as M, inetDiagV6only, u32 } from '../../stack/abi/sock_diag.js';
import { ByteLines, digits } from '../../output/bytes.js';
import { COL, Columns, HEADER, type Layout } from './columns.js';
import { SS_STATE, inetAddr, service, usersLength } from './text.js';

const TABLES: readonly InetTable[] = ['tcp', 'udp', 'raw'];
const HEADER_LINE = 255;
const STAR = 0x2a;
/** the length of each state's name (SS_STATE, UNKNOWN past it) */
const STATE_LEN = Uint8Array.from({ length: 256 }, (_, s) => (SS_STATE[s] ?? 'UNKNOWN').length);

export interface FastOptions {
  numeric: boolean;
  processes: boolean;
  owners?: Pick<Owners, 'get' | 'forEach'>;
  ifname(index: number): string | undefined;
}

/** Lines kept as numbers, a chunk of them (HEADER_LINE in kind: the header). */
interface Lines {
  n: number;
  kind: Uint8Array;
  state: Uint8Array;
  rq: Uint32Array;
  wq: Uint32Array;
  local: Int32Array;
  peer: Int32Array;
  sport: Uint16Array;
  dport: Uint16Array;
  inode: Uint32Array;
}

/**
 * Lines a chunk holds. Chunks are never copied into bigger ones: a listing
 * of n lines holds n lines' numbers and one chunk's slack, where doubling
 * arrays would hold up to 3n at the last growth (the old and the new).
 */
const CHUNK_LINES = 4096;

export class FastInetTable extends Columns {
  // the chunk being filled, in fields (line() stores into them), and the full ones before it
  private n = 0;
  private kind = new Uint8Array(0);
  private state = new Uint8Array(0);
  private rq = new Uint32Array(0);
  private wq = new Uint32Array(0);
  private local = new Int32Array(0);
  private peer = new Int32Array(0);
  private sport = new Uint16Array(0);
  private dport = new Uint16Array(0);
  // -p: each line's socket inode (32 bits, as sock_diag's); its users:(...) is measured now and made when the line is written
  private inode = new Uint32Array(0);
  private full: Lines[] = [];
  private readonly addrs = new AddressTexts();
  // address tokens ("127.0.0.1:", "[::1]:", "*:", "10.0.0.1%eth0:"), numbered
  private readonly tokens: string[] = [];
  private readonly tokenIds = new Map<string, number>();
  // the token of each address id and v6only (2 * id + v6only), when made
  private readonly tokenOf: number[] = [];
  private readonly services: (string | undefined)[][] = [[], [], []];
  private readonly out: ByteLines;

  constructor(
    disabled: boolean[],
    write: (b: Buffer) => void,
    screenWidth: number | null,
    layout: Layout,
    private readonly o: FastOptions,
  ) {
    super(disabled, screenWidth, layout, o.processes);
    this.out = new ByteLines(write, true); // write keeps no buffer (stdoutSink)
    // what every line's shown tokens count whatever they hold: 2 each, and Netid's 3 letters (line()
    // counts the rest: State's when shown; Recv-Q to Port, always shown here; PROC with -p; EXT is empty)
    let fixed = 0;
    for (let c = 0; c < 10; c++) if (!this.disabled[c]) fixed += 2;
    if (!this.disabled[COL.NETID]) fixed += 4;
    this.fixedBytes = fixed;
    this.stateShown = !this.disabled[COL.STATE];
    // the first chunk made here, before any line: V8 takes a field stored once for a constant and
    // drops the optimised code that assumed it when the next chunk stores it again (a compile of
    // line() thrown away, measured); stored twice from the start, the fields are plain variables
    this.chunk();
  }

  private readonly fixedBytes: number;
  private readonly stateShown: boolean;

  header(): void {
    const i = this.slot();
    this.kind[i] = HEADER_LINE;
    for (let c = 0; c < 10; c++) this.lens[c] = HEADER[c]!.length;
    this.added();
  }

  /** The checked inet_diag_msg replies of one datagram of `table` (Inventory.inetRaw's batch), read where they lie. */
  messages(b: Buffer, at: Int32Array, count: number, table: InetTable): void {
    const t = TABLES.indexOf(table);
    for (let k = 0; k < 2 * count; k += 2) {
      const o = at[k]!;
      const family = b[o + M.FAMILY]!;
      const v6only = family === 10 && inetDiagV6only(b, o, at[k + 1]!) === 1;
      const ifindex = u32(b, o + M.IF);
      const src = this.addrs.id(b, o + M.SRC, family);
      const dst = this.addrs.id(b, o + M.DST, family);
      this.line(
        t,
        b[o + M.STATE]!,
        u32(b, o + M.RQUEUE),
        u32(b, o + M.WQUEUE),
        this.addressToken(src, family, v6only, ifindex),
        (b[o + M.SPORT]! << 8) | b[o + M.SPORT + 1]!,
        this.addressToken(dst, family, v6only, 0),
        (b[o + M.DPORT]! << 8) | b[o + M.DPORT + 1]!,
        this.o.processes ? u32(b, o + M.INODE) : 0,
      );
    }
  }

  /** One socket read from /proc/net (netlink refused). */
  record(s: InetSocket): void {
    const v6only = s.family === 10 && s.v6only === 1;
    this.line(
      TABLES.indexOf(s.table),
      s.state,
      s.rqueue,
      s.wqueue,
      this.token(`${inetAddr(s.src, s.family, v6only)}${s.ifindex && this.o.ifname(s.ifindex) ? `%${this.o.ifname(s.ifindex)}` : ''}:`),
      s.sport,
      this.token(`${inetAddr(s.dst, s.family, v6only)}:`),
      s.dport,
      s.inode,
    );
  }

  /**
   * One line kept as numbers, and measured as Columns.measure() measures
   * tokens, column by column without a loop: each shown token counts 2 and
   * its even-rounded length in ss's buffer (the empty PROC and EXT tokens
   * and Netid's three letters are in `fixedBytes`).
   */
  private line(t: number, state: number, rq: number, wq: number, local: number, sport: number, peer: number, dport: number, inode: number): void {
    const i = this.slot();
    this.kind[i] = t;
    this.state[i] = state;
    this.rq[i] = rq;
    this.wq[i] = wq;
    this.local[i] = local;
    this.sport[i] = sport;
    this.peer[i] = peer;
    this.dport[i] = dport;
    const ml = this.maxLen;
    const sl = STATE_LEN[state]!;
    const ql = rq < 1e6 ? 6 : digits(rq);
    const wl = wq < 1e6 ? 6 : digits(wq);
    const al = this.tokens[local]!.length;
    const pl = this.tokens[peer]!.length;
    const spl = this.portLength(t, sport);
    const dpl = this.portLength(t, dport);
    if (ml[COL.NETID]! < 3) ml[COL.NETID] = 3; // tcp, udp, raw
    if (sl > ml[COL.STATE]!) ml[COL.STATE] = sl;
    if (ql > ml[COL.RECVQ]!) ml[COL.RECVQ] = ql;
    if (wl > ml[COL.SENDQ]!) ml[COL.SENDQ] = wl;
    if (al > ml[COL.ADDR]!) ml[COL.ADDR] = al;
    if (spl > ml[COL.SERV]!) ml[COL.SERV] = spl;
    if (pl > ml[COL.RADDR]!) ml[COL.RADDR] = pl;
    if (dpl > ml[COL.RSERV]!) ml[COL.RSERV] = dpl;
    let bytes = this.fixedBytes + ((ql + 1) & ~1) + ((wl + 1) & ~1) + ((al + 1) & ~1) + ((spl + 1) & ~1) + ((pl + 1) & ~1) + ((dpl + 1) & ~1);
    if (this.stateShown) bytes += (sl + 1) & ~1;
    // the held column (ss measures it a line late): EXT, always empty here, or 6.1's PROC
    if (this.pending > ml[this.held]!) ml[this.held] = this.pending;
    this.pending = 0;
    if (this.o.processes) bytes += this.procLine(i, inode);
    if (this.counted(bytes)) this.render();
  }

  /** users:(...) of line i as the PROC token, measured (a line late when it is ss's held column, 6.1's); its even-rounded length */
  private procLine(i: number, inode: number): number {
    this.inode[i] = inode;
    const len = usersLength(this.o.owners, inode);
    const ml = this.maxLen;
    if (this.held === COL.PROC) this.pending = len;
    else if (len > ml[COL.PROC]!) ml[COL.PROC] = len;
    return (len + 1) & ~1;
  }

  private portLength(t: number, port: number): number {
    if (this.o.numeric || port === 0) return port < 10 ? 1 : port < 100 ? 2 : port < 1000 ? 3 : port < 10000 ? 4 : 5;
    return this.serviceText(t, port).length;
  }

  private addressToken(id: number, family: number, v6only: boolean, ifindex: number): number {
    if (ifindex) {
      const name = this.o.ifname(ifindex);
      if (name) return this.token(`${inetAddr(this.addrs.texts[id]!, family, v6only)}%${name}:`);
    }
    const k = 2 * id + (v6only ? 1 : 0);
    let t = this.tokenOf[k];
    if (t === undefined) t = this.tokenOf[k] = this.token(`${inetAddr(this.addrs.texts[id]!, family, v6only)}:`);
    return t;
  }

  private token(text: string): number {
    let id = this.tokenIds.get(text);
    if (id === undefined) {
      id = this.tokens.push(text) - 1;
      this.tokenIds.set(text, id);
    }
    return id;
  }

  /** the name of a port (without -n), made once per port */
  private serviceText(t: number, port: number): string {
    const names = this.services[t]!;
    let s = names[port];
    if (s === undefined) s = names[port] = service(port, TABLES[t]!, false);
    return s;
  }

  private slot(): number {
    if (this.n === CHUNK_LINES) {
      this.full.push(this.lines());
      this.chunk();
    }
    return this.n++;
  }

  private added(): void {
    if (this.measure()) this.render();
  }

  /** the chunk being filled, as Lines */
  private lines(): Lines {
    const { n, kind, state, rq, wq, local, peer, sport, dport, inode } = this;
    return { n, kind, state, rq, wq, local, peer, sport, dport, inode };
  }

  /** a new chunk to fill */
  private chunk(): void {
    this.n = 0;
    this.kind = new Uint8Array(CHUNK_LINES);
    this.state = new Uint8Array(CHUNK_LINES);
    this.rq = new Uint32Array(CHUNK_LINES);
    this.wq = new Uint32Array(CHUNK_LINES);
    this.local = new Int32Array(CHUNK_LINES);
    this.peer = new Int32Array(CHUNK_LINES);
    this.sport = new Uint16Array(CHUNK_LINES);
    this.dport = new Uint16Array(CHUNK_LINES);
    this.inode = new Uint32Array(this.o.processes ? CHUNK_LINES : 0);
  }

  /**
   * Write what is buffered, as Table renders it: each shown column its
   * delimiter, then the token padded to the column's width (right-aligned:
   * the addresses). The cells of the few distinct tokens (states, tables,
   * address tokens) are made once per render as bytes; numbers are written
   * digit by digit.
   */
  render(): void {
    if (this.n === 0 && this.full.length === 0) return;
    const cols = this.layoutColumns();
    const cell = (c: number, text: string): string => Columns.cell(cols, cols.cols.indexOf(c), text);
    const bytes = (text: string) => Buffer.from(text, 'latin1');
    const lead = (c: number) => cols.delim[cols.cols.indexOf(c)]!.length;
    // a number column's width less its delimiter (0: unpadded)
    const inner = (c: number) => {
      const k = cols.cols.indexOf(c);
      return cols.width[k] ? cols.width[k]! - cols.delim[k]!.length : 0;
    };
    const netids = this.disabled[COL.NETID] ? null : TABLES.map((t) => bytes(cell(COL.NETID, t)));
    const states = this.stateShown ? SS_STATE.map((t) => bytes(cell(COL.STATE, t))) : null;
    const unknown = this.stateShown ? bytes(cell(COL.STATE, 'UNKNOWN')) : null;
    const locals: (Buffer | undefined)[] = [];
    const heads = new Map<number, Buffer>();
    const peers: (Buffer | undefined)[] = [];
    const tail = this.o.processes ? null : bytes((this.disabled[COL.PROC] ? '' : cell(COL.PROC, '')) + cell(COL.EXT, ''));
    const procExt = bytes(this.o.processes ? cell(COL.EXT, '') : '');
    const pk = cols.cols.indexOf(COL.PROC);
    const proc =
      this.o.processes && !this.disabled[COL.PROC] && pk >= 0 ? { delim: bytes(cols.delim[pk]!), width: cols.width[pk]!, right: cols.right[pk]! } : null;
    const rqLead = lead(COL.RECVQ),
      rqInner = inner(COL.RECVQ),
      wqLead = lead(COL.SENDQ),
      wqInner = inner(COL.SENDQ),
      spLead = lead(COL.SERV),
      spInner = inner(COL.SERV),
      dpLead = lead(COL.RSERV),
      dpInner = inner(COL.RSERV);
    // the longest a line can be before its PROC token: no token is longer than its column's measure
    let most = 32;
    for (let k = 0; k < cols.cols.length; k++) most += cols.width[k]! + this.maxLen[cols.cols[k]!]! + 1;
    const out = this.out;
    const chunks = this.full;
    chunks.push(this.lines());
    for (const c of chunks) {
      const { kind, state, rq: rqs, wq: wqs, local, peer, sport, dport, inode } = c;
      for (let i = 0; i < c.n; i++) {
        const t = kind[i]!;
        if (t === HEADER_LINE) {
          let line = '';
          for (const c of cols.cols) line += cell(c, HEADER[c]!);
          out.text(`${line}\n`);
          continue;
        }
        // the line in place: cells copied, numbers written digit by digit
        let p = out.reserve(most);
        const b = out.buffer;
        const l = local[i]!;
        const rq = rqs[i]!,
          wq = wqs[i]!;
        // Netid to Local Address of an idle socket repeat (a listener's address, a state): one cell
        const key = rq === 0 && wq === 0 ? (l * 256 + state[i]!) * 4 + t : -1;
        let head = key >= 0 ? heads.get(key) : undefined;
        if (head === undefined) {
          const from = p;
          if (netids) p = put(b, p, netids[t]!);
          if (states) p = put(b, p, states[state[i]!] ?? unknown!);
          p = queue(b, p, rq, rqLead, rqInner);
          p = queue(b, p, wq, wqLead, wqInner);
          p = put(b, p, locals[l] ?? (locals[l] = bytes(cell(COL.ADDR, this.tokens[l]!))));
          if (key >= 0) heads.set(key, (head = Buffer.from(b.subarray(from, p))));
        } else p = put(b, p, head);
        p = this.port(b, p, t, sport[i]!, spLead, spInner);
        const r = peer[i]!;
        p = put(b, p, peers[r] ?? (peers[r] = bytes(cell(COL.RADDR, this.tokens[r]!))));
        p = this.port(b, p, t, dport[i]!, dpLead, dpInner);
        if (tail) {
          p = put(b, p, tail);
          b[p++] = 0x0a;
          out.end(p);
        } else {
          // -p: users:(...) written in place as its column's cell, then EXT's
          if (proc) {
            const len = usersLength(this.o.owners, inode[i]!);
            out.end(p);
            p = out.reserve(proc.delim.length + len + proc.width + procExt.length + 1);
            const b = out.buffer;
            const room = proc.width ? proc.width - proc.delim.length - len : 0;
            p = put(b, p, proc.delim);
            if (proc.right) p = spaces(b, p, room);
            p = writeUsers(this.o.owners!, inode[i]!, b, p, len);
            if (!proc.right) p = spaces(b, p, room);
          }
          p = put(out.buffer, p, procExt);
          out.buffer[p++] = 0x0a;
          out.end(p);
        }
      }
    }
    out.flush();
    // the chunk being filled is filled again; the full ones go
    this.full = [];
    this.n = 0;
    this.reset();
  }

  /** a port at b[p]: '*' for 0, digits, or its service name (without -n), left-aligned; the position after it */
  private port(b: Buffer, p: number, t: number, port: number, lead: number, inner: number): number {
    if (lead) b[p++] = 0x20;
    const from = p;
    if (port === 0) b[p++] = STAR;
    else if (this.o.numeric) p = uint(b, p, port);
    else p += b.write(this.serviceText(t, port), p, 'latin1');
    return spaces(b, p, inner - (p - from));
  }
}

// writeUsers' place while owners.forEach visits
let usersBuf: Buffer;
let usersAt = 0;
let usersFirst = true;
const putUser = (pid: number, fd: number, comm: string): void => {
  const b = usersBuf;
  let p = usersAt;
  if (!usersFirst) b[p++] = 0x2c; // ,
  usersFirst = false;
  b[p++] = 0x28; // (
  b[p++] = 0x22; // "
  p += b.write(comm, p, 'latin1');
  p += b.write('",pid=', p, 'latin1');
  p = uint(b, p, pid);
  p += b.write(',fd=', p, 'latin1');
  p = uint(b, p, fd);
  b[p++] = 0x29; // )
  usersAt = p;
};

/** users(owners.get(inode)) at b[p], its length `len` (usersLength's; 0: nothing); the position after it */
function writeUsers(owners: Pick<Owners, 'forEach'>, inode: number, b: Buffer, p: number, len: number): number {
  if (len === 0) return p;
  p += b.write(' users:(', p, 'latin1');
  usersBuf = b;
  usersAt = p;
  usersFirst = true;
  owners.forEach(inode, putUser);
  b[usersAt] = 0x29; // )
  return usersAt + 1;
}

/** src copied to b at p; the position after it */
function put(b: Buffer, p: number, src: Uint8Array): number {
  const n = src.length;
  for (let i = 0; i < n; i++) b[p + i] = src[i]!;
  return p + n;
}

/** n spaces (none when n <= 0) */
function spaces(b: Buffer, p: number, n: number): number {
  for (let i = 0; i < n; i++) b[p++] = 0x20;
  return p;
}

/** "00" to "99": two digits a division */
const PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 0x30 + (i & 1 ? (i >> 1) % 10 : Math.floor((i >> 1) / 10)));

/** v in decimal */
function uint(b: Buffer, p: number, v: number): number {
  const end = p + digits(v);
  let q = end;
  while (v >= 100) {
    const d = Math.floor(v / 100);
    const r = 2 * (v - d * 100);
    b[--q] = PAIRS[r + 1]!;
    b[--q] = PAIRS[r]!;
    v = d;
  }
  if (v >= 10) {
    b[--q] = PAIRS[2 * v + 1]!;
    b[--q] = PAIRS[2 * v]!;
  } else b[--q] = 0x30 + v;
  return end;
}

/** Recv-Q or Send-Q: String(v).padEnd(6), in a column `inner` wide after its delimiter */
function queue(b: Buffer, p: number, v: number, lead: number, inner: number): number {
  if (lead) b[p++] = 0x20;
  const from = p;
  p = uint(b, p, v);
  const n = p - from;
  return spaces(b, p, Math.max(inner, n, 6) - n); // the token is max(6, n) long, the column at least that
}
