// ss's text: the column model of iproute2 misc/ss.c (6.1, with the Process
// column of 6.8: see Layout). Every field is a
// token of a column; widths come from the longest token (the header's
// included) plus the column's left delimiter. On a pipe the columns are as
// compact as that; on a TTY the spare width of the terminal is spread over
// them (render_calc_width). Output is buffered as ss buffers it, and
// rendered when about 4 MiB of tokens have piled up (BUF_CHUNKS_MAX).
export const COL = { NETID: 0, STATE: 1, RECVQ: 2, SENDQ: 3, ADDR: 4, SERV: 5, RADDR: 6, RSERV: 7, PROC: 8, EXT: 9 } as const;
export const ALIGN_RIGHT = new Set<number>([COL.ADDR, COL.RADDR]);
export const LDELIM = ['', ' ', ' ', ' ', ' ', '', ' ', '', '', ''];
// The last column's header is never printed (print_header stops before it).
export const HEADER = ['Netid', 'State', 'Recv-Q', 'Send-Q', 'Local Address:', 'Port', 'Peer Address:', 'Port', 'Process', ''];

/**
 * Where "Process" goes. iproute2 6.1 numbered its columns EXT then PROC while
 * the headers read "Process" then "": the Process header sat over the EXT
 * column, printed with or without -p (glued to "Peer Address:Port" when the
 * port column is four wide, as with -l), and users:(...) shared EXT's token.
 * iproute2 6.8 (commits 1607bf53, 87d804ca) made PROC the ninth column, shown
 * only with -p, and EXT the last: that fixed layout is sockit's; '6.1'
 * reproduces the old one (SOCKIT_SS_LAYOUT=6.1, for comparing with ss 6.1).
 */
export type Layout = 'fixed' | '6.1';

/** A 1 MiB chunk less its header, and when ss renders (at the 5th chunk). */
const CHUNK = 1024 * 1024 - 16;
const RENDER_AT = 4 * CHUNK;

/**
 * ss's column bookkeeping, apart from how lines are kept: each line's token
 * lengths measured as ss measures them, when ss renders (RENDER_AT), and
 * the widths the render uses. Table keeps token strings; the fast listing
 * (fast.ts) keeps numbers and writes bytes.
 */
export abstract class Columns {
  protected readonly maxLen = new Array<number>(10).fill(0);
  private bytes = 0;
  protected readonly disabled: boolean[];
  // ss measures a field when it moves past it: the last written column of a
  // line is measured when the next line starts, so the final line's never is
  // before the render (fixed: EXT; 6.1: the token under "Process")
  protected readonly held: number;
  protected pending = 0;
  /** the token lengths of the line being added (measure() reads them) */
  protected readonly lens = new Int32Array(10);

  constructor(
    disabled: boolean[],
    protected readonly screenWidth: number | null,
    protected readonly layout: Layout = 'fixed',
    processes = false,
  ) {
    this.disabled = [...disabled];
    if (layout === 'fixed') this.disabled[COL.PROC] = !processes;
    this.held = layout === 'fixed' ? COL.EXT : COL.PROC;
  }

  abstract render(): void;

  /** Measure the line in `lens`; true when ss renders now (the caller renders). */
  protected measure(): boolean {
    const held = this.held;
    const maxLen = this.maxLen;
    const lens = this.lens;
    if (this.pending > maxLen[held]!) maxLen[held] = this.pending;
    let bytes = 0;
    for (let i = 0; i < 10; i++) {
      if (this.disabled[i]) continue;
      const n = lens[i]!;
      if (i !== held && n > maxLen[i]!) maxLen[i] = n;
      bytes += 2 + ((n + 1) & ~1);
    }
    this.pending = this.disabled[held] ? 0 : lens[held]!;
    return this.counted(bytes);
  }

  /** `bytes` more in ss's token buffer (2 and the even-rounded length per shown token): true when ss renders now. */
  protected counted(bytes: number): boolean {
    this.bytes += bytes;
    if (this.bytes < RENDER_AT) return false;
    // ss renders as it leaves a line's last column: 6.1's held token was
    // measured by then (the empty PROC came after it), the fixed EXT is not
    if (this.held !== COL.EXT && this.pending > this.maxLen[this.held]!) this.maxLen[this.held] = this.pending;
    this.pending = 0;
    return true;
  }

  /** After a render: nothing buffered, nothing measured. */
  protected reset(): void {
    this.bytes = 0;
    this.pending = 0;
    this.maxLen.fill(0);
  }

