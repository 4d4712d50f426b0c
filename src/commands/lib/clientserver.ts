// What the book's client/server commands (echo, daytime) share: the server's
// options and its run-until-signalled loop, and the client's way of finding
// and reaching the server. Not a command itself.
import type net from 'node:net';
import { Command } from 'commander';
import {
  formatHostPort, hostServ, isResolveError, servPort, TcpServer, tcpConnect, UdpClient, UdpServer,
  type Family, type InetSockAddr, type Peer,
} from '../../stack/index.js';
import { addressFamily } from '../../stack/packet/addr.js';
import { errSys, intArg, jsonLine, makeCommand, onTerminate, runMain, secondsArg, strerrorOf, UsageError } from '../common.js';

/** A failure that is not bad input: one line, exit 1. */
export function failure(message: string): UsageError {
  return new UsageError(message, 1);
}

/**
 * `sockit <cmd> server …` or `sockit <cmd> client …`: the mode word comes
 * first, as in `ip link`; bare `sockit <cmd>` prints both usages (exit 2).
 */
export function runModes(argv: string[], cmd: string, what: string, modes: Record<'server' | 'client', (argv: string[]) => Promise<number>>): Promise<number> {
  return runMain(cmd, async () => {
    const word = argv[0];
    if (word === 'server' || word === 'client') return modes[word](argv.slice(1));
    if (word === undefined || word === '--help' || word === '-h' || word === 'help') {
      process.stdout.write(`Usage: sockit ${cmd} server [options]\n       sockit ${cmd} client [options] host [port]\n\n${what}\n` +
        `Run \`sockit ${cmd} server --help\` or \`sockit ${cmd} client --help\` for the options.\n`);
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

function announce(o: ServerOptions, proto: 'tcp' | 'udp', me: Peer): void {
  if (o.json) jsonLine({ type: 'listening', proto, address: me.address, port: me.port });
  else if (o.verbose) process.stdout.write(`listening on ${where(me)}\n`);
}

/**
 * A concurrent TCP server (UNP 5.2) until SIGINT/SIGTERM: then it stops
 * accepting, lets open connections finish (a second signal closes them) and
 * resolves to 0.
 */
export async function serveTcp(o: ServerOptions, handler: (s: net.Socket, peer: Peer) => void): Promise<number> {
  let tcp: TcpServer | undefined;
  const { server, signalled, remove } = await bindServer(
    async () => (tcp = await TcpServer.listen({ host: o.bind, port: o.port, idleTimeoutMs: o.idle, handler })),
    () => tcp?.destroyAll(),
  );
  announce(o, 'tcp', server.address());
  const totals = { connections: 0, bytes_in: 0, bytes_out: 0 };
  server.on('connection', (p) => {
    totals.connections++;
    if (o.json) jsonLine({ type: 'connection', address: p.address, port: p.port });
    else if (o.verbose) process.stdout.write(`connection from ${p.address}, port ${p.port}\n`); // UNP 4.11
  });
  server.on('close', (end) => {
    totals.bytes_in += end.bytesRead;
    totals.bytes_out += end.bytesWritten;
    if (o.json) {
      jsonLine({
        type: 'close', address: end.peer.address, port: end.peer.port, bytes_in: end.bytesRead, bytes_out: end.bytesWritten,
        duration_ms: Number(end.durationNs) / 1e6, ...(end.reason ? { reason: end.reason } : {}),
      });
    }
  });
  server.on('error', () => { /* reported with its connection's close */ });
  await signalled;
  const drained = server.shutdown(); // the listening socket is closed now
  if (o.json) jsonLine({ type: 'shutdown', open: server.connections });
  await drained;
  remove();
  if (o.json) jsonLine({ type: 'summary', proto: 'tcp', ...totals });
  return 0;
}

/** A UDP server (UNP 8.3) until SIGINT/SIGTERM, then 0. */
export async function serveUdp(o: ServerOptions, handler: (msg: Buffer, reply: (data: Uint8Array | string) => void) => void): Promise<number> {
  const { server, signalled, remove } = await bindServer(
    () => UdpServer.open({ host: o.bind, port: o.port }, (msg, _from, reply) => handler(msg, reply)),
    () => {},
  );
  announce(o, 'udp', server.address());
  const totals = { datagrams: 0, bytes_in: 0 };
  server.on('datagram', (d) => {
    totals.datagrams++;
    totals.bytes_in += d.bytes;
    if (o.json) jsonLine({ type: 'datagram', address: d.from.address, port: d.from.port, bytes: d.bytes });
    else if (o.verbose) process.stdout.write(`datagram from ${d.from.address}, port ${d.from.port}, ${d.bytes} bytes\n`);
  });
  server.on('error', () => { /* a failed reply: the datagram is lost, as UDP may lose it */ });
  await signalled;
  await server.close();
  remove();
  if (o.json) jsonLine({ type: 'summary', proto: 'udp', ...totals });
  return 0;
}

// ---------- clients ----------

export interface ClientOptions {
  udp?: boolean;
  timeout?: number;
  retries: number;
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
    .option('-t, --timeout <sec>', 'TCP: connect timeout (default: the kernel\'s); UDP: wait this long for a reply before sending again (default: 1)', secondsArg('timeout', 0, 86400))
    .option('-r, --retries <n>', 'UDP: times to send again before giving up', intArg('retries', 0, 100), 2);
}

/** The server's addresses (getaddrinfo order); bad names and ports are usage errors. */
export async function serverAddresses(host: string, service: string, proto: 'tcp' | 'udp', family: Family = 0): Promise<InetSockAddr[]> {
  const port = servPort(service, proto);
  if (port === null || port === 0) throw new UsageError(`invalid port: '${service}'`);
  try {
    return await hostServ(host, port, family);
  } catch (e) {
    if (isResolveError(e)) throw new UsageError(`${host}: ${e.message}`);
    throw e;
  }
}

/** UNP 11.12 tcp_connect: the first address that answers, as a net.Socket, or exit 1 with the book's line. */
export async function tcpClient(host: string, service: string, timeoutMs: number | undefined, family: Family = 0): Promise<net.Socket> {
  const addresses = await serverAddresses(host, service, 'tcp', family);
  try {
    const { socket } = await tcpConnect(addresses, { timeoutMs });
    return socket.toNetSocket({ allowHalfOpen: true });
  } catch (e) {
    throw failure(`tcp_connect error for ${host}, ${service}: ${strerrorOf(e)}`);
  }
}

/** A UDP client to the first address (UNP 11.14 udp_client), reporting strangers' datagrams on stderr (8.8). */
export async function udpClient(host: string, service: string, family: Family = 0): Promise<UdpClient> {
  const [server] = await serverAddresses(host, service, 'udp', family);
  const client = new UdpClient(server!);
  client.on('ignored', (from) => process.stderr.write(`reply from ${formatHostPort({ family: from.family === 4 ? 2 : 10, address: from.address, port: from.port })} (ignored)\n`));
  return client;
}
