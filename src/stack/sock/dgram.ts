// sock over a datagram socket (UDP, unix datagram): loopudp.c, sourceudp.c
// and sinkudp.c on the socket core (Node's dgram cannot adopt a descriptor
// made and configured before bind).
import * as C from '../constants.js';
import { native, type SockAddr, type SystemError } from '../native/index.js';
import { systemError } from '../connect.js';
import type { Socket } from '../socket.js';
import { crlfAdd, crlfStrip, pattern } from './bytes.js';
import { type Emit, type SockConfig, SockFailure, type Summary, sleep } from './config.js';
import { pauseClose, readInput, type StdIO, watchdog } from './stream.js';

function proto(sock: Socket): Summary['proto'] {
  return sock.domain === C.AF_UNIX ? 'unix-dgram' : 'udp';
}

/** send(2)/sendto(2) of one datagram, waiting for room when the send buffer is full. */
async function sendDatagram(sock: Socket, data: Buffer, to: SockAddr | null, cfg: SockConfig): Promise<number> {
  for (;;) {
    const n = sock.send(data, to).bytes;
    if (n >= 0) {
      seen(sock, cfg, true, data, to);
      return n;
    }
    await sock.waitWritable();
  }
}

/** A datagram for --pcap's tap, when there is one (not for unix sockets). */
function seen(sock: Socket, cfg: SockConfig, out: boolean, data: Buffer, peer: SockAddr | null): void {
  if (cfg.tap && sock.domain !== C.AF_UNIX) cfg.tap.datagram(sock, out, data, peer);
}

/** Read datagrams in bounded batches; `each` returns false to stop. */
function readDatagrams(sock: Socket, each: () => boolean | void, onError: (e: SystemError) => void): void {
  sock.onReadable(() => {
    for (let i = 0; i < 64; i++) {
      try {
        if (each() === false) return;
      } catch (e) {
        sock.onReadable(null);
        return onError(e as SystemError);
      }
    }
  });
}

/**
 * loopudp.c: standard input as datagrams of at most -r bytes (to the
 * connected peer, or with -o to `target` by sendto), datagrams to standard
 * output. A server reads with recvmsg and, verbose, says where each came
 * from (and with -E where it went); a connected client stops at a
 * zero-length datagram.
 */
export async function loopDgram(sock: Socket, cfg: SockConfig, io: StdIO, emit: Emit, target: SockAddr | null): Promise<void> {
  if (cfg.pauseinit) await sleep(cfg.pauseinit);
  const connected = cfg.server ? cfg.foreign !== undefined : cfg.connectudp;
  const buf = Buffer.allocUnsafe(cfg.readlen);
  await new Promise<void>((resolve, reject) => {
    let finished = false;
    let stopInput = () => {};
    const finish = (err?: unknown) => {
      if (finished) return;
      finished = true;
      stopInput();
      if (!sock.isClosed) sock.onReadable(null);
      if (err) {
        sock.close();
        return reject(err);
      }
      pauseClose(cfg, emit).then(() => {
        sock.close();
        resolve();
      }, reject);
    };

    const writeOut = (data: Buffer): boolean => io.output.write(Buffer.from(cfg.crlf ? crlfStrip(data) : data));
    const paused = () => {
      sock.onReadable(null);
      io.output.once('drain', () => !finished && readDatagrams(sock, readOne, onReadError));
      return false;
    };

    const readOne = (): boolean => {
      if (cfg.server || !connected) {
        const r = sock.recv(buf);
        if (!r) return false;
        seen(sock, cfg, false, buf.subarray(0, Math.min(r.bytes, buf.length)), r.address);
        const truncated = (r.flags & C.MSG_TRUNC) !== 0;
        if (cfg.verbose || (truncated && cfg.server)) {
          emit({
            event: 'datagram',
            from: r.address,
            to: cfg.server && cfg.recvdstaddr ? r.control.pktinfo?.address : undefined,
            truncated: truncated && cfg.server,
          });
        }
        return writeOut(buf.subarray(0, Math.min(r.bytes, buf.length))) || paused();
      }
      // connected client: recv(2), peeking first with -Z
      if (cfg.msgpeek) {
        const p = sock.recvFast(buf, C.MSG_PEEK);
        if (p < 0) return false;
        if (p > 0) writeOut(buf.subarray(0, p));
      }
      const n = sock.recvFast(buf);
      if (n < 0) return false;
      seen(sock, cfg, false, buf.subarray(0, n), null);
      if (n === 0) {
        if (cfg.verbose) emit({ event: 'closed' });
        finish();
        return false;
      }
      return writeOut(buf.subarray(0, n)) || paused();
    };
    const onReadError = (e: SystemError) => {
      const what = cfg.server ? 'datagram receive error' : connected ? 'recv error' : 'datagram recvfrom() error';
      finish(new SockFailure(what, { cause: e }));
    };

    const consume = async (chunk: Buffer) => {
      for (let off = 0; off < chunk.length && !finished; off += cfg.readlen) {
        const piece = chunk.subarray(off, off + cfg.readlen);
        const data = cfg.crlf ? crlfAdd(piece) : piece;
        try {
          await sendDatagram(sock, data, connected ? null : target, cfg);
        } catch (e) {
          throw new SockFailure(connected || !target ? 'write error' : 'sendto error', { cause: e });
        }
      }
    };
    const onInputEnd = () => {
      if (!cfg.halfclose) return finish();
      try {
        sock.shutdown(C.SHUT_WR);
      } catch (e) {
        finish(new SockFailure('shutdown() error', { cause: e }));
      }
    };

    readDatagrams(sock, readOne, onReadError);
    stopInput = readInput(io.input, consume, onInputEnd, finish);
  });
}

