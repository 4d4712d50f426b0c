// Stevens' sock (UNP appendix C.3, TCPv1 appendix C): what its options set,
// the events it reports and the way it fails. The option letters live in
// src/commands/sock.ts; this is the program's state as the core sees it.
import { isSystemError, strerror as strerrorOfErrno, type SystemError } from '../errors.js';
import type { SockAddr } from '../sockaddr.js';
import type { Socket } from '../socket.js';
import type { Conn } from './conn.js';

/** sock's global variables (main.c), with the book's defaults. */
export interface SockConfig {
  /** -s */
  server: boolean;
  /** -u: UDP (or a unix datagram socket) instead of TCP */
  udp: boolean;
  /** -i: source client / sink server */
  sourcesink: boolean;
  /** ★ --unix PATH: a unix-domain socket instead of host and port */
  unix?: string;
  /** ★ -4 / -6: the address family of names and of a wildcard server */
  family: 0 | 4 | 6;
  /** -b, or the port of -l */
  bindport: number;
  /** the address of -l */
  localip?: string;
  /** -f a.b.c.d.p: a UDP server's peer */
  foreign?: { ip: string; port: string };
  /** -g / -G hops of an IPv4 source route; strict when the first was -G */
  sroute?: { strict: boolean; hops: string[] };
  /** -j: multicast group to join */
  joinip?: string;
  /** -n: buffers a source writes (1024) */
  nbuf: number;
  /** -r: bytes per read (1024) */
  readlen: number;
  /** -w: bytes per write (1024) */
  writelen: number;
  /** -q: listen backlog (5) */
  listenq: number;
  /** -c: newline <-> CR/LF */
  crlf: boolean;
  /** -h: shutdown(SHUT_WR) on standard input EOF */
  halfclose: boolean;
  /** -k: write in chunks */
  chunkwrite: boolean;
  /** -V: writev(2) of the chunks (implies -k) */
  usewritev: boolean;
  /** -o clears it: connect a UDP client */
  connectudp: boolean;
  /** -W: a source reports write errors and goes on */
  ignorewerr: boolean;
  /** -F: a handler per connection, concurrently */
  dofork: boolean;
  /** -Z: read with MSG_PEEK first, then again */
  msgpeek: boolean;
  /** -p, -P, -O, -Q: pauses in milliseconds */
  pauserw: number;
  pauseinit: number;
  pauselisten: number;
  pauseclose: number;
  /** -A -T -B -D -Y -K -N -E -I */
  reuseaddr: boolean;
  reuseport: boolean;
  broadcast: boolean;
  debug: boolean;
  dontroute: boolean;
  keepalive: boolean;
  nodelay: boolean;
  recvdstaddr: boolean;
  sigio: boolean;
  /** -L: SO_LINGER time, -1 leaves it off */
  linger: number;
  /** -R / -S: SO_RCVBUF / SO_SNDBUF, 0 leaves the default */
  rcvbuflen: number;
  sndbuflen: number;
  /** -x / -y: SO_RCVTIMEO / SO_SNDTIMEO in milliseconds, 0 for none */
  rcvtimeo: number;
  sndtimeo: number;
  /** -X: TCP_MAXSEG, 0 leaves it */
  maxseg: number;
  /** -H / -J: IP_TOS and IP_TTL, -1 leaves them */
  iptos: number;
  ipttl: number;
  /** -t: IP_MULTICAST_TTL, -1 leaves it (★ 0 is set: the book's 0 meant "leave it") */
  mcastttl: number;
  /** -U: send an urgent byte before write number n (source) */
  urgwrite: number;
  /** -v, counted */
  verbose: number;
  /** ★ --pcap: what sees the sockets' traffic (sock/record.ts), when recording */
  tap?: SockTap;
}

/**
 * What a recorder is told about sock's sockets (--pcap): an IP socket about
 * to connect (bound already) or, for a server, bound; each connected stream
 * (around whose Conn it may put its own); each datagram sent or received.
 */
export interface SockTap {
  /** before connect(2) (client, `remote`) or after bind (server, remote null) */
  opening(sock: Socket, remote: SockAddr | null): Promise<void>;
  /** a connected stream socket's Conn; returns the one to use */
  conn(sock: Socket, conn: Conn): Conn;
  /** a datagram sent (out) or received; `peer` null for the connected peer */
  datagram(sock: Socket, out: boolean, data: Buffer, peer: SockAddr | null): void;
}

