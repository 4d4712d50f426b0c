// A connected stream socket as sock's loops use it: reads of at most -r
// bytes, writes reported when the kernel has them, shutdown and close.
//
// NetConn hands the descriptor to Node (net.Socket over the fd, reading into
// one buffer with `onread`): the data path of every mode but -Z. CoreConn
// stays on the socket core, because MSG_PEEK (-Z), urgent bytes read out of
// band and per-write errors that do not end the stream (-W) need recv(2) and
// send(2) of their own.
import type net from 'node:net';
import * as C from '../constants.js';
import { isSystemError, native, type SystemError } from '../native/index.js';
import type { Socket } from '../socket.js';
import { systemError } from '../connect.js';

export type OnData = (chunk: Buffer, peek: boolean) => boolean | void;

export interface Conn {
  readonly fd: number;
  /** the first write error, once there has been one */
  readonly failed: SystemError | undefined;
  /**
   * Deliver each read(2): `chunk` is valid only during the call (copy to
   * keep it). Returning false pauses until resume(). A peek (-Z) comes first
   * with peek = true, then the same bytes read for real.
   */
  start(onData: OnData, onEnd: () => void, onError: (e: SystemError) => void): void;
  pause(): void;
  resume(): void;
  /** Queue a write; cb once the kernel has it all (or with the error). False: wait for drained(). */
  write(data: Buffer, cb?: (err?: SystemError) => void): boolean;
  /** Queue chunks written with one writev(2) (-V). */
  writev(chunks: Buffer[], cb?: (err?: SystemError) => void): boolean;
  /** Resolves when the queue is below its high-water mark again. */
  drained(): Promise<void>;
  /** Resolves when every queued write is in the kernel; rejects with the first write error. */
  flushed(): Promise<void>;
  /** shutdown(SHUT_WR) after the queued writes. */
  shutdown(): Promise<void>;
  /** close(2), now. */
  close(): void;
}

/** A Node error as a SystemError (Node's errno is negative, like ours). */
function asSystem(e: Error): SystemError {
  if (isSystemError(e)) return e;
  const ne = e as NodeJS.ErrnoException;
  if (typeof ne.errno === 'number' && typeof ne.code === 'string') {
    return Object.assign(e, { syscall: ne.syscall ?? 'write' }) as SystemError;
  }
  // a write after the stream was destroyed: the book would see EPIPE
  return systemError(32, 'write');
}

/** Write queue bookkeeping both kinds share. */
class Pending {
  count = 0;
  error: SystemError | undefined;
  private waiters: { resolve: () => void; reject: (e: SystemError) => void }[] = [];
  add(): void {
    this.count++;
  }
  done(err?: SystemError): void {
    this.count--;
    if (err && !this.error) this.error = err;
    if (this.count === 0 || err) this.wake();
  }
  wait(): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }
  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) {
      if (this.error) w.reject(this.error);
      else w.resolve();
    }
  }
}

export interface NetConnOptions {
  /** bytes per read (-r) */
  readlen: number;
  /** bytes queued in Node before write() returns false */
  highWaterMark?: number;
}

/** The descriptor handed to a net.Socket: Node's streams carry the data. */
export class NetConn implements Conn {
  readonly fd: number;
  readonly socket: net.Socket;
  private onData: OnData = () => {};
  private readonly pending = new Pending();

  get failed(): SystemError | undefined {
    return this.pending.error;
  }

  constructor(sock: Socket, opts: NetConnOptions) {
    this.fd = sock.fd;
    const buffer = Buffer.allocUnsafe(opts.readlen);
    this.socket = sock.toNetSocket({
      allowHalfOpen: true,
      // each callback is one read(2) of at most readlen bytes, into the same buffer
      onread: { buffer, callback: (n: number, buf: Uint8Array) => this.onData((buf as Buffer).subarray(0, n), false) !== false },
      writableHighWaterMark: opts.highWaterMark,
    });
    // reading starts only when asked: a source never reads, as in the book
    this.socket.pause();
  }

  start(onData: OnData, onEnd: () => void, onError: (e: SystemError) => void): void {
    this.onData = onData;
    this.socket.on('end', onEnd);
    this.socket.on('error', (e) => onError(asSystem(e)));
    this.socket.resume();
  }

