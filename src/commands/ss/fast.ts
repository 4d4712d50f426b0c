// ss's listing of inet sockets in its default formats (-t -u -w with -a,
// -l, -n, -p, -4, -6, -H; no filter and no -e -o -m -i), made without a
// record per socket: each line is read from the sock_diag reply into a few
// numbers (state, queues, ports, numbered addresses), measured as Table
// measures tokens, and written as bytes at ss's render. Same columns,
// widths and render points as Table, so the same bytes; memory holds
// about 30 bytes a line until the render, less than the line itself.
import { AddressTexts, type InetSocket, type InetTable, type Owner } from '../../stack/inventory/index.js';
import { INET_DIAG_MSG as M, inetDiagV6only } from '../../stack/abi/sock_diag.js';
import { ByteLines, digits } from '../../output/bytes.js';
import { COL, Columns, HEADER, SS_STATE, inetAddr, service, users, type Layout } from './text.js';

const TABLES: readonly InetTable[] = ['tcp', 'udp', 'raw'];
const HEADER_LINE = 255;
const STAR = 0x2a;

export interface FastOptions {
  numeric: boolean;
  processes: boolean;
  owners?: { get(inode: number): Owner[] | undefined };
  ifname(index: number): string | undefined;
}

export class FastInetTable extends Columns {
  private n = 0;
  // one entry per buffered line (HEADER_LINE in kind: the header)
  private kind = new Uint8Array(1024);
  private state = new Uint8Array(1024);
  private rq = new Uint32Array(1024);
  private wq = new Uint32Array(1024);
  private local = new Int32Array(1024);
  private peer = new Int32Array(1024);
  private sport = new Uint16Array(1024);
  private dport = new Uint16Array(1024);
  private proc: string[] = [];
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
    this.out = new ByteLines(write);
  }

  header(): void {
    const i = this.slot();
    this.kind[i] = HEADER_LINE;
    for (let c = 0; c < 10; c++) this.lens[c] = HEADER[c]!.length;
    this.added();
  }

  /** One inet_diag_msg (checked) of `table`, read where it lies. */
  message(b: Buffer, o: number, end: number, table: InetTable): void {
    const family = b[o + M.FAMILY]!;
    const v6only = family === 10 && inetDiagV6only(b, o, end) === 1;
    const ifindex = b.readUInt32LE(o + M.IF);
    const src = this.addrs.id(b, o + M.SRC, family);
    const dst = this.addrs.id(b, o + M.DST, family);
    this.line(
      table,
      b[o + M.STATE]!,
      b.readUInt32LE(o + M.RQUEUE),
      b.readUInt32LE(o + M.WQUEUE),
      this.addressToken(src, family, v6only, ifindex),
      b.readUInt16BE(o + M.SPORT),
      this.addressToken(dst, family, v6only, 0),
      b.readUInt16BE(o + M.DPORT),
      b.readUInt32LE(o + M.INODE),
    );
  }

  /** One socket read from /proc/net (netlink refused). */
  record(s: InetSocket): void {
    const v6only = s.family === 10 && s.v6only === 1;
    this.line(
      s.table,
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

  private line(table: InetTable, state: number, rq: number, wq: number, local: number, sport: number, peer: number, dport: number, inode: number): void {
    const i = this.slot();
    const t = TABLES.indexOf(table);
    this.kind[i] = t;
    this.state[i] = state;
    this.rq[i] = rq;
    this.wq[i] = wq;
    this.local[i] = local;
    this.sport[i] = sport;
    this.peer[i] = peer;
    this.dport[i] = dport;
    if (this.o.processes) this.proc[i] = users(this.o.owners?.get(inode));
    for (let c = 0; c < this.lens.length; c++) this.lens[c] = this.length(i, c);
    this.added();
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

  private serviceLength(t: number, port: number): number {
    if (port === 0) return 1;
    return this.o.numeric ? digits(port) : this.serviceText(t, port).length;
  }

  private slot(): number {
    if (this.n === this.kind.length) this.grow();
    return this.n++;
  }

  private added(): void {
    if (this.measure()) this.render();
  }

  private grow(): void {
    const n = this.kind.length * 2;
    const more = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(n);
      b.set(a);
      return b;
    };
    this.kind = more(this.kind, Uint8Array);
    this.state = more(this.state, Uint8Array);
    this.rq = more(this.rq, Uint32Array);
    this.wq = more(this.wq, Uint32Array);
    this.local = more(this.local, Int32Array);
    this.peer = more(this.peer, Int32Array);
    this.sport = more(this.sport, Uint16Array);
    this.dport = more(this.dport, Uint16Array);
  }

  render(): void {
    if (this.n === 0) return;
    const { cols, delim, width, right } = this.layoutColumns();
    const out = this.out;
    for (let i = 0; i < this.n; i++) {
      const header = this.kind[i] === HEADER_LINE;
      for (let k = 0; k < cols.length; k++) {
        const c = cols[k]!;
        const d = delim[k]!;
        const len = header ? HEADER[c]!.length : this.length(i, c);
        const room = width[k]! - d.length - len;
        if (d) out.byte(0x20); // every delimiter is one space
        if (room > 0 && width[k] && right[k]) out.spaces(room);
        if (header) out.text(HEADER[c]!);
        else this.writeToken(i, c);
        if (room > 0 && width[k] && !right[k]) out.spaces(room);
      }
      out.byte(0x0a);
    }
    out.flush();
    this.n = 0;
    this.proc = [];
    this.reset();
  }

  private length(i: number, c: number): number {
    switch (c) {
      case COL.NETID:
        return 3;
      case COL.STATE:
        return (SS_STATE[this.state[i]!] ?? 'UNKNOWN').length;
      case COL.RECVQ:
        return Math.max(6, digits(this.rq[i]!));
      case COL.SENDQ:
        return Math.max(6, digits(this.wq[i]!));
      case COL.ADDR:
        return this.tokens[this.local[i]!]!.length;
      case COL.SERV:
        return this.serviceLength(this.kind[i]!, this.sport[i]!);
      case COL.RADDR:
        return this.tokens[this.peer[i]!]!.length;
      case COL.RSERV:
        return this.serviceLength(this.kind[i]!, this.dport[i]!);
      case COL.PROC:
        return this.o.processes ? this.proc[i]!.length : 0;
      default:
        return 0;
    }
  }

  private writeToken(i: number, c: number): void {
    const out = this.out;
    switch (c) {
      case COL.NETID:
        out.text(TABLES[this.kind[i]!]!);
        return;
      case COL.STATE:
        out.text(SS_STATE[this.state[i]!] ?? 'UNKNOWN');
        return;
      case COL.RECVQ:
      case COL.SENDQ: {
        const v = c === COL.RECVQ ? this.rq[i]! : this.wq[i]!;
        out.uint(v);
        out.spaces(6 - digits(v)); // String(n).padEnd(6)
        return;
      }
      case COL.ADDR:
        out.text(this.tokens[this.local[i]!]!);
        return;
      case COL.RADDR:
        out.text(this.tokens[this.peer[i]!]!);
        return;
      case COL.SERV:
      case COL.RSERV: {
        const port = c === COL.SERV ? this.sport[i]! : this.dport[i]!;
        if (port === 0) out.byte(STAR);
        else if (this.o.numeric) out.uint(port);
        else out.text(this.serviceText(this.kind[i]!, port));
        return;
      }
      case COL.PROC:
        if (this.o.processes) out.text(this.proc[i]!);
        return;
    }
  }
}
