// sockit daytime: RFC 867 over TCP and UDP, the book's first programs
// (UNP 1.2 daytimetcpcli, 1.5 daytimetcpsrv; over UDP any datagram asks).
import type net from 'node:net';
import {
  checkClient,
  clientCommand,
  endOf,
  failure,
  runModes,
  serveTcp,
  serveUdp,
  serverCommand,
  tcpClient,
  udpClient,
  udpTimeout,
  type ClientOptions,
  type ServerOptions,
  type SocketEnd,
} from './lib/clientserver.js';
import { errSys, familyFlag, jsonLine, parseArgs } from './common.js';

const DAYTIME = '13'; // RFC 867

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ctime(3) without its newline, in local time: "Thu Nov 21 11:40:32 2026". */
export function ctime(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`
  );
}

/** What the book's daytime server writes: "%.24s\r\n" of ctime(). */
function daytime(): string {
  return `${ctime(new Date()).slice(0, 24)}\r\n`;
}

export async function run(argv: string[]): Promise<number> {
  return runModes(argv, 'daytime', 'RFC 867 daytime server and client (UNP 1.2, 1.5), TCP or UDP (-u).', { server, client });
}

async function server(argv: string[]): Promise<number> {
  const cmd = serverCommand('daytime server', Number(DAYTIME))
    .description('send the time of day to every client (a TCP connection, or any UDP datagram) and close')
    .usage('[-u] [-p port] [-b addr] [-v] [--json]');
  if (!parseArgs(cmd, argv)) return 0;
  const o = cmd.opts<ServerOptions>();
  if (o.udp) return serveUdp(o, (_msg, reply) => reply(daytime()));
  // write, then close; what a client sends is read and dropped, and one that
  // never closes its side is let go after a while
  return serveTcp(
    { ...o, idle: 10_000 },
    {
      handler: (s: net.Socket) => {
        s.end(daytime());
        s.resume();
      },
    },
  );
}

async function client(argv: string[]): Promise<number> {
  const cmd = clientCommand('daytime client')
    .description('print what a daytime server sends')
    .usage('[-u] [-4|-6] [-t timeout] [-r retries] [--json] host [port]');
  if (!parseArgs(cmd, argv)) return 0;
  const o = cmd.opts<ClientOptions>();
  checkClient(o);
  const [host, service = DAYTIME] = cmd.args as [string, string?];
  const family = familyFlag(o, 'only one -4 or -6 option may be specified');
  const json = o.json === true;
  let remote: SocketEnd | null;
  let text: Buffer;
  let start: number;
  if (o.udp) {
    const c = await udpClient(host, service, family, json);
    let sent = 1;
    c.on('retransmit', () => sent++);
    start = performance.now();
    try {
      // any datagram asks for the time; the book sends one byte
      text = await c.request(Buffer.alloc(1), { timeoutMs: o.timeout ?? 1000, retries: o.retries });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ETIMEDOUT') throw udpTimeout('socket timeout', c, sent);
      throw failure(errSys(e), { type: 'error', kind: 'system', code: (e as NodeJS.ErrnoException).code ?? null, message: errSys(e) });
    } finally {
      c.close();
    }
    remote = endOf(c.server);
  } else {
    start = performance.now();
    const { socket, record } = await tcpClient(host, service, o.timeout, family);
    if (json) jsonLine(record);
    remote = record.remote as SocketEnd;
    text = await readAll(socket);
  }
  const timeMs = performance.now() - start;
  const proto = o.udp ? 'udp' : 'tcp';
  if (json) {
    // RFC 867: the reply is ASCII; Latin-1 keeps any other byte as one character
    jsonLine({ type: 'reply', proto, remote, bytes: text.length, text: text.toString('latin1'), time_ms: timeMs });
    jsonLine({ type: 'summary', proto, bytes: text.length, time_ms: timeMs, exit_code: 0 });
  } else {
    process.stdout.write(text);
  }
  return 0;
}

/** Read to EOF (UNP 1.2: loop on read until it returns 0). */
function readAll(s: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (b: Buffer) => chunks.push(b));
    s.on('end', () => {
      s.destroy();
      resolve(Buffer.concat(chunks));
    });
    s.on('error', (e: NodeJS.ErrnoException) =>
      reject(failure(errSys(e, 'read'), { type: 'error', kind: 'read', code: e.code ?? null, message: errSys(e, 'read') })),
    );
  });
}
