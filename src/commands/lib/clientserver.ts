// What the book's client/server commands (echo, daytime) share: the server's
// options and its run-until-signalled loop, and the client's way of finding
// and reaching the server. Not a command itself.
import type net from 'node:net';
import type { Command } from 'commander';
import type * as Stack from '../../stack/index.js';
import type { ConnectionEnd, Datagram, Family, InetSockAddr, Peer, SockAddr, TcpServer, TcpServerOptions, UdpClient } from '../../stack/index.js';
import { addressFamily } from '../../stack/packet/addr.js';
import { jsonLine, renderer, type JsonRecord, type Presenter } from '../../output/index.js';
import { errSys, Failure, intArg, isResolveError, makeCommand, onTerminate, readingTables, runMain, secondsArg, strerrorOf, UsageError } from '../common.js';

/** The socket core (and its native addon), loaded once the options are parsed: -h and usage errors work without it. */
export const loadCore = (): Promise<typeof Stack> => import('../../stack/index.js');

/** A socket's end as sockit(1) JSON OUTPUT names it: {"family": 4, "address": "192.0.2.1", "port": 7}. */
export interface SocketEnd {
  family: 4 | 6;
  address: string;
  port: number;
}

/** The end of a socket address (AF_INET, AF_INET6) or of a server's peer. */
export function endOf(sa: SockAddr | Peer | null): SocketEnd | null {
  if (sa === null || !('address' in sa) || !('port' in sa)) return null;
  const family = sa.family === 4 || sa.family === 2 ? 4 : 6;
  return { family, address: sa.address, port: sa.port };
}

/** The records that errors end a --json run with (before the summary cli.ts adds). */
const records = new WeakMap<Error, JsonRecord>();

/** Give an error its own record (an error or timeout), written before the summary when --json is on. */
export function withRecord<E extends Error>(e: E, record: JsonRecord): E {
  records.set(e, record);
  return e;
}

/** With --json, write the record an error was given (if any). */
export function writeRecordOf(e: unknown, json: boolean): void {
  const r = e instanceof Error ? records.get(e) : undefined;
  if (json && r) jsonLine(r);
}

/** A client's failure (not bad input): one line, exit 1; with --json also `record`. */
export function failure(message: string, record?: JsonRecord): Failure {
  const f = new Failure(message);
  return record ? withRecord(f, record) : f;
}

/** A name that does not resolve (getaddrinfo's EAI_*): bad input, exit 2, and an `error` record of kind resolve. */
export function resolveFailure(host: string, e: { code: string; message: string }): UsageError {
  return withRecord(new UsageError(`${host}: ${e.message}`), { type: 'error', kind: 'resolve', host, code: e.code, message: e.message });
}

/** --json among the options. */
const wantsJson = (argv: string[]) => argv.includes('--json');

/**
 * `sockit <cmd> server …` or `sockit <cmd> client …`: the mode word comes
 * first, as in `ip link`; bare `sockit <cmd>` prints both usages (exit 2).
 */
