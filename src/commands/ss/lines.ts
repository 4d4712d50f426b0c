// ss's numeric inet listing without -p (ss -tan, -tln, -uan ...) in
// WebAssembly (lines.c): the sock_diag datagrams walked, checked, kept as
// lines of numbers, measured and rendered there, as fast.ts does in
// JavaScript. fast.ts's code runs its first thousands of sockets in V8's
// interpreter until its optimised code arrives, and that cold start is most
// of what a listing costs above Node's start and the kernel's walk; the
// module's code is compiled before the first socket. Here: the address
// tokens (formatted once per address), the column layout (Columns) and the
// header; the module calls back for them. The same bytes as fast.ts, which
// lists everything else and wherever WebAssembly is not there (--jitless).
import { formatIPv4, formatIPv6 } from '../../stack/packet/addr.js';
import type { DatagramReader, InetSocket, InetTable } from '../../stack/inventory/index.js';
import { Columns, HEADER, type Layout } from './columns.js';
import { inetAddr } from './text.js';
import { LINES_WASM } from './lines-wasm.js';
import { LiftoffOnly } from '../../cli/tiering.js';
import { RECV_BUFFER } from '../../stack/netlink/socket.js';
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN } from '../../stack/abi/netlink.js';

const TABLES: readonly InetTable[] = ['tcp', 'udp', 'raw'];

export interface Exports {
  memory: WebAssembly.Memory;
  token_new(n: number): number;
  configure(hidden: number, held: number): void;
  maxlen_ptr(): number;
  lines_count(): number;
  header_line(): void;
  add_line(kind: number, state: number, rq: number, wq: number, local: number, sport: number, peer: number, dport: number): void;
  rx_ptr(): number;
  bad_ptr(): number;
  bad_count(): number;
  replies(): number;
  datagram(n: number, seq: number, kind: number, split: number): number;
  held_lines(): void;
  layout_ptr(): number;
  render_lines(): void;
  netstat_configure(all: number, listening: number, wide: number): void;
  netstat_count(): number;
  netstat_flush(): void;
}

/** what the module asks of JavaScript (lines.c's IMPORTs) */
export interface Imports {
  /** the token of an address (16 bytes at p) the module met first */
  addr_token(p: number, family: number, v6only: number, ifindex: number): number;
  render(): void;
  header(): void;
}

/**
 * Whether a first datagram of n bytes holds the end of its dump (NLMSG_DONE
 * or an error), read from the headers alone: if not, more datagrams follow,
 * and the listing is long enough for TurboFan to start on the module.
 */
function endsDump(b: Buffer, n: number): boolean {
  for (let o = 0; o + NLMSG_HDRLEN <= n; ) {
    const len = b.readUInt32LE(o);
    const type = b.readUInt16LE(o + 4);
    if (len < NLMSG_HDRLEN || type === NLMSG_ERROR || type === NLMSG_DONE) return true; // or malformed
    o += (len + 3) & ~3;
  }
  return false;
}

/**
 * The module's instance, made on first need (with the first datagram,
 * which tells whether the listing is long: then on Liftoff alone,
 * LiftoffOnly; node:v8 costs a short run a few ms to load), the views of
 * its memory and the sock_diag datagrams it reads (a DatagramReader for
 * Inventory): ss's lines (WasmInetTable) and netstat's (netstat/lines.ts).
 */
export class LinesModule implements DatagramReader {
  private x: Exports | null = null;
  private memBuffer: ArrayBuffer | null = null;
  private rxView = Buffer.alloc(0);
  private badView = new Int32Array(0);
  /** the first datagram's buffer, until the module is made */
  private staging: Buffer | null = null;
  private readonly liftoff = new LiftoffOnly();

  /** null where there is no WebAssembly (node --jitless) */
  static create(imports: Imports, write: (b: Buffer) => void, init: (x: Exports) => void): LinesModule | null {
    return typeof WebAssembly === 'object' ? new LinesModule(imports, write, init) : null;
  }

  private constructor(
    private readonly imports: Imports,
    private readonly write: (b: Buffer) => void,
    private readonly init: (x: Exports) => void,
  ) {}

  /** the instance (made now if it is not yet: `long`, a listing of however many sockets) */
  exports(long: boolean): Exports {
    if (this.x) return this.x;
    if (long) this.liftoff.on();
    const env = {
      ...this.imports,
      // write keeps no buffer (stdoutSink): a view of the module's memory is enough
      write: (p: number, n: number) => this.write(Buffer.from(this.memory(), p, n)),
    };
    const m = new WebAssembly.Module(Buffer.from(LINES_WASM, 'base64'));
    this.x = new WebAssembly.Instance(m, { env }).exports as unknown as Exports;
    this.init(this.x);
    return this.x;
  }

  get made(): boolean {
    return this.x !== null;
  }

  /** the module's memory, its views made again when it has grown (which detaches the old buffer) */
  memory(): ArrayBuffer {
    const x = this.x!;
    const b = x.memory.buffer;
    if (b !== this.memBuffer) {
      this.memBuffer = b;
      this.rxView = Buffer.from(b, x.rx_ptr(), RECV_BUFFER);
      this.badView = new Int32Array(b, x.bad_ptr(), 2 * 4096);
    }
    return b;
  }

  /** the listing is over (V8's flags as they were) */
  close(): void {
    this.liftoff.restore();
  }

  get rx(): Buffer {
    if (!this.x) return (this.staging ??= Buffer.allocUnsafe(RECV_BUFFER));
    this.memory();
    return this.rxView;
  }

  get bad(): Int32Array {
    this.memory();
    return this.badView;
  }

