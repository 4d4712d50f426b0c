// Nonblocking connect with a timeout: UNP 16.3 connect_nonb. The socket is
// created (and may be configured) before connect, which Node's net cannot do.
import * as C from './constants.js';
import { isSystemError, native, type SystemError } from './native/index.js';
import { Socket, inetAddress, type Inet6Address, type InetAddress, type SockAddr } from './socket.js';

export interface ConnectOptions {
  /** give up after this many milliseconds (ETIMEDOUT); 0 or undefined waits for the kernel */
  timeoutMs?: number;
  /** local address (and port) to bind first */
  source?: string;
  sourcePort?: number;
  /** socket type; SOCK_STREAM by default (SOCK_DGRAM just associates) */
  type?: number;
  /** set options on the new socket before connect(2) */
  configure?: (s: Socket) => void;
  /**
   * bind first (the source, or the wildcard, with port 0 unless sourcePort)
   * and tell the local address (and the peer's) before connect(2): --pcap's
   * flow is known before the SYN leaves
   */
  onBound?: (local: SockAddr, remote: SockAddr) => void;
  signal?: AbortSignal;
}

export interface Connected extends ConnectResult {
  socket: Socket;
}

export function systemError(errno: number, syscall: string): SystemError {
  const code = native.errname(errno) ?? `E${errno}`;
  const err = new Error(`${syscall} ${code}: ${native.strerror(errno)}`) as SystemError;
  err.code = code;
  err.errno = -errno;
  err.syscall = syscall;
  return err;
}

const ETIMEDOUT = 110;

export interface ConnectResult {
  /** connect duration, ns, CLOCK_MONOTONIC from just before connect(2) */
  elapsedNs: bigint;
  local: SockAddr | null;
  remote: SockAddr | null;
}

/**
 * connect(2) an existing socket without blocking, bounded by a timeout.
 * Rejects with a system error (ECONNREFUSED, EHOSTUNREACH, ENETUNREACH,
 * ETIMEDOUT: ours or the kernel's). The socket stays the caller's to close.
 */
export async function connectSocket(sock: Socket, remote: SockAddr, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ConnectResult> {
  let timer: NodeJS.Timeout | undefined;
  const start = native.clock(C.CLOCK_MONOTONIC);
  if (!sock.connectStart(remote)) {
    const ac = new AbortController();
    const onAbort = () => ac.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.timeoutMs && opts.timeoutMs > 0) timer = setTimeout(() => ac.abort(systemError(ETIMEDOUT, 'connect')), opts.timeoutMs);
    try {
      await sock.waitWritable(ac.signal);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
    }
    const err = sock.pendingError();
    if (err !== 0) throw systemError(err, 'connect');
  }
  const elapsedNs = native.clock(C.CLOCK_MONOTONIC) - start;
  return { elapsedNs, local: sock.localAddress(), remote: sock.remoteAddress() };
}

/**
 * UNP's connect_nonb: a new socket (configured by opts.configure, bound to
 * opts.source) connected to address:port within the timeout. Closes the
 * socket when the connect fails.
 */
export async function connectNonb(address: string, port: number, opts: ConnectOptions = {}): Promise<Connected> {
  const remote = inetAddress(address, port);
  const sock = Socket.open(remote.family, opts.type ?? C.SOCK_STREAM, 0);
  try {
    opts.configure?.(sock);
    if (opts.source !== undefined || opts.sourcePort || opts.onBound) {
      sock.bind(inetAddress(opts.source ?? (remote.family === C.AF_INET ? '0.0.0.0' : '::'), opts.sourcePort ?? 0));
    }
    if (opts.onBound) opts.onBound(sock.localAddress() ?? { family: C.AF_UNSPEC }, remote);
    return { socket: sock, ...(await connectSocket(sock, remote, opts)) };
  } catch (e) {
    sock.close();
    if (!isSystemError(e) && opts.signal?.aborted) throw opts.signal.reason ?? e;
    throw e;
  }
}

/** One connect attempt of tcpConnectEach: a connected socket, or the error. */
export type Attempt =
  | { remote: SockAddr; elapsedNs: bigint; ok: true; connected: Connected }
  | { remote: SockAddr; elapsedNs: bigint; ok: false; error: SystemError };

/**
 * UNP 11.12 tcp_connect, one attempt at a time: connect_nonb to each
 * address in order, yielding every attempt, until one connects (the last
 * attempt yielded then holds the socket, which is the caller's to close).
 * Errors other than a system error (an abort) are thrown.
 */
export async function* tcpConnectEach(addresses: readonly (InetAddress | Inet6Address)[], opts: ConnectOptions = {}): AsyncGenerator<Attempt> {
  for (const remote of addresses) {
    const start = native.clock(C.CLOCK_MONOTONIC);
    try {
      const connected = await connectNonb(remote.address + zone(remote), remote.port, opts);
      yield { remote, elapsedNs: connected.elapsedNs, ok: true, connected };
      return;
    } catch (e) {
      if (!isSystemError(e)) throw e;
      yield { remote, elapsedNs: native.clock(C.CLOCK_MONOTONIC) - start, ok: false, error: e };
    }
  }
}

/** tcp_connect: the first address that connects, or the last attempt's error. */
export async function tcpConnect(addresses: readonly (InetAddress | Inet6Address)[], opts: ConnectOptions = {}): Promise<Connected> {
  let last: SystemError | undefined;
  for await (const a of tcpConnectEach(addresses, opts)) {
    if (a.ok) return a.connected;
    last = a.error;
  }
  throw last ?? new RangeError('tcp_connect: no address to try');
}

function zone(sa: InetAddress | Inet6Address): string {
  return sa.family === C.AF_INET6 && sa.scopeid ? `%${sa.scopeid}` : '';
}
