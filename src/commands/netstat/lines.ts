// netstat's numeric Internet lines (netstat -tan, -tuln, -an ...: numeric
// hosts and ports, no -e -e, -p or -o) in the WebAssembly module of ss's
// lines (ss/lines.c, netstat_configure): each shown socket's line is written
// as the module walks the sock_diag datagram that holds it. fast.ts writes
// the same bytes in JavaScript, whose first thousands of sockets run in
// V8's interpreter until the optimised code arrives; the module's code is
// compiled before the first socket. Here: the address texts (numericHost,
// made once per address), which the module asks for as it meets them.
import { formatIPv4, formatIPv6 } from '../../stack/packet/addr.js';
import { LinesModule } from '../ss/lines.js';
import { numericHost, type Flags } from './text.js';

export class WasmInetLines {
  /** the module (Inventory's DatagramReader for this listing) */
  readonly reader: LinesModule;
  private tokens = 0;

  /** null where there is no WebAssembly (node --jitless) or the flags want more than numbers: fast.ts lists then */
  static create(f: Flags, write: (b: Buffer) => void): WasmInetLines | null {
    if (!f.numericHosts || !f.numericPorts || f.programs || f.timers || f.extend > 1) return null;
    return typeof WebAssembly === 'object' ? new WasmInetLines(f, write) : null;
  }

  private constructor(f: Flags, write: (b: Buffer) => void) {
    const none = () => {
      throw new Error('netstat lines: the module rendered ss columns');
    };
    this.reader = LinesModule.create({ addr_token: (p, family) => this.addressToken(p, family), render: none, header: none }, write, (x) =>
      x.netstat_configure(f.all ? 1 : 0, f.listening ? 1 : 0, f.wide ? 1 : 0),
    )!;
  }

  /** the lines written (those of sockets netstat shows) */
  get count(): number {
    return this.reader.made ? this.reader.exports(false).netstat_count() : 0;
  }

  /** the lines the module holds written out */
  flush(): void {
    if (this.reader.made) this.reader.exports(false).netstat_flush();
  }

  /** the listing is over (V8's flags as they were) */
  close(): void {
    this.reader.close();
  }

  /** a token of the address at p (4 bytes for family 2, 16 for 10): INET_sprint / INET6_sprint with -n */
  private addressToken(p: number, family: number): number {
    const b = Buffer.from(this.reader.memory(), p, 16);
    const text = numericHost(family === 2 ? formatIPv4(b, 0) : formatIPv6(b, 0));
    const x = this.reader.exports(false);
    Buffer.from(this.reader.memory(), x.token_new(text.length), text.length).write(text, 'latin1');
    return this.tokens++;
  }
}
