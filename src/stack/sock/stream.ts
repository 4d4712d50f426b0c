// sock over a stream socket (TCP, unix stream): looptcp.c (standard input
// to the socket and the socket to standard output), sourcetcp.c and
// sinktcp.c. Data flows through Node's streams (NetConn); -Z and -W stay on
// the socket core (CoreConn).
import type { Readable, Writable } from 'node:stream';
import * as C from '../constants.js';
import { systemError } from '../connect.js';
import { isSystemError, native, type SystemError } from '../native/index.js';
import type { Socket } from '../socket.js';
import { chunks, crlfAdd, crlfStrip, pattern } from './bytes.js';
import { type Emit, type SockConfig, SockFailure, type Summary, sleep } from './config.js';
import { type Conn, CoreConn, NetConn, sendNow, sendWhole } from './conn.js';

/** Where the interactive loop reads and writes: standard input and output. */
export interface StdIO {
  input: Readable;
  output: Writable;
}

const EAGAIN = 11;

/**
 * Read standard input a chunk at a time, each handled (`each` resolves)
 * before the next is read, and EOF only after the last is handled (a
 * paused stream may still announce its end); returns the function that
 * stops reading.
 */
export function readInput(input: Readable, each: (chunk: Buffer) => Promise<void>, onEnd: () => void, onError: (e: unknown) => void): () => void {
  let stopped = false;
  let busy: Promise<void> = Promise.resolve();
  const onData = (chunk: Buffer) => {
    input.pause();
    busy = each(chunk).then(() => {
      if (!stopped) input.resume();
    });
    busy.catch(onError);
  };
  const onInputEnd = () => {
    busy.then(
      () => !stopped && onEnd(),
      () => {},
    );
  };
  // loop.c: err_sys("read error") when read(2) of standard input fails
  const onInputError = (e: unknown) => onError(isSystemError(e) ? new SockFailure('read error', { cause: e }) : e);
  input.on('data', onData);
  input.on('end', onInputEnd);
  input.on('error', onInputError);
  input.resume();
  return () => {
    stopped = true;
    input.off('data', onData);
    input.off('end', onInputEnd);
    input.off('error', onInputError);
    input.pause();
  };
}

/** A connection for reading: MSG_PEEK and MSG_OOB need the core, the rest runs on Node's streams. */
function readConn(sock: Socket, cfg: SockConfig, onUrgent?: (byte: number) => void): Conn {
  const conn =
    cfg.msgpeek || onUrgent ? new CoreConn(sock, { readlen: cfg.readlen, peek: cfg.msgpeek, onUrgent }) : new NetConn(sock, { readlen: cfg.readlen });
  return tapped(sock, cfg, conn);
}

/** The connection as --pcap's tap sees it (the same one without a tap, or for a unix socket). */
function tapped(sock: Socket, cfg: SockConfig, conn: Conn): Conn {
  return cfg.tap && sock.domain !== C.AF_UNIX ? cfg.tap.conn(sock, conn) : conn;
}

/** Fires `fail` when `ms` (0: never) pass without a kick: SO_RCVTIMEO for a sink on a nonblocking descriptor. */
export function watchdog(ms: number, fail: () => void) {
  let t: NodeJS.Timeout | undefined;
  const arm = () => {
    if (!ms) return;
    if (t) t.refresh();
    else t = setTimeout(fail, ms);
  };
  arm();
  return { kick: arm, stop: () => t && clearTimeout(t) };
}