  get badCount(): number {
    return this.x!.bad_count();
  }

  get replies(): number {
    return this.x!.replies();
  }

  datagram(n: number, seq: number, table: InetTable, split: boolean): number {
    if (!this.x) {
      this.exports(!endsDump(this.staging!, n));
      this.rx.set(this.staging!.subarray(0, n));
      this.staging = null;
    }
    return this.x!.datagram(n, seq, TABLES.indexOf(table), split ? 1 : 0);
  }

  takeHeld(): void {
    this.exports(false).held_lines();
  }
}

export class WasmInetTable extends Columns {
  /** the module (Inventory's DatagramReader for this listing) */
  readonly reader: LinesModule;
  private memBuffer: ArrayBuffer | null = null;
  private maxView = new Int32Array(0);
  private layoutView = new Int32Array(0);
  private headerPending = false;
  // the address tokens, numbered as the module numbers them
  private readonly tokenIds = new Map<string, number>();
  private tokens = 0;
  // the layout of the render under way (the header's cells)
  private cols: { cols: number[]; delim: string[]; width: number[]; right: boolean[] } | null = null;

  /** null where there is no WebAssembly (node --jitless): fast.ts lists then */
  static create(
    disabled: boolean[],
    write: (b: Buffer) => void,
    screenWidth: number | null,
    layout: Layout,
    ifname: (index: number) => string | undefined,
  ): WasmInetTable | null {
    return typeof WebAssembly === 'object' ? new WasmInetTable(disabled, write, screenWidth, layout, ifname) : null;
  }

  private constructor(
    disabled: boolean[],
    private readonly write: (b: Buffer) => void,
    screenWidth: number | null,
    layout: Layout,
    private readonly ifname: (index: number) => string | undefined,
  ) {
    super(disabled, screenWidth, layout, false);
    const imports: Imports = {
      addr_token: (p, family, v6only, ifindex) => this.addressToken(p, family, v6only === 1, ifindex),
      render: () => this.render(),
      header: () => this.header(),
    };
    this.reader = LinesModule.create(imports, write, (x) => {
      let hidden = 0;
      for (let c = 0; c < 10; c++) if (this.disabled[c]) hidden |= 1 << c;
      x.configure(hidden, this.held);
      if (this.headerPending) x.header_line();
    })!;
  }

  /** the listing is over (V8's flags as they were) */
  close(): void {
    this.reader.close();
  }

  /** the views of the module's memory that ss's render reads */
  private views(): ArrayBuffer {
    const b = this.reader.memory();
    if (b !== this.memBuffer) {
      const x = this.reader.exports(false);
      this.memBuffer = b;
      this.maxView = new Int32Array(b, x.maxlen_ptr(), 10);
      this.layoutView = new Int32Array(b, x.layout_ptr(), 41);
    }
    return b;
  }

  /** the header line kept (written at its render) */
  headerLine(): void {
    if (this.reader.made) this.reader.exports(false).header_line();
    else this.headerPending = true;
  }

  /** One socket read from /proc/net (netlink refused). */
  record(s: InetSocket): void {
    const x = this.reader.exports(true); // /proc/net: however many
    const v6only = s.family === 10 && s.v6only === 1;
    const name = s.ifindex ? this.ifname(s.ifindex) : undefined;
    const local = this.token(`${inetAddr(s.src, s.family, v6only)}${name ? `%${name}` : ''}:`);
    const peer = this.token(`${inetAddr(s.dst, s.family, v6only)}:`);
    x.add_line(TABLES.indexOf(s.table), s.state, s.rqueue, s.wqueue, local, s.sport, peer, s.dport);
  }

  /** the token of an address the module met first (fast.ts's addressToken) */
  private addressToken(p: number, family: number, v6only: boolean, ifindex: number): number {
    const b = Buffer.from(this.reader.memory(), p, 16);
    const text = inetAddr(family === 2 ? formatIPv4(b, 0) : formatIPv6(b, 0), family, v6only);
    const name = ifindex ? this.ifname(ifindex) : undefined;
    return this.token(name ? `${text}%${name}:` : `${text}:`);
  }

  private token(text: string): number {
    let id = this.tokenIds.get(text);
    if (id === undefined) {
      id = this.tokens++;
      this.tokenIds.set(text, id);
      const p = this.reader.exports(false).token_new(text.length);
      Buffer.from(this.reader.memory(), p, text.length).write(text, 'latin1');
    }
    return id;
  }

  /** Write what is kept in the columns laid out from the module's measures (Columns). */
  render(): void {
    const x = this.reader.exports(false); // a header with no socket
    if (x.lines_count() === 0) return;
    this.views();
    for (let c = 0; c < 10; c++) this.maxLen[c] = this.maxView[c]!;
    const cols = (this.cols = this.layoutColumns());
    const l = this.layoutView;
    l[0] = cols.cols.length;
    for (let k = 0; k < cols.cols.length; k++) {
      l[1 + 4 * k] = cols.cols[k]!;
      l[2 + 4 * k] = cols.delim[k]!.length;
      l[3 + 4 * k] = cols.width[k]!;
      l[4 + 4 * k] = cols.right[k] ? 1 : 0;
    }
    x.render_lines();
    this.cols = null;
    this.reset();
  }

  /** the header line in the render's columns */
  private header(): void {
    const cols = this.cols!;
    let line = '';
    for (let k = 0; k < cols.cols.length; k++) line += Columns.cell(cols, k, HEADER[cols.cols[k]!]!);
    this.write(Buffer.from(`${line}\n`, 'latin1'));
  }
}
