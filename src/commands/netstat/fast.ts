// netstat's Internet lines with numeric hosts (-n, --numeric-hosts) and no
// -o, written as bytes straight from each sock_diag reply: no record and no
// string per socket (addresses and port names are made once each). The
// same printf widths as inetLine; finish() adds -ee's and -p's columns.
// With numeric ports too and neither -ee nor -p, lines.ts writes the same
// bytes from WebAssembly; this is the path for the rest, and where there is
// no WebAssembly (node --jitless).
import { AddressTexts, type InetTable } from '../../stack/inventory/index.js';
import { INET_DIAG_MSG as M } from '../../stack/abi/sock_diag.js';
import { type ByteLines, digits } from '../../output/bytes.js';
import { TCP_STATES } from '../../stack/structs.js';
import { endpoint, finish, numericHost, portName, udpState, type Flags } from './text.js';

const LISTEN = 10;
const COLON = 0x3a;
const ENDPOINT_WIDTH = 23;
const ENDPOINT_SHORT = 22; // addr_do_one cuts "addr:port" to this without -W

export class InetLines {
  private readonly addrs = new AddressTexts();
  // numericHost() of each address id, when made
  private readonly hosts: string[] = [];
  private readonly ports = new Map<string, string[]>();

  constructor(
    private readonly out: ByteLines,
    private readonly f: Flags,
    private readonly program: (inode: number) => string | undefined,
  ) {}

  /** One inet_diag_msg (checked) of `table`: its line, when netstat shows the socket (true). */
  message(b: Buffer, o: number, table: InetTable, label: string): boolean {
    const family = b[o + M.FAMILY]!;
    const state = b[o + M.STATE]!;
    const dport = b.readUInt16BE(o + M.DPORT);
    if (!this.f.all && this.remote(b, o, family, table, dport) === this.f.listening) return false;
    const out = this.out;
    const rq = b.readUInt32LE(o + M.RQUEUE);
    // /proc/net/tcp's tx_queue of a listener is write_seq - snd_una (0); sock_diag reports the backlog limit
    const wq = table === 'tcp' && state === LISTEN ? 0 : b.readUInt32LE(o + M.WQUEUE);
    out.text(label);
    out.spaces((table === 'udp' ? 5 : 4) - label.length);
    out.spaces(table === 'udp' ? 1 : 2);
    out.spaces(6 - digits(rq));
    out.uint(rq);
    out.byte(0x20);
    out.spaces(6 - digits(wq));
    out.uint(wq);
    out.byte(0x20);
    this.endpoint(this.addrs.id(b, o + M.SRC, family), b.readUInt16BE(o + M.SPORT), table);
    out.byte(0x20);
    this.endpoint(this.addrs.id(b, o + M.DST, family), dport, table);
    out.byte(0x20);
    const st = table === 'tcp' ? (TCP_STATES[state] ?? '') : table === 'udp' ? udpState(state) : String(state);
    out.text(st);
    out.spaces(11 - st.length);
    if (this.f.extend > 1 || this.f.programs) {
      const inode = b.readUInt32LE(o + M.INODE);
      out.text(finish(this.f, b.readUInt32LE(o + M.UID), inode, this.f.programs ? this.program(inode) : undefined, ''));
    } else out.byte(0x0a);
    return true;
  }

  /** tcp_do_one: a remote port; udp_do_one, raw_do_one: a remote address */
  private remote(b: Buffer, o: number, family: number, table: InetTable, dport: number): boolean {
    if (table === 'tcp') return dport !== 0;
    const end = o + M.DST + (family === 2 ? 4 : 16);
    for (let p = o + M.DST; p < end; p++) if (b[p] !== 0) return true;
    return false;
  }

  /** addr_do_one's "addr:port", padded to 23 (%-23s) */
  private endpoint(id: number, port: number, table: InetTable): void {
    const out = this.out;
    let host = this.hosts[id];
    if (host === undefined) host = this.hosts[id] = numericHost(this.addrs.texts[id]!);
    const numeric = this.f.numericPorts && port !== 0;
    const name = numeric ? '' : this.portText(port, table);
    const portLen = numeric ? digits(port) : name.length;
    if (!this.f.wide && host.length + portLen > ENDPOINT_SHORT) {
      const e = endpoint(host, numeric ? String(port) : name, false, ENDPOINT_SHORT);
      out.text(e);
      out.spaces(ENDPOINT_WIDTH - e.length);
      return;
    }
    out.text(host);
    out.byte(COLON);
    if (!numeric) out.text(name);
    else out.uint(port);
    out.spaces(ENDPOINT_WIDTH - host.length - 1 - portLen);
  }

  /** get_sname without -n ('*' for 0), made once per port */
  private portText(port: number, table: InetTable): string {
    if (port === 0) return '*';
    let names = this.ports.get(table);
    if (!names) this.ports.set(table, (names = []));
    return (names[port] ??= portName(port, table, this.f.numericPorts));
  }
}
