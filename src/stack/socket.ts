// A socket over a file descriptor the native layer opened: the syscalls as
// methods, readiness from Node's event loop, and a hand-off to net/dgram for
// data paths. No policy: what to send, when and why is the caller's.
import type net from 'node:net';
import * as C from './constants.js';
import {
  type AddrArg,
  type Control,
  type Inet6Address,
  type InetAddress,
  type Poller,
  type RecvResult,
  type SendrecvHandle,
  type SockAddr,
  native,
  relNsAt,
} from './native/index.js';
import { addressFamily } from './packet/addr.js';

export type { AddrArg, Control, RecvResult, SockAddr, InetAddress, Inet6Address };

/** A sockaddr for an IPv4/IPv6 literal (scope id from `%ifname` or a number). */
export function inetAddress(address: string, port = 0): InetAddress | Inet6Address {
  const pct = address.indexOf('%');
  const bare = pct >= 0 ? address.slice(0, pct) : address;
  const fam = addressFamily(bare);
  if (fam === 4) return { family: C.AF_INET, address: bare, port };
  if (fam === 6) {
    let scopeid = 0;
    if (pct >= 0) {
      const zone = address.slice(pct + 1);
      scopeid = /^\d+$/.test(zone) ? Number(zone) : native.if_nametoindex(zone);
    }
    return { family: C.AF_INET6, address: bare, port, scopeid };
  }
  throw new TypeError(`not an IP address: ${address}`);
}

/** "127.0.0.1.7", the address.port form of Stevens' sock and tcpdump. */
export function formatDotted(sa: SockAddr | null): string {
  if (!sa) return '*';
  if (sa.family === C.AF_INET || sa.family === C.AF_INET6) return `${sa.address}.${sa.port}`;
  if (sa.family === C.AF_UNIX) return sa.path || '(unnamed)';
  return JSON.stringify(sa);
}

/** "127.0.0.1:7" / "[::1]:7", the form of UNP's sock_ntop and ss. */
export function formatHostPort(sa: SockAddr | null): string {
  if (!sa) return '*';
  if (sa.family === C.AF_INET) return `${sa.address}:${sa.port}`;
  if (sa.family === C.AF_INET6) return `[${sa.address}]:${sa.port}`;
  if (sa.family === C.AF_UNIX) return sa.path || '(unnamed)';
  return JSON.stringify(sa);
}

export interface SendResult {
  /** bytes sent; -1 when the socket buffer was full (EAGAIN) */
  bytes: number;
  /** CLOCK_MONOTONIC ns read immediately before sendto(2) */
  monoNs: bigint;
  /** CLOCK_REALTIME ns read immediately before sendto(2); compare with SO_TIMESTAMPNS */
  realNs: bigint;
}

export interface NetSocketOptions {
  allowHalfOpen?: boolean;
  /** read into this one buffer, no allocation per read (net.Socket `onread`) */
  onread?: net.OnReadOpts;
  /** bytes Node queues before write() returns false (16 KiB by default) */
  writableHighWaterMark?: number;
}

export type ReadyHandler = (ready: { readable: boolean; writable: boolean; error: boolean }) => void;

/**
 * A socket over a native file descriptor.
 *
 * Readiness comes from a uv_poll handle on Node's loop. libuv reports
 * POLLERR (a pending SO_ERROR, or an IP_RECVERR error queue entry) as an
 * EBADF status and stops the handle; Socket turns that into
 * `{ error: true }` and re-arms, so the handler reads MSG_ERRQUEUE or
 * SO_ERROR and polling goes on.
 */
export class Socket {
  readonly fd: number;
  readonly domain: number;
  readonly type: number;
  readonly protocol: number;
  private poller: Poller | null = null;
  private events = 0;
  private readHandler: ReadyHandler | null = null;
  private writeWaiters: ((r: { error: boolean }) => void)[] = [];
  private closed = false;
  private referenced = true;
  private readPaused = false;
  private readonly stamps = new BigInt64Array(2);
  private readonly stampHalves = new Uint32Array(this.stamps.buffer);
  /** sendRecvQuick's arguments as last bound, and their handle */
  private readonly bound: {
    handle: SendrecvHandle | null;
    data: Uint8Array | null;
    addr: Buffer | null;
    flags: number;
    buf: Uint8Array | null;
    timeoutMs: number;
  } = {
    handle: null,
    data: null,
    addr: null,
    flags: 0,
    buf: null,
    timeoutMs: 0,
  };

  private constructor(fd: number, domain: number, type: number, protocol: number) {
    this.fd = fd;
    this.domain = domain;
    this.type = type;
    this.protocol = protocol;
  }

  /** socket(2): nonblocking, close-on-exec. */
  static open(domain: number, type: number, protocol = 0): Socket {
    return new Socket(native.socket(domain, type, protocol), domain, type, protocol);
  }