  /** Errors of a socket nobody reads (a source): they arrive through the write callbacks. */
  quiet(): void {
    this.socket.on('error', () => {});
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  private cb(cb?: (err?: SystemError) => void) {
    this.pending.add();
    return (err?: Error | null) => {
      const e = err ? asSystem(err) : undefined;
      this.pending.done(e);
      cb?.(e);
    };
  }

  write(data: Buffer, cb?: (err?: SystemError) => void): boolean {
    return this.socket.write(data, this.cb(cb));
  }

  writev(chunks: Buffer[], cb?: (err?: SystemError) => void): boolean {
    // corked writes leave as one _writev, which libuv sends with writev(2)
    this.socket.cork();
    let ok = true;
    chunks.forEach((c, i) => {
      ok = this.socket.write(c, i === chunks.length - 1 ? this.cb(cb) : undefined) && ok;
    });
    this.socket.uncork();
    return ok;
  }

  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  flushed(): Promise<void> {
    return this.pending.wait();
  }

  async shutdown(): Promise<void> {
    await this.flushed();
    await new Promise<void>((resolve, reject) => {
      this.socket.end((err?: Error | null) => (err ? reject(asSystem(err)) : resolve()));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface CoreConnOptions {
  readlen: number;
  /** -Z: each read is peeked first */
  peek: boolean;
  /** called with an urgent byte read out of band (MSG_OOB) */
  onUrgent?: (byte: number) => void;
  highWaterMark?: number;
}

/**
 * send(2) of data from `off` until the kernel takes no more: the offset
 * reached (data.length when all of it went). What send throws (EPIPE,
 * ECONNRESET ...; EBADF once the socket is closed) is thrown.
 */
export function sendNow(sock: Socket, data: Buffer, off = 0): number {
  while (off < data.length) {
    if (sock.isClosed) throw systemError(9, 'write');
    const n = native.send(sock.fd, data, off, data.length - off, 0);
    if (n < 0) break;
    off += n;
  }
  return off;
}

/** A blocking write(2) on a nonblocking socket: sendNow() from `off`, awaiting POLLOUT each time the kernel stops taking. */
export async function sendWhole(sock: Socket, data: Buffer, off = 0): Promise<void> {
  for (off = sendNow(sock, data, off); off < data.length; off = sendNow(sock, data, off)) await sock.waitWritable();
}

/** The socket core's own reads and writes: recv(2) with MSG_PEEK or MSG_OOB, send(2) per write. */
export class CoreConn implements Conn {
  readonly fd: number;
  private readonly buf: Buffer;
  private paused = true;
  private ended = false;
  private onData: OnData = () => {};
  private onEnd: () => void = () => {};
  private onError: (e: SystemError) => void = () => {};
  private readonly queue: { data: Buffer; cb: (err?: SystemError) => void }[] = [];
  private writing = false;
  private queued = 0;
  private readonly pending = new Pending();
  private drainWaiters: (() => void)[] = [];
  private readonly sock: Socket;
  private readonly peek: boolean;
  private readonly onUrgent?: (byte: number) => void;
  private readonly oob = Buffer.alloc(1);
  private readonly highWaterMark: number;

  get failed(): SystemError | undefined {
    return this.pending.error;
  }

  constructor(sock: Socket, opts: CoreConnOptions) {
    this.sock = sock;
    this.fd = sock.fd;
    this.buf = Buffer.allocUnsafe(opts.readlen);
    this.peek = opts.peek;
    this.onUrgent = opts.onUrgent;
    this.highWaterMark = opts.highWaterMark ?? 16384;
  }

  start(onData: OnData, onEnd: () => void, onError: (e: SystemError) => void): void {
    this.onData = onData;
    this.onEnd = onEnd;
    this.onError = onError;
    this.resume();
  }

  pause(): void {
    this.paused = true;
    if (!this.sock.isClosed) this.sock.onReadable(null);
  }

  resume(): void {
    if (this.ended || this.sock.isClosed) return;
    this.paused = false;
    this.sock.onReadable(() => this.readSome());
  }

  /**
   * The urgent byte, asked before each read: Linux forgets it once a read
   * passes the urgent mark (the read after the mark skips it).
   */
  private urgent(): void {
    try {
      const r = this.sock.recv(this.oob, C.MSG_OOB);
      if (r && r.bytes === 1) this.onUrgent!(this.oob[0]);
    } catch {
      // EINVAL: no urgent data
    }
  }

  /** One bounded batch, ended by a short read: a peek then the read (-Z), or plain reads. */
  private readSome(): void {
    for (let i = 0; i < 16 && !this.paused && !this.ended; i++) {
      let n: number;
      if (this.onUrgent) this.urgent();
      try {
        if (this.peek) {
          n = this.sock.recvFast(this.buf, C.MSG_PEEK);
          if (n < 0) return;
          if (n > 0 && this.onData(this.buf.subarray(0, n), true) === false) this.pause();
        }
        n = native.recv(this.fd, this.buf, 0, this.buf.length, 0);
      } catch (e) {
        this.ended = true;
        this.pause();
        return this.onError(e as SystemError);
      }
      if (n < 0) return;
      if (n === 0) {
        this.ended = true;
        this.pause();
        return this.onEnd();
      }
      if (this.onData(this.buf.subarray(0, n), false) === false) this.pause();
      // a short read emptied the receive queue: wait for readiness (as iperf3's select does)
      // rather than read again at once for the few bytes, or the EAGAIN, that came since
      if (n < this.buf.length) return;
    }
  }

  write(data: Buffer, cb?: (err?: SystemError) => void): boolean {
    this.pending.add();
    this.queued += data.length;
    this.queue.push({
      data,
      cb: (err) => {
        this.pending.done(err);
        cb?.(err);
      },
    });
    if (!this.writing) void this.flush();
    return this.queued < this.highWaterMark;
  }

  writev(chunks: Buffer[], cb?: (err?: SystemError) => void): boolean {
    return this.write(Buffer.concat(chunks), cb);
  }

  /** send(2) until the kernel has it all, waiting for POLLOUT on EAGAIN. */
  private async flush(): Promise<void> {
    this.writing = true;
    while (this.queue.length) {
      const w = this.queue.shift()!;
      let err: SystemError | undefined;
      try {
        await sendWhole(this.sock, w.data);
      } catch (e) {
        err = e as SystemError;
      }
      this.queued -= w.data.length;
      w.cb(err);
      if (this.queued < this.highWaterMark) this.wakeDrain();
    }
    this.writing = false;
  }

  private wakeDrain(): void {
    const ws = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of ws) w();
  }

  drained(): Promise<void> {
    if (this.queued < this.highWaterMark) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  flushed(): Promise<void> {
    return this.pending.wait();
  }

  async shutdown(): Promise<void> {
    await this.flushed();
    this.sock.shutdown(C.SHUT_WR);
  }

  close(): void {
    this.sock.close();
    this.wakeDrain();
  }
}