function proto(sock: Socket): Summary['proto'] {
  if (sock.domain === C.AF_UNIX) return sock.type === C.SOCK_STREAM ? 'unix-stream' : 'unix-dgram';
  return sock.type === C.SOCK_STREAM ? 'tcp' : 'udp';
}

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** -Q: the pause before close (after the peer's FIN), said with -v. */
export async function pauseClose(cfg: SockConfig, emit: Emit): Promise<void> {
  if (!cfg.pauseclose) return;
  if (cfg.verbose) emit({ event: 'pausing' });
  await sleep(cfg.pauseclose);
}

/** send(2) of one byte with MSG_OOB (the urgent pointer follows it, TCPv1 20.8). */
export async function sendUrgent(fd: number, byte: number): Promise<void> {
  const b = Buffer.from([byte & 0xff]);
  for (;;) {
    let n: number;
    try {
      n = native.sendto(fd, b, C.MSG_OOB, null);
    } catch (e) {
      throw new SockFailure('send of MSG_OOB returned -1, expected 1', { cause: e });
    }
    if (n === 1) return;
    await sleep(1); // the send buffer is full: wait for room
  }
}

function readFailure(e: SystemError): SockFailure {
  return new SockFailure(/^write/.test(e.syscall ?? '') ? 'write error' : 'recv error', { cause: e });
}

// ---------- the interactive loop ----------

/**
 * looptcp.c: standard input to the socket (in reads of at most -r bytes,
 * CR/LF with -c, in chunks with -k/-V), the socket to standard output. EOF
 * on standard input ends the loop, or with -h shuts the socket down for
 * writing and goes on reading; EOF on the socket ends it.
 */
export async function loopStream(sock: Socket, cfg: SockConfig, io: StdIO, emit: Emit): Promise<void> {
  if (cfg.pauseinit) await sleep(cfg.pauseinit);
  const conn = readConn(sock, cfg);
  const chunked = cfg.chunkwrite || cfg.usewritev;

  const dowrite = async (data: Buffer): Promise<void> => {
    if (!chunked) {
      if (!conn.write(data)) await conn.drained();
      return;
    }
    const parts = chunks(data.length);
    if (cfg.verbose) parts.forEach(([offset, length], index) => emit({ event: 'iov', index, offset, length }));
    const bufs = parts.map(([o, l]) => data.subarray(o, o + l));
    if (cfg.usewritev) {
      if (!conn.writev(bufs)) await conn.drained();
      return;
    }
    // -k: a write(2) per chunk, each after the one before
    for (const b of bufs) {
      await new Promise<void>((resolve, reject) => conn.write(b, (e) => (e ? reject(e) : resolve())));
    }
  };

  await new Promise<void>((resolve, reject) => {
    let finished = false;
    let stopInput = () => {};
    const finish = (err?: unknown) => {
      if (finished) return;
      finished = true;
      stopInput();
      conn.pause();
      if (err) {
        conn.close();
        reject(err instanceof SockFailure ? err : readFailure(err as SystemError));
        return;
      }
      // what the book had written is in the kernel; Node may still hold some
      conn
        .flushed()
        .catch(() => {})
        .then(() => pauseClose(cfg, emit))
        .then(() => {
          conn.close();
          resolve();
        }, reject);
    };

    const consume = async (chunk: Buffer) => {
      for (let off = 0; off < chunk.length && !finished; off += cfg.readlen) {
        const piece = chunk.subarray(off, off + cfg.readlen);
        await dowrite(cfg.crlf ? crlfAdd(piece) : piece);
      }
    };
    const onInputEnd = () => {
      conn.flushed().then(
        () => {
          if (finished) return;
          if (!cfg.halfclose) return finish();
          // -h: half close, keep reading what the peer sends
          conn.shutdown().catch((e) => finish(new SockFailure('shutdown() error', { cause: e })));
        },
        (e) => finish(e),
      );
    };

    conn.start(
      (chunk) => {
        const out = cfg.crlf ? crlfStrip(chunk) : chunk;
        if (!io.output.write(Buffer.from(out))) {
          io.output.once('drain', () => conn.resume());
          return false;
        }
      },
      () => {
        if (cfg.verbose) emit({ event: 'closed' });
        finish();
      },
      (e) => finish(readFailure(e)),
    );
    stopInput = readInput(io.input, consume, onInputEnd, finish);
  });
}

// ---------- source and sink ----------

/**
 * sourcetcp.c: -n writes of -w bytes of the pattern, an urgent byte before
 * write -U, pauses of -p; then close. -W reports a failed write and goes on.
 * Without -v, -p, -U, -W and -y the writes are pipelined through Node's
 * stream (the throughput path).
 */
export async function sourceStream(sock: Socket, cfg: SockConfig, emit: Emit): Promise<Summary> {
  const local = sock.localAddress();
  const remote = sock.remoteAddress();
  const kind = proto(sock);
  const wbuf = pattern(cfg.writelen);
  if (cfg.pauseinit) await sleep(cfg.pauseinit);
  // the book's loop with nothing around it: no verbose lines, pauses, urgent byte, ignored errors or send timeout
  const plain = !cfg.verbose && !cfg.pauserw && !cfg.urgwrite && !cfg.ignorewerr && !cfg.sndtimeo;
  if (plain && !cfg.tap) {
    const t0 = process.hrtime.bigint();
    await sendAll(sock, wbuf, cfg.nbuf, `write returned -1, expected ${cfg.writelen}`);
    const elapsed = seconds(t0);
    await pauseClose(cfg, emit);
    sock.close();
    return { mode: 'source', proto: kind, bytes: cfg.nbuf * cfg.writelen, count: cfg.nbuf, seconds: elapsed, local, remote };
  }
  let conn: Conn;
  if (cfg.ignorewerr) {
    conn = new CoreConn(sock, { readlen: cfg.readlen, peek: false });
  } else {
    const net = new NetConn(sock, { readlen: cfg.readlen, highWaterMark: Math.max(4 * cfg.writelen, 1 << 20) });
    net.quiet(); // errors come back through the write callbacks
    conn = net;
  }
  conn = tapped(sock, cfg, conn);
  const expected = `write returned -1, expected ${cfg.writelen}`;
  // -y: a write that the kernel has not taken within SO_SNDTIMEO fails with EAGAIN, as a blocking one would
  const bounded = <T>(p: Promise<T>): Promise<T> => {
    if (!cfg.sndtimeo) return p;
    let t: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new SockFailure(expected, { cause: systemError(EAGAIN, 'write') })), cfg.sndtimeo);
    });
    return Promise.race([p, late]).finally(() => clearTimeout(t));
  };
  const writeOne = (): Promise<SystemError | undefined> => new Promise((resolve) => conn.write(wbuf, resolve));
  const t0 = process.hrtime.bigint();
  let failed = 0;
  try {
    if (plain) {
      for (let i = 1; i <= cfg.nbuf && !conn.failed; i++) {
        if (!conn.write(wbuf)) await conn.drained();
      }
      await conn.flushed();
    } else {
      for (let i = 1; i <= cfg.nbuf; i++) {
        if (cfg.urgwrite === i) {
          await bounded(conn.flushed().catch(() => {}));
          await sendUrgent(conn.fd, i);
          if (cfg.verbose) emit({ event: 'wrote', bytes: 1, urgent: true });
        }
        const err = await bounded(writeOne());
        if (err) {
          if (!cfg.ignorewerr) throw new SockFailure(expected, { cause: err });
          failed++;
          const f = new SockFailure(expected, { cause: err });
          emit({ event: 'error', kind: 'send', message: f.message, code: f.system?.code });
          if (!sock.isClosed) sock.pendingError(); // "also call getsockopt() to clear so_error"
        } else if (cfg.verbose) {
          emit({ event: 'wrote', bytes: cfg.writelen });
        }
        if (cfg.pauserw) await sleep(cfg.pauserw);
      }
    }
  } catch (e) {
    conn.close();
    throw e instanceof SockFailure ? e : new SockFailure(expected, { cause: e });
  }
  const elapsed = seconds(t0);
  await pauseClose(cfg, emit);
  conn.close();
  const count = cfg.nbuf - failed;
  return { mode: 'source', proto: kind, bytes: count * cfg.writelen, count, seconds: elapsed, local, remote };
}