  /** Wrap a descriptor obtained elsewhere (accept, pidfd_getfd). */
  static adopt(fd: number): Socket {
    const int = (name: number) => native.getsockopt(fd, C.SOL_SOCKET, name, 4).readInt32LE(0);
    return new Socket(fd, int(C.SO_DOMAIN), int(C.SO_TYPE), int(C.SO_PROTOCOL));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  bind(addr: AddrArg): this {
    native.bind(this.fd, addr);
    return this;
  }

  /** connect(2) without waiting: true when connected at once, false on EINPROGRESS. */
  connectStart(addr: AddrArg): boolean {
    return native.connect(this.fd, addr);
  }

  /** Dissolve a datagram socket's association (connect to AF_UNSPEC). */
  disconnect(): void {
    native.connect(this.fd, { family: C.AF_UNSPEC });
  }

  listen(backlog = 511): this {
    native.listen(this.fd, backlog);
    return this;
  }

  /** accept4(2); null when no connection is pending. */
  accept(): { socket: Socket; address: SockAddr | null } | null {
    const r = native.accept(this.fd);
    if (!r) return null;
    return { socket: new Socket(r.fd, this.domain, this.type, this.protocol), address: r.address };
  }

  localAddress(): SockAddr | null {
    return native.getsockname(this.fd);
  }

  remoteAddress(): SockAddr | null {
    return native.getpeername(this.fd);
  }

  shutdown(how: number = C.SHUT_WR): void {
    native.shutdown(this.fd, how);
  }

  setsockopt(level: number, name: number, value: number | boolean | Uint8Array): void {
    native.setsockopt(this.fd, level, name, value);
  }

  /** getsockopt(2) into a buffer of `size` bytes; the result has the length the kernel wrote. */
  getsockopt(level: number, name: number, size = 4): Buffer {
    return native.getsockopt(this.fd, level, name, size);
  }

  getInt(level: number, name: number): number {
    const b = native.getsockopt(this.fd, level, name, 4);
    return b.length >= 4 ? b.readInt32LE(0) : b.length > 0 ? b[0] : 0;
  }

  /** SO_ERROR: the pending error as an errno (0 for none); reading clears it. */
  pendingError(): number {
    return this.getInt(C.SOL_SOCKET, C.SO_ERROR);
  }

  /** sendto(2) with send stamps taken just before the syscall. */
  send(data: Uint8Array, addr: AddrArg | null = null, flags = 0): SendResult {
    const bytes = native.sendto(this.fd, data, flags, addr, this.stamps);
    return { bytes, monoNs: this.stamps[0], realNs: this.stamps[1] };
  }

  /**
   * sendto(2) for hot loops: the bytes sent (-1 on EAGAIN), building no
   * result; the send stamp waits in lastSendRelNs until the next send.
   */
  sendQuick(data: Uint8Array, addr: AddrArg | null = null, flags = 0): number {
    return native.sendto(this.fd, data, flags, addr, this.stamps);
  }

  /**
   * sendto(2) and recvmsg(2) in one crossing (native.sendrecvBind's bound call), for a
   * loop that owns this socket: the bytes received into buf (-1: nothing
   * within timeoutMs, -2: the send would block); the send stamp waits in
   * lastSendRelNs, the rest of the message in native.last.
   */
  sendRecvQuick(data: Uint8Array, addr: Buffer | null, flags: number, buf: Uint8Array, timeoutMs = 0): number {
    const b = this.bound;
    if (b.handle === null || b.data !== data || b.addr !== addr || b.flags !== flags || b.buf !== buf || b.timeoutMs !== timeoutMs) {
      // the same arguments call after call: bind them once (the address is copied, the buffers held)
      b.handle = native.sendrecvBind(this.fd, data, flags, addr, this.stamps, buf, 0, timeoutMs, this.domain !== C.AF_PACKET);
      b.data = data;
      b.addr = addr;
      b.flags = flags;
      b.buf = buf;
      b.timeoutMs = timeoutMs;
    }
    return native.sendrecvBound(b.handle);
  }

  /** CLOCK_REALTIME just before the last send, as ns since native timeBase. */
  get lastSendRelNs(): number {
    return relNsAt(this.stampHalves, 1);
  }

  /** recvmsg(2) into buf; null when nothing is queued. */
  recv(buf: Uint8Array, flags = 0): RecvResult | null {
    return native.recvmsg(this.fd, buf, flags, this.domain !== C.AF_PACKET);
  }

  /**
   * recvmsg(2) for hot loops: the byte count, or -1 when nothing is queued;
   * source, TTL, timestamp and the rest wait in native.last until the next
   * receive on any socket.
   */
  recvFast(buf: Uint8Array, flags = 0): number {
    return native.recvmsgFast(this.fd, buf, flags, this.domain !== C.AF_PACKET);
  }

  /** recvmsg(2, MSG_ERRQUEUE): one queued extended error, or null. */
  recvError(buf: Uint8Array): RecvResult | null {
    return native.recvmsg(this.fd, buf, C.MSG_ERRQUEUE);
  }

  /**
   * Call `handler` whenever the socket is readable or has an error pending,
   * until it is replaced or removed (null). The handler should drain what is
   * queued, at most a bounded batch per call: unread data re-triggers it on
   * the next loop turn, so a busy socket never starves the event loop.
   */
  onReadable(handler: ReadyHandler | null): void {
    this.readHandler = handler;
    this.rearm();
  }

  /**
   * Stop (true) or resume (false) watching for readability while a read
   * handler is set: for a loop that reads the socket itself for a while
   * (flood ping's sendRecvQuick). A watched socket is on the event loop's
   * epoll set, and the kernel then walks its wait queue on every packet.
   */
  pauseReadable(paused: boolean): void {
    if (paused === this.readPaused) return;
    this.readPaused = paused;
    this.rearm();
  }

  /** Resolves when the socket is writable (or has an error pending: read SO_ERROR). */
  waitWritable(signal?: AbortSignal): Promise<{ error: boolean }> {
    if (this.closed) return Promise.reject(Object.assign(new Error('socket is closed'), { code: 'EBADF' }));
    return new Promise((resolve, reject) => {
      const waiter = (r: { error: boolean }) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const onAbort = () => {
        this.writeWaiters = this.writeWaiters.filter((w) => w !== waiter);
        this.rearm();
        reject(signal?.reason ?? Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.writeWaiters.push(waiter);
      this.rearm();
    });
  }

  /** Whether pending readiness keeps the process alive (like net.Socket#ref/unref). */
  ref(on = true): void {
    this.referenced = on;
    this.poller?.ref(on);
  }

  private wanted(): number {
    return (this.readHandler && !this.readPaused ? C.POLL_READABLE : 0) | (this.writeWaiters.length ? C.POLL_WRITABLE : 0);
  }

  private rearm(): void {
    if (this.closed) return;
    const want = this.wanted();
    if (want === 0) {
      if (this.events !== 0) this.poller?.stop();
      this.events = 0;
      return;
    }
    if (!this.poller) {
      this.poller = new native.Poller(this.fd, (err, events) => this.onPoll(err, events));
      if (!this.referenced) this.poller.ref(false);
    }
    this.poller.start(want);
    this.events = want;
  }

  private onPoll(err: Error | null, events: number): void {
    // err is libuv's view of POLLERR (it has stopped the handle); the fd is fine
    const error = err !== null;
    if (error) this.events = 0;
    const readable = error || (events & C.POLL_READABLE) !== 0;
    const writable = error || (events & C.POLL_WRITABLE) !== 0;
    if (writable && this.writeWaiters.length) {
      const waiters = this.writeWaiters;
      this.writeWaiters = [];
      for (const w of waiters) w({ error });
    }
    if (readable && this.readHandler) this.readHandler({ readable, writable, error });
    // libuv stopped the handle on POLLERR; otherwise re-arm only if interest changed
    if (!this.closed && (error || this.wanted() !== this.events)) this.rearm();
  }

  private stopPolling(): void {
    if (this.poller) {
      this.poller.close();
      this.poller = null;
    }
    this.events = 0;
  }

  /** Give up the descriptor (polling stops; the caller now owns the fd). */
  release(): number {
    this.stopPolling();
    this.readHandler = null;
    this.bound.handle = null;
    this.closed = true;
    return this.fd;
  }

  /**
   * Hand a connected (or connecting-complete) stream socket to Node as a
   * net.Socket, so data flows through Node's streams. This Socket is done after.
   */
  toNetSocket(opts: NetSocketOptions = {}): net.Socket {
    const fd = this.release();
    // net.Socket takes onread (Node >= 12) and hands writableHighWaterMark to stream.Duplex
    const o: net.SocketConstructorOpts & { writableHighWaterMark?: number; onread?: net.OnReadOpts } = {
      fd,
      readable: true,
      writable: true,
      allowHalfOpen: opts.allowHalfOpen ?? false,
    };
    if (opts.onread) o.onread = opts.onread;
    if (opts.writableHighWaterMark) o.writableHighWaterMark = opts.writableHighWaterMark;
    // node:net (and its streams) loads here, not with every command that opens a socket
    const { Socket: NetSocket } = process.getBuiltinModule('node:net');
    return new NetSocket(o);
  }

  /** Hand a listening stream socket to a net.Server (server.listen({ fd })). */
  toNetServer(server: net.Server, cb?: () => void): net.Server {
    const fd = this.release();
    return server.listen({ fd }, cb);
  }

  close(): void {
    if (this.closed) return;
    this.stopPolling();
    this.closed = true;
    this.readHandler = null;
    this.bound.handle = null;
    const waiters = this.writeWaiters;
    this.writeWaiters = [];
    native.close(this.fd);
    for (const w of waiters) w({ error: true });
  }
}