/**
 * sourceudp.c: -n datagrams of -w bytes of the pattern, to the connected
 * peer or (-o) by sendto. -W reports a failed send and goes on. ★ A
 * zero-length datagram follows the last one: a sink (sockit's, or the
 * book's sinkudp.c) stops at it.
 */
export async function sourceDgram(sock: Socket, cfg: SockConfig, emit: Emit, target: SockAddr | null): Promise<Summary> {
  const local = sock.localAddress();
  const remote = cfg.connectudp ? sock.remoteAddress() : target;
  const to = cfg.connectudp ? null : target;
  const wbuf = pattern(cfg.writelen);
  const what = cfg.connectudp ? 'write' : 'sendto';
  if (cfg.pauseinit) await sleep(cfg.pauseinit);
  let sent = 0;
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  try {
    for (let i = 1; i <= cfg.nbuf; i++) {
      let n = -1;
      try {
        n = await sendDatagram(sock, wbuf, to, cfg);
      } catch (e) {
        const f = new SockFailure(`${what} returned -1, expected ${cfg.writelen}`, { cause: e });
        if (!cfg.ignorewerr) throw f;
        emit({ event: 'error', kind: 'send', message: f.message, code: f.system?.code });
        sock.pendingError(); // "also call getsockopt() to clear so_error"
      }
      if (n >= 0) {
        sent++;
        bytes += n;
      }
      if (cfg.verbose) emit({ event: 'wrote', bytes: n });
      if (cfg.pauserw) await sleep(cfg.pauserw);
      else if ((i & 63) === 0) await new Promise((r) => setImmediate(r)); // let signals and timers in
    }
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    try {
      await sendDatagram(sock, Buffer.alloc(0), to, cfg);
    } catch {
      // the end mark is a courtesy
    }
    await pauseClose(cfg, emit);
    return { mode: 'source', proto: proto(sock), bytes, count: sent, seconds: elapsed, local, remote };
  } finally {
    sock.close();
  }
}

/**
 * sinkudp.c: recv(2)s of at most -r bytes (each peeked first with -Z) until
 * a zero-length datagram, or until `signal` aborts (a UDP sink has no EOF of
 * its own). The seconds run from the first datagram to the last.
 */
export async function sinkDgram(sock: Socket, cfg: SockConfig, emit: Emit, signal?: AbortSignal): Promise<Summary> {
  const local = sock.localAddress();
  if (cfg.pauseinit) await sleep(cfg.pauseinit);
  const buf = Buffer.allocUnsafe(cfg.readlen);
  let count = 0;
  let bytes = 0;
  let first = 0n;
  let last = 0n;
  let remote: SockAddr | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      let done = false;
      const stop = (err?: unknown) => {
        if (done) return;
        done = true;
        dog.stop();
        signal?.removeEventListener('abort', onAbort);
        sock.onReadable(null);
        if (err) reject(err);
        else resolve();
      };
      // -x: no datagram within SO_RCVTIMEO fails with EAGAIN, as a blocking recv would
      const dog = watchdog(cfg.rcvtimeo, () => stop(new SockFailure('recv error', { cause: systemError(11, 'recv') })));
      const onAbort = () => stop();
      if (signal?.aborted) return stop();
      signal?.addEventListener('abort', onAbort, { once: true });
      const onError = (e: SystemError) => stop(new SockFailure('recv error', { cause: e }));
      const each = (): boolean => {
        if (done) return false;
        if (cfg.msgpeek) {
          const p = sock.recvFast(buf, C.MSG_PEEK);
          if (p < 0) return false;
          if (cfg.verbose) emit({ event: 'received', bytes: p, peek: true });
        }
        const n = sock.recvFast(buf);
        if (n < 0) return false;
        dog.kick();
        if (remote === null) remote = native.last.address();
        if (cfg.tap) seen(sock, cfg, false, buf.subarray(0, Math.min(n, buf.length)), native.last.address());
        if (n === 0) {
          if (cfg.verbose) emit({ event: 'closed' });
          stop();
          return false;
        }
        last = process.hrtime.bigint();
        if (count === 0) first = last;
        count++;
        bytes += n;
        if (cfg.verbose) emit({ event: 'received', bytes: n });
        if (cfg.pauserw) {
          // -p: stop polling (readiness is level-triggered) until the pause is over
          sock.onReadable(null);
          setTimeout(() => !done && readDatagrams(sock, each, onError), cfg.pauserw);
          return false;
        }
        return true;
      };
      readDatagrams(sock, each, onError);
    });
    await pauseClose(cfg, emit);
    return { mode: 'sink', proto: proto(sock), bytes, count, seconds: Number(last - first) / 1e9, local, remote };
  } finally {
    sock.close();
  }
}