/**
 * sourcetcp.c's loop itself: `count` write(2)s of wbuf, each sent whole
 * (sendNow, then sendWhole), as the book's blocking write does. On the socket core, not
 * a net.Socket: Node's Writable per 128 KiB write cost a quarter of the
 * throughput (bench/sock.mjs, see README).
 */
async function sendAll(sock: Socket, wbuf: Buffer, count: number, expected: string): Promise<void> {
  try {
    for (let i = 0; i < count; i++) {
      // awaited only when the kernel stopped taking: no promise per write while it keeps up
      const off = sendNow(sock, wbuf);
      if (off < wbuf.length) await sendWhole(sock, wbuf, off);
    }
  } catch (e) {
    sock.close();
    throw new SockFailure(expected, { cause: e });
  }
}

/**
 * ★ Whether a TCP sink sets SO_RCVLOWAT to its read size, so the kernel
 * wakes it only when a whole -r read is queued (or at EOF, or when the
 * window is about to close: tcp_epollin_ready) rather than for every few
 * segments: for 4 GiB on loopback, two thirds of the reads and a third to a
 * half of the context switches, and about a fifth more throughput
 * (bench/sock.mjs, README). Not where the book's reads show:
 * verbose (a line per read), -p, -Z, or -x (SO_RCVTIMEO, which counts from
 * each read).
 */
