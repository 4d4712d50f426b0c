// The book's servers share one shape (UNP 5.2 tcpserv, 8.3 udpserv): bind
// the well-known port, serve each client, and on a signal stop accepting,
// let open connections finish, and exit. This is that shape; what a
// connection or datagram gets is the caller's handler. Nothing is printed
// here: servers emit events and commands print them.
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import * as C from './constants.js';
import { native } from './native/index.js';
import { Socket, inetAddress } from './socket.js';
import { addressFamily } from './packet/addr.js';

/** A peer as the server saw it: IPv4-mapped IPv6 addresses shown as IPv4. */
export interface Peer {
  address: string;
  port: number;
  family: 4 | 6;
}

/** "::ffff:192.0.2.1" (a v4 client of a dual-stack socket) -> "192.0.2.1". */
export function unmapped(address: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}

function peer(address: string | undefined, port: number | undefined): Peer {
  const a = unmapped(address ?? '');
  return { address: a, port: port ?? 0, family: addressFamily(a) === 4 ? 4 : 6 };
}

export interface ListenOptions {
  /** local address; both families on the wildcard when absent */
  host?: string;
  port: number;
}

export interface ConnectionEnd {
  peer: Peer;
  bytesRead: number;
  bytesWritten: number;
  /** connection lifetime, ns (CLOCK_MONOTONIC) */
  durationNs: bigint;
  /** 'idle' when the idle timeout closed it, 'shutdown' when forced closed, else the socket error code */
  reason?: string;
}

export interface TcpServerOptions extends ListenOptions {
  /** close a connection after this many ms without traffic either way */
  idleTimeoutMs?: number;
  /** serve one connection: the socket is allowHalfOpen (end it yourself) */
  handler: (socket: net.Socket, peer: Peer) => void;
  /**
   * Read each connection into a buffer of its own, reused read after read
   * (net.Socket's onread), instead of a new Buffer and a 'data' event per
   * read: `data` is valid until the socket reads again; return false to
   * stop reading (resume() goes on). The server then listens and accepts
   * on a socket of the stack's own, since net.Server cannot hand out such
   * sockets; the connections stay Node's streams.
   */
  reads?: (socket: net.Socket, data: Buffer) => boolean;
}

/** each connection's read buffer with `reads` (onread) */
const READ_BUFFER = 16 << 10;
/** connections accepted per readiness callback before the loop gets a turn */
const ACCEPT_BATCH = 64;

export interface TcpServerEvents {
  connection: [Peer];
  close: [ConnectionEnd];
  /** an error on a connection (ECONNRESET, EPIPE…; the connection is closed) or from accept(2) */
  error: [Error];
}

/**
 * A concurrent TCP server (UNP 5.2, one event-loop "child" per client).
 * listen() resolves once bound; shutdown() stops accepting and resolves
 * when every open connection has closed; destroyAll() ends them now.
 */
export class TcpServer extends EventEmitter<TcpServerEvents> {
  /** Node's listening server, or (with opts.reads) the stack's listening socket */
  private readonly server: net.Server | null;
  private listener: Socket | null = null;
  /** open connections, with why each is being closed once known */
  private readonly open = new Map<net.Socket, { reason?: string }>();
  private readonly opts: TcpServerOptions;
  private drained: (() => void) | undefined;

  private constructor(opts: TcpServerOptions) {
    super();
    this.opts = opts;
    this.server = opts.reads ? null : net.createServer({ allowHalfOpen: true }, (s) => this.accept(s));
  }

