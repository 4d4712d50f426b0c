// sockit daytime: RFC 867 over TCP and UDP, the book's first programs
// (UNP 1.2 daytimetcpcli, 1.5 daytimetcpsrv, 11.? udp versions).
import type net from 'node:net';
import { formatHostPort } from '../stack/index.js';
import {
  clientCommand, failure, runModes, serveTcp, serveUdp, serverCommand, tcpClient, udpClient,
  type ClientOptions, type ServerOptions,
} from './lib/clientserver.js';
import { errSys, familyFlag, jsonLine, parseArgs } from './common.js';

const DAYTIME = '13'; // RFC 867

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ctime(3) without its newline, in local time: "Thu Nov 21 11:40:32 2026". */
export function ctime(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
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
  return serveTcp({ ...o, idle: 10_000 }, (s: net.Socket) => {
    s.end(daytime());
    s.resume();
  });
}

async function client(argv: string[]): Promise<number> {
  const cmd = clientCommand('daytime client')
    .description('print what a daytime server sends')
    .option('--json', 'one JSON object with the reply, then a summary')
    .usage('[-u] [-t timeout] [-r retries] [--json] host [port]');
  if (!parseArgs(cmd, argv)) return 0;
  const o = cmd.opts<ClientOptions & { json?: boolean }>();
  const [host, service = DAYTIME] = cmd.args as [string, string?];
  const family = familyFlag(o, 'only one -4 or -6 option may be specified');
  const start = performance.now();
  let from: string;
  let text: Buffer;
  if (o.udp) {
    const c = await udpClient(host, service, family);
    try {
      // any datagram asks for the time; the book sends one byte
      text = await c.request(Buffer.alloc(1), { timeoutMs: o.timeout ?? 1000, retries: o.retries });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ETIMEDOUT') throw failure('socket timeout');
      throw failure(errSys(e));
    } finally {
      c.close();
    }
    from = formatHostPort(c.server);
  } else {
    const s = await tcpClient(host, service, o.timeout, family);
    from = `${s.remoteAddress?.includes(':') ? `[${s.remoteAddress}]` : s.remoteAddress}:${s.remotePort}`;
    text = await readAll(s);
  }
  if (o.json) {
    jsonLine({ type: 'reply', proto: o.udp ? 'udp' : 'tcp', from, text: text.toString('latin1') });
    jsonLine({ type: 'summary', bytes: text.length, time_ms: performance.now() - start });
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
    s.on('error', (e) => reject(failure(errSys(e, 'read'))));
  });
}
