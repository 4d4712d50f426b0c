// sockit echo: the book's echo server and client. TCP: str_echo and str_cli
// (UNP 5.3, 5.5, 6.7); UDP: dg_echo and dg_cli (8.3, 8.6, 8.8, 14.2).
import type net from 'node:net';
import type { Readable } from 'node:stream';
import type { UdpClient } from '../stack/index.js';
import { jsonLine, jsonText, type JsonRecord } from '../output/index.js';
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
} from './lib/clientserver.js';
import { errSys, familyFlag, parseArgs, secondsArg } from './common.js';

const SERV_PORT = '9877'; // unp.h
const MAXLINE = 4096; // unp.h: fgets reads at most MAXLINE-1 bytes

export async function run(argv: string[]): Promise<number> {
  return runModes(argv, 'echo', "The book's echo server and client (UNP chapters 5, 6 and 8), TCP or UDP (-u).", { server, client });
}

// ---------- server ----------

async function server(argv: string[]): Promise<number> {
  const cmd = serverCommand('echo server', Number(SERV_PORT))
    .description('echo every byte back: a concurrent TCP server, or a UDP server answering each datagram')
    .option('-t, --idle <sec>', 'close a TCP connection idle this long', secondsArg('idle timeout', 0.001, 86400))
    .usage('[-u] [-p port] [-b addr] [-t idle] [-v] [--json]');
  if (!parseArgs(cmd, argv)) return 0;
  const o = cmd.opts<ServerOptions>();
  if (o.udp) return serveUdp(o, (msg, reply) => reply(msg)); // dg_echo
  // str_echo: each read written straight back; what the kernel cannot take at
  // once waits, and so does reading that connection, so the kernel's windows
  // (not our memory) hold the rest. The peer's EOF ends our side once sent.
  return serveTcp(o, { direct: { data: (conn, buf, n) => conn.write(buf, 0, n) } });
}

// ---------- client ----------

async function client(argv: string[]): Promise<number> {
  const cmd = clientCommand('echo client')
    .description('copy standard input to an echo server and its replies to standard output')
    .usage('[-u] [-4|-6] [-t timeout] [-r retries] [--json] host [port]');
  if (!parseArgs(cmd, argv)) return 0;
  const o = cmd.opts<ClientOptions>();
  checkClient(o);
  const [host, service = SERV_PORT] = cmd.args as [string, string?];
  const family = familyFlag(o, 'only one -4 or -6 option may be specified');
  const json = o.json === true;
  if (o.udp) {
    const c = await udpClient(host, service, family, json);
    try {
      return await dgCli(process.stdin, c, o);
    } finally {
      c.close();
    }
  }
  const start = performance.now();
  const { socket, record } = await tcpClient(host, service, o.timeout, family);
  if (json) jsonLine(record);
  const code = await strCli(process.stdin, socket, json);
  if (json) {
    jsonLine({
      type: 'summary',
      proto: 'tcp',
      bytes_out: socket.bytesWritten,
      bytes_in: socket.bytesRead,
      time_ms: performance.now() - start,
      exit_code: code,
    });
  }
  return code;
}

/** Write a record, waiting while stdout is full (the socket is paused meanwhile). */
function writeRecord(r: JsonRecord, sock: net.Socket): void {
  if (!process.stdout.write(jsonText(r))) {
    sock.pause();
    process.stdout.once('drain', () => sock.resume());
  }
}

/**
 * UNP 6.7 str_cli: stdin to the socket and the socket to stdout at once; at
 * EOF on stdin shutdown(SHUT_WR) and keep reading until the server's EOF.
 * An EOF from the server before ours is "server terminated prematurely".
 * With --json each read from the server is a `reply` record.
 */
function strCli(input: Readable, sock: net.Socket, json: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdinEof = false;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      input.unpipe(sock);
      input.destroy();
      sock.destroy();
      if (err) reject(err);
      else resolve(0);
    };
    const errorRecord = (kind: string, e: NodeJS.ErrnoException | null, message: string): JsonRecord => ({
      type: 'error',
      kind,
      proto: 'tcp',
      code: e?.code ?? null,
      message,
    });
    input.once('end', () => (stdinEof = true));
    input.on('error', (e) => finish(failure(errSys(e, 'read'), errorRecord('read', e, errSys(e, 'read')))));
    input.pipe(sock); // ends the socket at EOF: shutdown(SHUT_WR)
    if (json) sock.on('data', (b: Buffer) => writeRecord({ type: 'reply', proto: 'tcp', bytes: b.length, text: b.toString('latin1') }, sock));
    else sock.pipe(process.stdout, { end: false });
    const premature = 'str_cli: server terminated prematurely';
    sock.on('end', () => finish(stdinEof ? undefined : failure(premature, errorRecord('read', null, premature))));
    sock.on('error', (e) => finish(failure(errSys(e), errorRecord('system', e, errSys(e)))));
    process.stdout.on('error', (e) => finish(failure(errSys(e, 'write'))));
  });
}

/** fgets(3) over a stream: lines of at most max-1 bytes, newline kept; the tail without one too. */
async function* fgets(input: Readable, max: number): AsyncGenerator<Buffer> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of input as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const nl = pending.indexOf(10, start);
      const end = nl >= 0 && nl - start < max - 1 ? nl + 1 : pending.length - start >= max - 1 ? start + max - 1 : -1;
      if (end < 0) break;
      yield pending.subarray(start, end);
      start = end;
    }
    pending = pending.subarray(start);
  }
  if (pending.length) yield pending;
}

/**
 * UNP 8.6 dg_cli with 8.8's check of the reply's sender and 14.2's
 * timeout: a datagram a line, each answered before the next is sent.
 * With --json each answer is a `reply` record (its round trip in time_ms).
 */
async function dgCli(input: Readable, c: UdpClient, o: ClientOptions): Promise<number> {
  const totals = { requests: 0, replies: 0, retransmits: 0, bytes_out: 0, bytes_in: 0 };
  const start = performance.now();
  let sent = 0;
  c.on('retransmit', () => {
    sent++;
    totals.retransmits++;
  });
  for await (const line of fgets(input, MAXLINE)) {
    let reply: Buffer;
    totals.requests++;
    totals.bytes_out += line.length;
    sent = 1;
    const sentAt = performance.now();
    try {
      // an echo reply is the request itself: anything else from the server is a late duplicate
      reply = await c.request(line, { timeoutMs: o.timeout ?? 1000, retries: o.retries, accept: (r) => r.equals(line) });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ETIMEDOUT') throw udpTimeout('dg_cli: socket timeout', c, sent);
      throw failure(errSys(e), { type: 'error', kind: 'system', proto: 'udp', code: (e as NodeJS.ErrnoException).code ?? null, message: errSys(e) });
    }
    totals.replies++;
    totals.bytes_in += reply.length;
    const out = o.json
      ? jsonText({
          type: 'reply',
          proto: 'udp',
          seq: totals.requests,
          remote: endOf(c.server),
          bytes: reply.length,
          sent,
          time_ms: performance.now() - sentAt,
          text: reply.toString('latin1'),
        })
      : reply;
    if (!process.stdout.write(out)) await new Promise((r) => process.stdout.once('drain', r));
  }
  if (o.json) jsonLine({ type: 'summary', proto: 'udp', ...totals, time_ms: performance.now() - start, exit_code: 0 });
  return 0;
}
