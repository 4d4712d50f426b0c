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
import { Columns, HEADER, inetAddr, type Layout } from './text.js';
import { LINES_WASM } from './lines-wasm.js';

const TABLES: readonly InetTable[] = ['tcp', 'udp', 'raw'];

interface Exports {
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
}

let compiled: WebAssembly.Module | null | undefined;

/** the compiled module, or null where WebAssembly is not there (node --jitless) or refuses it */
function module(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = typeof WebAssembly === 'object' ? new WebAssembly.Module(Buffer.from(LINES_WASM, 'base64')) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

export class WasmInetTable extends Columns implements DatagramReader {
  private readonly x: Exports;
  private memBuffer: ArrayBuffer | null = null;
  private rxView = Buffer.alloc(0);
  private badView = new Int32Array(0);
  private maxView = new Int32Array(0);
  private layoutView = new Int32Array(0);
  // the address tokens, numbered as the module numbers them
  private readonly tokenIds = new Map<string, number>();
  private tokens = 0;
  // the layout of the render under way (the header's cells)
  private cols: { cols: number[]; delim: string[]; width: number[]; right: boolean[] } | null = null;

  /** null where there is no WebAssembly: fast.ts lists then */
  static create(
    disabled: boolean[],
    write: (b: Buffer) => void,
    screenWidth: number | null,
    layout: Layout,
    ifname: (index: number) => string | undefined,
  ): WasmInetTable | null {
    const m = module();
    return m ? new WasmInetTable(m, disabled, write, screenWidth, layout, ifname) : null;
  }

  private constructor(
    m: WebAssembly.Module,
    disabled: boolean[],
    private readonly write: (b: Buffer) => void,
    screenWidth: number | null,
    layout: Layout,
    private readonly ifname: (index: number) => string | undefined,
  ) {
    super(disabled, screenWidth, layout, false);
    const env = {
      addr_token: (p: number, family: number, v6only: number, ifindex: number) => this.addressToken(p, family, v6only === 1, ifindex),
      // write keeps no buffer (stdoutSink): a view of the module's memory is enough
      write: (p: number, n: number) => this.write(Buffer.from(this.views(), p, n)),
      render: () => this.render(),
      header: () => this.header(),
    };
    this.x = new WebAssembly.Instance(m, { env }).exports as unknown as Exports;
    let hidden = 0;
    for (let c = 0; c < 10; c++) if (this.disabled[c]) hidden |= 1 << c;
    this.x.configure(hidden, this.held);
  }

  /** the views of the module's memory, made again when it has grown (which detaches the old buffer) */
  private views(): ArrayBuffer {
    const b = this.x.memory.buffer;
    if (b !== this.memBuffer) {
      this.memBuffer = b;
      this.rxView = Buffer.from(b, this.x.rx_ptr(), 65536);
      this.badView = new Int32Array(b, this.x.bad_ptr(), 2 * 4096);
      this.maxView = new Int32Array(b, this.x.maxlen_ptr(), 10);
      this.layoutView = new Int32Array(b, this.x.layout_ptr(), 41);
    }
    return b;
  }

  get rx(): Buffer {
    this.views();
    return this.rxView;
  }

  get bad(): Int32Array {
    this.views();
    return this.badView;
  }

  get badCount(): number {
    return this.x.bad_count();
  }

  get replies(): number {
    return this.x.replies();
  }

  datagram(n: number, seq: number, table: InetTable, split: boolean): number {
    return this.x.datagram(n, seq, TABLES.indexOf(table), split ? 1 : 0);
  }

  takeHeld(): void {
    this.x.held_lines();
  }

  /** the header line kept (written at its render) */
  headerLine(): void {
    this.x.header_line();
  }

  /** One socket read from /proc/net (netlink refused). */
  record(s: InetSocket): void {
    const v6only = s.family === 10 && s.v6only === 1;
    const name = s.ifindex ? this.ifname(s.ifindex) : undefined;
    const local = this.token(`${inetAddr(s.src, s.family, v6only)}${name ? `%${name}` : ''}:`);
    const peer = this.token(`${inetAddr(s.dst, s.family, v6only)}:`);
    this.x.add_line(TABLES.indexOf(s.table), s.state, s.rqueue, s.wqueue, local, s.sport, peer, s.dport);
  }

  /** the token of an address the module met first (fast.ts's addressToken) */
  private addressToken(p: number, family: number, v6only: boolean, ifindex: number): number {
    const b = Buffer.from(this.views(), p, 16);
    const text = inetAddr(family === 2 ? formatIPv4(b, 0) : formatIPv6(b, 0), family, v6only);
    const name = ifindex ? this.ifname(ifindex) : undefined;
    return this.token(name ? `${text}%${name}:` : `${text}:`);
  }

  private token(text: string): number {
    let id = this.tokenIds.get(text);
    if (id === undefined) {
      id = this.tokens++;
      this.tokenIds.set(text, id);
      const p = this.x.token_new(text.length);
      Buffer.from(this.views(), p, text.length).write(text, 'latin1');
    }
    return id;
  }

  /** Write what is kept in the columns laid out from the module's measures (Columns). */
  render(): void {
    if (this.x.lines_count() === 0) return;
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
    this.x.render_lines();
    this.cols = null;
    this.reset();
  }

  /** the header line in the render's columns */
  private header(): void {
    const cols = this.cols!;
    let line = '';
    for (let k = 0; k < cols.cols.length; k++) {
      const text = HEADER[cols.cols[k]!]!;
      const d = cols.delim[k]!,
        w = cols.width[k]!;
      const room = w ? w - d.length - text.length : 0;
      const pad = room > 0 ? ' '.repeat(room) : '';
      line += cols.right[k] ? d + pad + text : d + text + pad;
    }
    this.write(Buffer.from(`${line}\n`, 'latin1'));
  }
}
