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
import { EventSet } from './epoll.js';

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
  /** serve one connection as a net.Socket: it is allowHalfOpen (end it yourself) */
  handler?: (socket: net.Socket, peer: Peer) => void;
  /**
   * Or serve every connection without a stream around it: the stack reads
   * each ready connection into one shared buffer and calls `data(conn,
   * buffer, length)`; the bytes are valid during the call. A write the
   * kernel cannot take at once is kept and reading that connection waits
   * until it is sent. The peer's EOF calls `end` (default: conn.end()).
   * All connections share one epoll set and one loop callback per batch
   * of ready ones (see README: why this path is not on Node's streams).
   */
  direct?: DirectHandler;
}

export interface DirectHandler {
  data(conn: DirectConnection, buffer: Buffer, length: number): void;
  end?(conn: DirectConnection): void;
}

/** A connection served with TcpServerOptions.direct. */
export interface DirectConnection {
  readonly peer: Peer;
  /** send buffer[offset, offset+length): what the kernel does not take now is kept, in order, and sent when it can */
  write(buffer: Uint8Array, offset?: number, length?: number): void;
  /** close our side once everything written is sent */
  end(): void;
}

/** the shared read buffer of direct connections (the C servers' BUFSZ) */
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
  /** Node's listening server, or (with opts.direct) null: the stack's listening socket */
  private readonly server: net.Server | null;
  private listener: Socket | null = null;
  private direct: DirectConnections | null = null;
  /** open net.Socket connections, with why each is being closed once known */
  private readonly open = new Map<net.Socket, { reason?: string }>();
  private readonly opts: TcpServerOptions;
  private drained: (() => void) | undefined;

  private constructor(opts: TcpServerOptions) {
    super();
    this.opts = opts;
    this.server = opts.direct ? null : net.createServer({ allowHalfOpen: true }, (s) => this.accept(s));
  }

  static listen(opts: TcpServerOptions): Promise<TcpServer> {
    if (!opts.handler === !opts.direct) throw new TypeError('TcpServer: a handler or direct, one of them');
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
    const direct = new DirectConnections(this.opts.direct!, this.opts.idleTimeoutMs ?? 0, {
      connection: (p) => this.emit('connection', p),
      close: (end) => {
        this.emit('close', end);
        if (this.connections === 0) this.drained?.();
      },
      error: (e) => this.emit('error', e),
    });
    this.direct = direct;
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
        const addr = a.address as { address?: string; port?: number } | null;
        direct.adopt(a.socket.release(), peer(addr?.address, addr?.port));
      }
    });
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
    return this.open.size + (this.direct?.count ?? 0);
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
      if (this.connections === 0) this.drained?.();
    });
    // a connection the peer has reset may lack an address by now
    if (s.remoteAddress === undefined) {
      s.destroy();
      return;
    }
    this.emit('connection', p);
    this.opts.handler!(s, p);
  }

  /** Stop accepting (the listening socket closes); resolves when the last connection's 'close' has been emitted. */
  shutdown(): Promise<void> {
    if (this.server?.listening) this.server.close();
    this.listener?.close();
    return new Promise<void>((resolve) => {
      if (this.connections === 0) resolve();
      else this.drained = resolve;
    }).then(() => this.direct?.close());
  }

  /** Close every open connection now. */
  destroyAll(): void {
    for (const [s, state] of this.open) {
      state.reason ??= 'shutdown';
      s.destroy();
    }
    this.direct?.destroyAll();
  }
}

interface DirectEvents {
  connection(p: Peer): void;
  close(end: ConnectionEnd): void;
  error(e: Error): void;
}

/** One direct connection: its descriptor, counters, and the bytes the kernel has not taken yet. */
class Conn implements DirectConnection {
  bytesRead = 0;
  bytesWritten = 0;
  /** unsent bytes, in order (reading waits while there are any) */
  pending: Buffer | null = null;
  /** end() was called: close once pending is sent */
  ending = false;
  closed = false;
  /** the idle sweep's tick of the last traffic */
  tick = 0;
  reason: string | undefined;
  readonly start = native.clock(C.CLOCK_MONOTONIC);

  constructor(
    readonly fd: number,
    readonly peer: Peer,
    private readonly set: DirectConnections,
  ) {}

  write(buffer: Uint8Array, offset = 0, length = buffer.length - offset): void {
    if (this.closed || length <= 0) return;
    if (this.pending) {
      this.pending = Buffer.concat([this.pending, buffer.subarray(offset, offset + length)]);
      return;
    }
    const n = this.send(buffer, offset, length);
    if (n >= 0 && n < length) {
      this.pending = Buffer.from(buffer.subarray(offset + n, offset + length));
      this.set.waitWritable(this);
    }
  }

  end(): void {
    if (this.closed) return;
    if (this.pending) this.ending = true;
    else this.set.finish(this);
  }