function wakesForFullReads(kind: Summary['proto'], cfg: SockConfig): boolean {
  return kind === 'tcp' && !cfg.verbose && !cfg.pauserw && !cfg.msgpeek && !cfg.rcvtimeo;
}

/**
 * sinktcp.c: read(2)s of at most -r bytes until EOF (each peeked first with
 * -Z), pauses of -p; then close. ★ Verbose, an urgent byte that arrived
 * out of band is reported where it interrupted the stream.
 */
export async function sinkStream(sock: Socket, cfg: SockConfig, emit: Emit): Promise<Summary> {
  const local = sock.localAddress();
  const remote = sock.remoteAddress();
  const kind = proto(sock);
  if (cfg.pauseinit) await sleep(cfg.pauseinit);
  // ★ verbose, the sink reads on the core and reports an urgent byte out of band (TCPv1 20.8)
  const onUrgent = cfg.verbose && kind === 'tcp' ? (byte: number) => emit({ event: 'urgent', byte }) : undefined;
  if (wakesForFullReads(kind, cfg)) sock.setsockopt(C.SOL_SOCKET, C.SO_RCVLOWAT, cfg.readlen);
  // read(2) on the socket core, not a net.Socket: Node's stream per read cost a tenth of the throughput (bench/sock.mjs)
  const conn = tapped(sock, cfg, new CoreConn(sock, { readlen: cfg.readlen, peek: cfg.msgpeek, onUrgent }));
  let bytes = 0;
  let count = 0;
  const t0 = process.hrtime.bigint();
  try {
    await new Promise<void>((resolve, reject) => {
      const dog = watchdog(cfg.rcvtimeo, () => {
        conn.pause();
        reject(new SockFailure('recv error', { cause: systemError(EAGAIN, 'recv') }));
      });
      conn.start(
        (chunk, peek) => {
          dog.kick();
          if (!peek) {
            bytes += chunk.length;
            count++;
          }
          if (cfg.verbose) emit({ event: 'received', bytes: chunk.length, peek });
          if (cfg.pauserw) {
            setTimeout(() => conn.resume(), cfg.pauserw);
            return false;
          }
        },
        () => {
          dog.stop();
          if (cfg.verbose) emit({ event: 'closed' });
          resolve();
        },
        (e) => {
          dog.stop();
          reject(new SockFailure('recv error', { cause: e }));
        },
      );
    });
  } catch (e) {
    conn.close();
    throw e;
  }
  const elapsed = seconds(t0);
  await pauseClose(cfg, emit); // pausing here puts the peer into FIN_WAIT_2
  conn.close();
  return { mode: 'sink', proto: kind, bytes, count, seconds: elapsed, local, remote };
}