  static listen(opts: TcpServerOptions): Promise<TcpServer> {
    const t = new TcpServer(opts);
    const server = t.server;
    if (!server) {
      t.listenOwn();
      return Promise.resolve(t);
    }
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      // no host: Node binds :: (dual stack), or 0.0.0.0 where IPv6 is off
      server.listen({ port: opts.port, host: opts.host, backlog: 511 }, () => {
        server.off('error', reject);
        server.on('error', (e) => t.emit('error', e)); // accept(2) failures: the server goes on
        resolve(t);
      });
    });
  }

  /** Listen as net.Server does (SO_REUSEADDR; no host: :: for both families, or 0.0.0.0 where IPv6 is off), accepting on readiness. */
  private listenOwn(): void {
    const { host, port } = this.opts;
    const domains = host ? [addressFamily(host) === 4 ? C.AF_INET : C.AF_INET6] : [C.AF_INET6, C.AF_INET];
    let s: Socket | undefined;
    for (const domain of domains) {
      try {
        s = Socket.open(domain, C.SOCK_STREAM);
      } catch (e) {
        // only "no IPv6 here" falls back to IPv4
        if ((e as NodeJS.ErrnoException).code === 'EAFNOSUPPORT' && domain === C.AF_INET6 && !host) continue;
        throw e;
      }
      try {
        s.setsockopt(C.SOL_SOCKET, C.SO_REUSEADDR, 1);
        if (domain === C.AF_INET6 && !host) s.setsockopt(C.IPPROTO_IPV6, C.IPV6_V6ONLY, 0);
        s.bind(inetAddress(host ?? (domain === C.AF_INET6 ? '::' : '0.0.0.0'), port));
        s.listen(511);
      } catch (e) {
        s.close();
        throw e;
      }
      break;
    }
    const listener = s!;
    this.listener = listener;
    listener.onReadable(() => {
      for (let i = 0; i < ACCEPT_BATCH && !listener.isClosed; i++) {
        let a: ReturnType<Socket['accept']>;
        try {
          a = listener.accept();
        } catch (e) {
          this.emit('error', e as Error); // EMFILE and the like: the server goes on
          break;
        }
        if (!a) break;
        this.adopt(a.socket);
      }
    });
  }

  /** An accepted socket as a net.Socket that reads into a buffer of its own. */
  private adopt(accepted: Socket): void {
    const reads = this.opts.reads!;
    const s: net.Socket = accepted.toNetSocket({
      allowHalfOpen: true,
      onread: { buffer: Buffer.allocUnsafe(READ_BUFFER), callback: (n, buf) => reads(s, (buf as Buffer).subarray(0, n)) },
    });
    this.accept(s);
  }

  address(): Peer {
    if (this.listener) {
      const a = this.listener.localAddress() as { family: number; address: string; port: number };
      return { address: a.address, port: a.port, family: a.family === C.AF_INET6 ? 6 : 4 };
    }
    const a = this.server!.address() as net.AddressInfo;
    return { address: a.address, port: a.port, family: a.family === 'IPv6' ? 6 : 4 };
  }

  get connections(): number {
    return this.open.size;
  }

  private accept(s: net.Socket): void {
    const p = peer(s.remoteAddress, s.remotePort);
    const start = native.clock(C.CLOCK_MONOTONIC);
    const state: { reason?: string } = {};
    this.open.set(s, state);
    s.on('error', (e: NodeJS.ErrnoException) => {
      state.reason ??= e.code ?? e.message;
      this.emit('error', e);
    });
    if (this.opts.idleTimeoutMs) {
      s.setTimeout(this.opts.idleTimeoutMs, () => {
        state.reason ??= 'idle';
        s.destroy();
      });
    }
    s.on('close', () => {
      this.open.delete(s);
      const durationNs = native.clock(C.CLOCK_MONOTONIC) - start;
      this.emit('close', { peer: p, bytesRead: s.bytesRead, bytesWritten: s.bytesWritten, durationNs, reason: state.reason });
      if (this.open.size === 0) this.drained?.();
    });
    // a connection the peer has reset may lack an address by now
    if (s.remoteAddress === undefined) {
      s.destroy();
      return;
    }
    this.emit('connection', p);
    this.opts.handler(s, p);
  }

  /** Stop accepting (the listening socket closes); resolves when the last connection's 'close' has been emitted. */
  shutdown(): Promise<void> {
    if (this.server?.listening) this.server.close();
    this.listener?.close();
    return new Promise((resolve) => {
      if (this.open.size === 0) resolve();
      else this.drained = resolve;
    });
  }

  /** Close every open connection now. */
  destroyAll(): void {
    for (const [s, state] of this.open) {
      state.reason ??= 'shutdown';
      s.destroy();
    }
  }
}

export interface Datagram {
  from: Peer;
  bytes: number;
}

/**
 * A UDP server socket (UNP 8.3): bound to opts.host, or to :: for both
 * families (0.0.0.0 where IPv6 is unavailable). The handler gets every
 * datagram and may answer with reply(); replies that would queue beyond
 * `maxQueued` sends are dropped, as a UDP router would drop them.
 */
export class UdpServer extends EventEmitter<{ datagram: [Datagram]; error: [Error] }> {
  readonly socket: dgram.Socket;
  private readonly maxQueued: number;

  private constructor(socket: dgram.Socket, maxQueued: number) {
    super();
    this.socket = socket;
    this.maxQueued = maxQueued;
  }

  static async open(
    opts: ListenOptions & { maxQueued?: number },
    handler: (msg: Buffer, from: Peer, reply: (data: Uint8Array | string) => void) => void,
  ): Promise<UdpServer> {
    const families: ('udp4' | 'udp6')[] = opts.host ? [addressFamily(opts.host) === 4 ? 'udp4' : 'udp6'] : ['udp6', 'udp4'];
    let lastError: unknown;
    for (const type of families) {
      const socket = dgram.createSocket({ type, ipv6Only: false });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind({ port: opts.port, address: opts.host ?? (type === 'udp6' ? '::' : '0.0.0.0'), exclusive: true }, () => {
            socket.off('error', reject);
            resolve();
          });
        });
      } catch (e) {
        socket.close();
        lastError = e;
        // only "no IPv6 here" falls back to IPv4
        if ((e as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT') throw e;
        continue;
      }
      const server = new UdpServer(socket, opts.maxQueued ?? 1024);
      socket.on('error', (e) => server.emit('error', e));
      socket.on('message', (msg, rinfo) => {
        const from = peer(rinfo.address, rinfo.port);
        server.emit('datagram', { from, bytes: msg.length });
        handler(msg, from, (data) => server.reply(data, rinfo));
      });
      return server;
    }
    throw lastError;
  }

  private reply(data: Uint8Array | string, to: dgram.RemoteInfo): void {
    if (this.socket.getSendQueueCount() >= this.maxQueued) return;
    this.socket.send(data, to.port, to.address, (e) => {
      if (e) this.emit('error', e);
    });
  }

  address(): Peer {
    const a = this.socket.address();
    return { address: a.address, port: a.port, family: a.family === 'IPv6' ? 6 : 4 };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