  /** send what is pending: true when all of it went */
  flush(): boolean {
    const p = this.pending!;
    const n = this.send(p, 0, p.length);
    if (n < 0) return false;
    this.pending = n === p.length ? null : p.subarray(n);
    return this.pending === null;
  }

  /** send(2), counted: the bytes the kernel took (0 when it took none), -1 when it failed (the connection is closed) */
  private send(buffer: Uint8Array, offset: number, length: number): number {
    let n: number;
    try {
      n = native.send(this.fd, buffer, offset, length, 0);
    } catch (e) {
      this.set.fail(this, e as Error);
      return -1;
    }
    if (n < 0) return 0;
    this.bytesWritten += n;
    return n;
  }
}

/**
 * The connections of a direct TcpServer on one epoll set: level-triggered
 * EPOLLIN while a connection has nothing unsent, EPOLLOUT (only) while it
 * has, as bench/echo-server.c does. Idle connections are found by a sweep
 * every eighth of the idle timeout: closed between one and 1.125 timeouts
 * after their last traffic, never before.
 */
class DirectConnections {
  private readonly conns: (Conn | undefined)[] = [];
  private readonly set: EventSet;
  private readonly buf = Buffer.allocUnsafe(READ_BUFFER);
  private readonly sweepMs: number;
  /** sweeps without traffic after which a connection is idle */
  private readonly idleTicks: number;
  private sweeper: NodeJS.Timeout | null = null;
  private tick = 0;
  count = 0;

  constructor(
    private readonly handler: DirectHandler,
    private readonly idleMs: number,
    private readonly events: DirectEvents,
  ) {
    this.set = new EventSet((fd, ev) => this.ready(fd, ev));
    this.sweepMs = Math.max(1, Math.floor(idleMs / 8));
    this.idleTicks = Math.ceil(idleMs / this.sweepMs);
  }

  adopt(fd: number, p: Peer): void {
    try {
      this.set.add(fd, C.EPOLLIN);
    } catch (e) {
      // not watched, so never a connection: finish() would take a member from the set it never had
      native.close(fd);
      this.events.error(e as Error);
      return;
    }
    const c = new Conn(fd, p, this);
    c.tick = this.tick;
    this.conns[fd] = c;
    this.count++;
    if (this.idleMs > 0 && !this.sweeper) this.sweeper = setInterval(() => this.sweep(), this.sweepMs).unref();
    this.events.connection(p);
  }

  private ready(fd: number, events: number): void {
    const c = this.conns[fd];
    if (!c) return;
    if (c.pending) {
      // writable again: the peer has read, which is traffic for the idle timeout even if not all of it went
      c.tick = this.tick;
      if (!c.flush()) return;
      if (c.ending) return this.finish(c);
      this.modify(c, C.EPOLLIN);
      return;
    }
    if ((events & (C.EPOLLIN | C.EPOLLERR | C.EPOLLHUP)) === 0) return;
    let n: number;
    try {
      n = native.recv(fd, this.buf, 0, READ_BUFFER, 0);
    } catch (e) {
      return this.fail(c, e as Error);
    }
    if (n < 0) return;
    c.tick = this.tick;
    if (n === 0) {
      if (this.handler.end) this.handler.end(c);
      else c.end();
      return;
    }
    c.bytesRead += n;
    this.handler.data(c, this.buf, n);
  }

  private modify(c: Conn, events: number): void {
    try {
      this.set.modify(c.fd, events);
    } catch (e) {
      this.fail(c, e as Error);
    }
  }

  waitWritable(c: Conn): void {
    this.modify(c, C.EPOLLOUT);
  }

  fail(c: Conn, e: Error): void {
    c.reason ??= (e as NodeJS.ErrnoException).code ?? e.message;
    this.events.error(e);
    this.finish(c);
  }

  /** close the connection and report it */
  finish(c: Conn): void {
    if (c.closed) return;
    c.closed = true;
    c.pending = null;
    if (this.conns[c.fd] === c) this.conns[c.fd] = undefined;
    native.close(c.fd); // which also takes it out of the epoll set
    this.set.forget();
    this.count--;
    if (this.count === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
    const durationNs = native.clock(C.CLOCK_MONOTONIC) - c.start;
    this.events.close({ peer: c.peer, bytesRead: c.bytesRead, bytesWritten: c.bytesWritten, durationNs, reason: c.reason });
  }

  private sweep(): void {
    const now = ++this.tick;
    for (const c of this.conns) {
      if (c && now - c.tick > this.idleTicks) {
        c.reason ??= 'idle';
        this.finish(c);
      }
    }
  }

  destroyAll(): void {
    for (const c of this.conns) {
      if (!c) continue;
      c.reason ??= 'shutdown';
      this.finish(c);
    }
  }

  close(): void {
    this.destroyAll();
    this.set.close();
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