export function defaultConfig(): SockConfig {
  return {
    server: false,
    udp: false,
    sourcesink: false,
    family: 0,
    bindport: 0,
    nbuf: 1024,
    readlen: 1024,
    writelen: 1024,
    listenq: 5,
    crlf: false,
    halfclose: false,
    chunkwrite: false,
    usewritev: false,
    connectudp: true,
    ignorewerr: false,
    dofork: false,
    msgpeek: false,
    pauserw: 0,
    pauseinit: 0,
    pauselisten: 0,
    pauseclose: 0,
    reuseaddr: false,
    reuseport: false,
    broadcast: false,
    debug: false,
    dontroute: false,
    keepalive: false,
    nodelay: false,
    recvdstaddr: false,
    sigio: false,
    linger: -1,
    rcvbuflen: 0,
    sndbuflen: 0,
    rcvtimeo: 0,
    sndtimeo: 0,
    maxseg: 0,
    iptos: -1,
    ipttl: -1,
    mcastttl: -1,
    urgwrite: 0,
    verbose: 0,
  };
}

/** What sock reports; the command prints these as the book's lines (or JSON). */
export type SockEvent =
  | { event: 'connected'; local: SockAddr | null; remote: SockAddr | null }
  | { event: 'connection'; local: SockAddr | null; remote: SockAddr | null }
  /** ★ a server asked for port 0 learns the port the kernel chose */
  | { event: 'listening'; local: SockAddr | null }
  /**
   * An option set and read back. `requested` is what was asked, `value`
   * what the kernel reports; `adjusted` says why they differ.
   */
  | { event: 'option'; name: string; requested: unknown; value: unknown; adjusted?: string }
  | { event: 'multicast'; group: string }
  | { event: 'source-route'; hop: string }
  | { event: 'source-route-size'; bytes: number }
  | { event: 'iov'; index: number; offset: number; length: number }
  | { event: 'wrote'; bytes: number; urgent?: boolean }
  | { event: 'received'; bytes: number; peek?: boolean }
  /** ★ the urgent byte a verbose sink found out of band, where it was sent */
  | { event: 'urgent'; byte: number }
  | { event: 'closed' }
  | { event: 'pausing' }
  | { event: 'sigio' }
  /** an error a source (-W) or a -F server goes on after, in the book's words; `code` the errno's name */
  | { event: 'error'; kind: 'send' | 'connection'; message: string; code?: string }
  /** something Linux or Node cannot do, said once */
  | { event: 'warning'; message: string }
  /** a datagram a verbose UDP server (or -o client) read: "from a.b.c.d: ", with -E ", to a.b.c.d" */
  | { event: 'datagram'; from: SockAddr | null; to?: string; truncated: boolean }
  /** ★ a source or sink ended: its totals (one per connection under -F) */
  | { event: 'transfer'; summary: Summary };

/** ★ The end of a source or sink: bytes, seconds and throughput. */
export interface Summary {
  mode: 'source' | 'sink';
  proto: 'tcp' | 'udp' | 'unix-stream' | 'unix-dgram';
  bytes: number;
  /** write(2)s of a source, read(2)s of a sink, datagrams for UDP */
  count: number;
  seconds: number;
  local: SockAddr | null;
  remote: SockAddr | null;
}

export type Emit = (e: SockEvent) => void;

/**
 * A failure in the book's words: `usage` is bad input (exit 2), the rest
 * are err_sys/err_quit at run time (exit 1). With a system error the
 * message ends in ": strerror", as err_sys prints it.
 */
export class SockFailure extends Error {
  readonly usage: boolean;
  /** the system error behind it, if any */
  readonly system?: SystemError;
  constructor(message: string, opts: { usage?: boolean; cause?: unknown } = {}) {
    const sys = isSystemError(opts.cause) ? opts.cause : undefined;
    super(sys ? `${message}: ${strerror(sys)}` : message);
    this.name = 'SockFailure';
    this.usage = opts.usage ?? false;
    this.system = sys;
  }
}

/** strerror(3) of a system error from the addon or from Node. */
export function strerror(e: SystemError): string {
  return strerrorOfErrno(e.errno);
}

/**
 * err_sys: rethrow a system error as the book's message; anything else
 * passes through. `usage`: a setup failure (a bind), exit 2 as sockit(1) says.
 */
export function failWith(message: string, e: unknown, usage = false): never {
  if (e instanceof SockFailure) throw e;
  if (isSystemError(e)) throw new SockFailure(message, { cause: e, usage });
  throw e;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
