// Typed view of the N-API addon built from sockit.c (see binding.gyp).
// Nothing here adds behaviour: each function is the syscall of the same name.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface InetAddress { family: 2; address: string; port: number }
export interface Inet6Address { family: 10; address: string; port: number; flowinfo?: number; scopeid?: number }
export interface UnixAddress { family: 1; path: string }
export interface NetlinkAddress { family: 16; pid: number; groups: number }
export interface PacketAddress { family: 17; protocol: number; ifindex: number; hatype?: number; pkttype?: number; addr?: Buffer }
export type SockAddr = InetAddress | Inet6Address | UnixAddress | NetlinkAddress | PacketAddress;

/** struct sock_extended_err plus SO_EE_OFFENDER, from IP_RECVERR / IPV6_RECVERR. */
export interface ExtendedError {
  errno: number;
  origin: number;   // SO_EE_ORIGIN_*
  type: number;     // ICMP type
  code: number;     // ICMP code
  info: number;     // e.g. the next-hop MTU for frag-needed / packet-too-big
  data: number;
  offender?: InetAddress | Inet6Address;
}

export interface Control {
  timestampNs?: bigint;        // SO_TIMESTAMPNS: kernel receive time, CLOCK_REALTIME
  ttl?: number;                // IP_TTL (IP_RECVTTL)
  tos?: number;                // IP_TOS (IP_RECVTOS)
  hopLimit?: number;           // IPV6_HOPLIMIT (IPV6_RECVHOPLIMIT)
  tclass?: number;             // IPV6_TCLASS
  pktinfo?: { ifindex: number; address: string; specDst?: string };
  error?: ExtendedError;       // IP_RECVERR / IPV6_RECVERR
  credentials?: { pid: number; uid: number; gid: number };
  rights?: number[];
  other?: { level: number; type: number; data: Buffer }[];
}

export interface RecvResult {
  bytes: number;
  flags: number;
  address: SockAddr | null;
  control: Control;
}

export interface Poller {
  start(events: number): void;
  stop(): void;
  close(): void;
  ref(on: boolean): void;
}

export interface Native {
  socket(domain: number, type: number, protocol: number): number;
  socketpair(domain: number, type: number, protocol: number): [number, number];
  close(fd: number): void;
  bind(fd: number, addr: SockAddr): void;
  connect(fd: number, addr: SockAddr | { family: 0 }): boolean;
  listen(fd: number, backlog: number): void;
  accept(fd: number): { fd: number; address: SockAddr | null } | null;
  getsockname(fd: number): SockAddr | null;
  getpeername(fd: number): SockAddr | null;
  shutdown(fd: number, how: number): void;
  setsockopt(fd: number, level: number, name: number, value: number | boolean | Uint8Array): void;
  getsockopt(fd: number, level: number, name: number, size: number): Buffer;
  sendto(fd: number, data: Uint8Array, flags: number, addr: SockAddr | null, stamps?: BigInt64Array | null): number;
  recvmsg(fd: number, buffer: Uint8Array, flags: number): RecvResult | null;
  clock(id: number): bigint;
  strerror(errno: number): string;
  errname(errno: number): string | undefined;
  if_nametoindex(name: string): number;
  if_indextoname(index: number): string;
  setns(fd: number, nstype: number): void;
  pidfd_open(pid: number): number;
  pidfd_getfd(pidfd: number, fd: number): number;
  Poller: new (fd: number, cb: (err: Error | null, events: number) => void) => Poller;
}

/** The error every native call throws: like Node's system errors. */
export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

export function isSystemError(e: unknown): e is SystemError {
  return e instanceof Error && typeof (e as SystemError).code === 'string' && typeof (e as SystemError).syscall === 'string';
}

function load(): Native {
  const require = createRequire(import.meta.url);
  // dist/stack/native/index.js and src/stack/native/index.ts are both three
  // levels below the package root, where node-gyp leaves build/.
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  for (const kind of ['Release', 'Debug']) {
    const file = join(root, 'build', kind, 'sockit.node');
    if (existsSync(file)) return require(file) as Native;
  }
  const err = new Error('the native addon is not built: run `npm install` (or `npm run build`) in ' + root) as SystemError;
  err.code = 'ERR_SOCKIT_NO_ADDON';
  throw err;
}

export const native: Native = load();