  /** The shown columns in order, each with its delimiter (none before the first), width and alignment. */
  protected layoutColumns(): { cols: number[]; delim: string[]; width: number[]; right: boolean[] } {
    const w = this.widths();
    const cols: number[] = [];
    for (let i = 0; i < 10; i++) if (!this.disabled[i]) cols.push(i);
    return {
      cols,
      delim: cols.map((c, k) => (k ? LDELIM[c]! : '')),
      width: cols.map((c) => w[c]!),
      right: cols.map((c) => ALIGN_RIGHT.has(c) && w[c]! > 0),
    };
  }

  /** Column k of a layout holding `text`: its delimiter and the text padded to the width (before it when right-aligned). */
  protected static cell(cols: { delim: string[]; width: number[]; right: boolean[] }, k: number, text: string): string {
    const d = cols.delim[k]!,
      w = cols.width[k]!;
    const room = w ? w - d.length - text.length : 0;
    const pad = room > 0 ? ' '.repeat(room) : '';
    return cols.right[k] ? d + pad + text : d + text + pad;
  }

  private widths(): number[] {
    const w = new Array<number>(10).fill(0);
    let first = true;
    for (let i = 0; i < 10; i++) {
      if (this.disabled[i]) continue;
      w[i] = !first && this.maxLen[i] ? this.maxLen[i] + LDELIM[i].length : this.maxLen[i];
      if (this.screenWidth !== null) w[i] = Math.min(w[i], this.screenWidth);
      if (w[i]) first = false;
    }
    if (this.screenWidth !== null) spread(w, this.screenWidth);
    return w;
  }
}

export class Table extends Columns {
  // each line's tokens, kept until the render (ss keeps its token buffer too): the
  // widths are the longest tokens of everything buffered
  private rows: string[][] = [];

  constructor(
    disabled: boolean[],
    private readonly write: (s: string) => void,
    screenWidth: number | null,
    layout: Layout = 'fixed',
    processes = false,
  ) {
    super(disabled, screenWidth, layout, processes);
  }

  header(): void {
    this.add(HEADER.slice());
  }

  /** One line's tokens: COL.PROC holds users:(...), COL.EXT the rest. */
  row(tokens: string[]): void {
    // 6.1 wrote users:(...) and the rest into the one token under "Process"
    if (this.layout === '6.1') tokens = [...tokens.slice(0, COL.PROC), tokens[COL.PROC]! + tokens[COL.EXT]!, ''];
    this.add(tokens);
  }

  private add(tokens: string[]): void {
    for (let i = 0; i < 10; i++) this.lens[i] = tokens[i]!.length;
    this.rows.push(tokens);
    if (this.measure()) this.render();
  }

  render(): void {
    if (this.rows.length === 0) return;
    const { cols, delim, width, right } = this.layoutColumns();
    const ncols = cols.length;
    let out = '';
    for (const t of this.rows) {
      let line = '';
      for (let k = 0; k < ncols; k++) {
        const tok = t[cols[k]!]!;
        const d = delim[k]!;
        const room = width[k]! - d.length - tok.length;
        // a right-aligned column pads before its token, the others after (a width of 0: no padding)
        if (room > 0 && width[k]) line += right[k] ? d + spaces(room) + tok : d + tok + spaces(room);
        else line += d + tok;
      }
      out += line + '\n';
      if (out.length >= WRITE_CHUNK) {
        this.write(out);
        out = '';
      }
    }
    if (out) this.write(out);
    this.rows = [];
    this.reset();
  }
}

const WRITE_CHUNK = 64 * 1024;
// every padding up to 256 made once: a slice this short would be a copy on each call
const PADDING = Array.from({ length: 257 }, (_, n) => ' '.repeat(n));
const spaces = (n: number): string => (n <= 256 ? PADDING[n]! : ' '.repeat(n));

/** render_calc_width's second pass: break lines at the screen width, spread the spare space. */
function spread(w: number[], screen: number): void {
  let len = 0,
    linecols = 0,
    eol = -1;
  for (let c = 0; c < 10; c++) {
    if (!w[c]) continue;
    linecols++;
    len += w[c];
    let last = true;
    for (let t = c + 1; t < 10; t++)
      if (w[t]) {
        last = false;
        break;
      }
    if (!last && len < screen) continue;
    if (len !== screen) {
      if (len > screen) {
        len -= w[c];
        c--;
        linecols--;
      }
      const pad = screen - len;
      const spacing = linecols ? Math.floor(pad / linecols) : 0;
      let rem = linecols ? pad % linecols : 0;
      for (let t = c; t > eol; t--) {
        if (!w[t]) continue;
        w[t] += spacing;
        if (rem) {
          w[t]++;
          rem--;
        }
      }
    }
    eol = c;
    len = 0;
    linecols = 0;
  }
}