export function runModes(argv: string[], cmd: string, what: string, modes: Record<'server' | 'client', (argv: string[]) => Promise<number>>): Promise<number> {
  return runMain(cmd, async () => {
    if (readingTables()) {
      for (const mode of Object.values(modes)) await mode([]); // completions: both modes' options
      return 0;
    }
    const word = argv[0];
    if (word === 'server' || word === 'client') {
      try {
        return await modes[word](argv.slice(1));
      } catch (e) {
        writeRecordOf(e, wantsJson(argv));
        throw e;
      }
    }
    if (word === undefined || word === '--help' || word === '-h' || word === 'help') {
      // bare `sockit <cmd>` is a usage error: the usage on stderr, exit 2 (as bare `sockit`)
      const usage =
        `Usage: sockit ${cmd} server [options]\n       sockit ${cmd} client [options] host [port]\n\n${what}\n` +
        `Run \`sockit ${cmd} server --help\` or \`sockit ${cmd} client --help\` for the options.\n`;
      (word === undefined ? process.stderr : process.stdout).write(usage);
      return word === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown mode '${word}' (use: sockit ${cmd} server | sockit ${cmd} client)`);
  });
}

// ---------- servers ----------

export interface ServerOptions {
  udp?: boolean;
  port: number;
  bind?: string;
  verbose?: boolean;
  json?: boolean;
  idle?: number;
}

export function serverCommand(name: string, defaultPort: number): Command {
  return makeCommand(name)
    .option('-u, --udp', 'serve UDP instead of TCP')
    .option('-p, --port <port>', `port to listen on (0: any free port)`, intArg('port', 0, 65535), defaultPort)
    .option('-b, --bind <addr>', 'local address to bind (default: every address, IPv6 and IPv4)', (v: string) => {
      if (addressFamily(v) === 0) throw new UsageError(`invalid bind address: '${v}'`);
      return v;
    })
    .option('-v, --verbose', 'a line per connection (per datagram with -u)')
    .option('--json', 'one JSON object per event, then a summary');
}

const where = (p: Peer) => `${p.address === '::' || p.address === '0.0.0.0' ? '*' : p.address}.${p.port}`;

/**
 * Take SIGINT/SIGTERM (before the port is announced, so no signal is
 * missed), then bind with start(). `signalled` resolves at the first
 * signal; `again` runs at every later one. A failed bind is the book's
 * "bind error: Address already in use", exit 2.
 */
async function bindServer<T>(start: () => Promise<T>, again: () => void): Promise<{ server: T; signalled: Promise<void>; remove: () => void }> {
  let count = 0;
  let remove = () => {};
  const signalled = new Promise<void>((resolve) => {
    remove = onTerminate(() => (++count === 1 ? resolve() : again()));
  });
  try {
    return { server: await start(), signalled, remove };
  } catch (e) {
    remove();
    if ((e as NodeJS.ErrnoException).errno !== undefined) throw new UsageError(errSys(e, 'bind'));
    throw e;
  }
}

/** What a server reports: text (-v) and --json are two renderings of these. */
export type ServerEvent =
  | { type: 'listening'; proto: 'tcp' | 'udp'; local: Peer }
  | { type: 'connection'; remote: Peer }
  | { type: 'close'; end: ConnectionEnd }
  | { type: 'datagram'; datagram: Datagram }
  | { type: 'shutdown'; open: number }
  | { type: 'summary'; proto: 'tcp' | 'udp'; totals: Record<string, number> };

/** The servers' records; text only with -v, in the book's words (UNP 4.11's "connection from"). */
export function serverPresenter(verbose: boolean): Presenter<ServerEvent> {
  return {
    toRecord(e) {
      switch (e.type) {
        case 'listening':
          return { type: 'listening', proto: e.proto, local: endOf(e.local) };
        case 'connection':
          return { type: 'connection', proto: 'tcp', remote: endOf(e.remote) };
        case 'close': {
          const x = e.end;
          return {
            type: 'close',
            proto: 'tcp',
            remote: endOf(x.peer),
            bytes_in: x.bytesRead,
            bytes_out: x.bytesWritten,
            duration_ms: Number(x.durationNs) / 1e6,
            ...(x.reason ? { reason: x.reason } : {}),
          };
        }
        case 'datagram':
          return { type: 'datagram', proto: 'udp', remote: endOf(e.datagram.from), bytes: e.datagram.bytes };
        case 'shutdown':
          return { type: 'shutdown', open: e.open };
        case 'summary':
          return { type: 'summary', proto: e.proto, ...e.totals, exit_code: 0 };
      }
    },
    toText(e) {
      if (!verbose) return null;
      switch (e.type) {
        case 'listening':
          return `listening on ${where(e.local)}\n`;
        case 'connection':
          return `connection from ${e.remote.address}, port ${e.remote.port}\n`;
        case 'datagram':
          return `datagram from ${e.datagram.from.address}, port ${e.datagram.from.port}, ${e.datagram.bytes} bytes\n`;
        default:
          return null;
      }
    },
  };
}

/**
 * A concurrent TCP server (UNP 5.2) until SIGINT/SIGTERM: then it stops
 * accepting, lets open connections finish (a second signal closes them) and
 * resolves to 0.
 */
export async function serveTcp(o: ServerOptions, serve: Pick<TcpServerOptions, 'handler' | 'direct'>): Promise<number> {
  const { TcpServer } = await loadCore();
  let tcp: TcpServer | undefined;
  const { server, signalled, remove } = await bindServer(
    async () => (tcp = await TcpServer.listen({ host: o.bind, port: o.port, idleTimeoutMs: o.idle, ...serve })),
    () => tcp?.destroyAll(),
  );
  const out = renderer(serverPresenter(o.verbose === true), o.json === true);
  out.emit({ type: 'listening', proto: 'tcp', local: server.address() });
  const totals = { connections: 0, bytes_in: 0, bytes_out: 0 };
  server.on('connection', (remote) => {
    totals.connections++;
    out.emit({ type: 'connection', remote });
  });
  server.on('close', (end) => {
    totals.bytes_in += end.bytesRead;
    totals.bytes_out += end.bytesWritten;
    out.emit({ type: 'close', end });
  });
  server.on('error', () => {
    /* reported with its connection's close */
  });
  await signalled;
  const drained = server.shutdown(); // the listening socket is closed now
  out.emit({ type: 'shutdown', open: server.connections });
  await drained;
  remove();
  out.emit({ type: 'summary', proto: 'tcp', totals });
  await out.drain();
  return 0;
}

/** A UDP server (UNP 8.3) until SIGINT/SIGTERM, then 0. */
export async function serveUdp(o: ServerOptions, handler: (msg: Buffer, reply: (data: Uint8Array | string) => void) => void): Promise<number> {
  const { UdpServer } = await loadCore();
  const { server, signalled, remove } = await bindServer(
    () => UdpServer.open({ host: o.bind, port: o.port }, (msg, _from, reply) => handler(msg, reply)),
    () => {},
  );
  const out = renderer(serverPresenter(o.verbose === true), o.json === true);
  out.emit({ type: 'listening', proto: 'udp', local: server.address() });
  const totals = { datagrams: 0, bytes_in: 0 };
  server.on('datagram', (datagram) => {
    totals.datagrams++;
    totals.bytes_in += datagram.bytes;
    out.emit({ type: 'datagram', datagram });
  });
  server.on('error', () => {
    /* a failed reply: the datagram is lost, as UDP may lose it */
  });
  await signalled;
  await server.close();
  remove();
  out.emit({ type: 'summary', proto: 'udp', totals });
  await out.drain();
  return 0;
}

// ---------- clients ----------

export interface ClientOptions {
  udp?: boolean;
  timeout?: number;
  retries: number;
  json?: boolean;
  '4'?: boolean;
  '6'?: boolean;
}

export function clientCommand(name: string): Command {
  return makeCommand(name)
    .argument('<host>', 'server name or address')
    .argument('[port]', 'port number or service name')
    .option('-u, --udp', 'use UDP instead of TCP')
    .option('-4', 'IPv4 addresses only')
    .option('-6', 'IPv6 addresses only')
    .option(
      '-t, --timeout <sec>',
      "TCP: connect timeout, 0 for the kernel's (the default); UDP: wait this long for a reply before sending again (default: 1)",
      secondsArg('timeout', 0, 86400),
    )
    .option('-r, --retries <n>', 'UDP: times to send again before giving up', intArg('retries', 0, 100), 2)
    .option('--json', 'JSON lines (sockit(1) JSON OUTPUT): the connection, each reply, then a summary');
}

/** The client's options that parse but mean nothing together: a usage error. */
export function checkClient(o: ClientOptions): void {
  // UNP 14.2: a UDP client's timeout is how long it waits for the reply; 0 would not wait at all
  if (o.udp && o.timeout === 0)
    throw new UsageError("invalid timeout: '0': a UDP client must wait for its reply (-t 0 means the kernel's connect timeout, for TCP only)");
}

/** The server's addresses (getaddrinfo order); bad names and ports are usage errors. */
export async function serverAddresses(host: string, service: string, proto: 'tcp' | 'udp', family: Family = 0): Promise<InetSockAddr[]> {
  const { hostServ, servPort } = await loadCore();
  const port = servPort(service, proto);
  if (port === null || port === 0) throw new UsageError(`invalid port: '${service}'`);
  try {
    return await hostServ(host, port, family);
  } catch (e) {
    if (isResolveError(e)) throw resolveFailure(host, e);
    throw e;
  }
}

/** A TCP client's connection: the socket, and its `connection` record. */
export interface TcpClientConnection {
  socket: net.Socket;
  record: JsonRecord;
}

/** UNP 11.12 tcp_connect: the first address that answers, as a net.Socket, or exit 1 with the book's line. */
export async function tcpClient(host: string, service: string, timeoutMs: number | undefined, family: Family = 0): Promise<TcpClientConnection> {
  const addresses = await serverAddresses(host, service, 'tcp', family);
  const { tcpConnect } = await loadCore();
  try {
    const c = await tcpConnect(addresses, { timeoutMs });
    const record = { type: 'connection', proto: 'tcp', local: endOf(c.local), remote: endOf(c.remote), time_ms: Number(c.elapsedNs) / 1e6 };
    return { socket: c.socket.toNetSocket({ allowHalfOpen: true }), record };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const kind = code === 'ETIMEDOUT' ? { type: 'timeout' } : { type: 'error', kind: 'connect' };
    throw failure(`tcp_connect error for ${host}, ${service}: ${strerrorOf(e)}`, {
      ...kind,
      proto: 'tcp',
      remote: endOf(addresses.at(-1) ?? null),
      code: code ?? null,
      message: strerrorOf(e),
    });
  }
}

/**
 * A UDP client to the first address (UNP 11.14 udp_client), reporting
 * strangers' datagrams (8.8): on stderr, or as a `warning` record with --json.
 */
export async function udpClient(host: string, service: string, family: Family = 0, json = false): Promise<UdpClient> {
  const [server] = await serverAddresses(host, service, 'udp', family);
  const { formatHostPort, UdpClient } = await loadCore();
  const client = new UdpClient(server!);
  client.on('ignored', (from, bytes) => {
    const text = `reply from ${formatHostPort({ family: from.family === 4 ? 2 : 10, address: from.address, port: from.port })} (ignored)`;
    if (json) jsonLine({ type: 'warning', kind: 'ignored', remote: endOf(from), bytes, message: text });
    else process.stderr.write(`${text}\n`);
  });
  return client;
}

/** A UDP request that got no reply: the book's line, and its `timeout` record. */
export function udpTimeout(message: string, c: UdpClient, sent: number): Failure {
  return failure(message, { type: 'timeout', proto: 'udp', remote: endOf(c.server), sent, code: 'ETIMEDOUT', message });
}
