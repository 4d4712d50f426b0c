// The N-API addon built from sockit.c (see binding.gyp), and a typed view
// of it. The addon speaks bytes: addresses are struct sockaddr Buffers and
// recvmsg fills caller-owned arrays. `native` below takes and returns typed
// values instead, and adds no behaviour: each function is its syscall.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as sockaddr from '../sockaddr.js';
import { useStrerror, type SystemError } from '../errors.js';
import { formatIPv4, formatIPv6 } from '../packet/addr.js';

export type { SockAddr, InetAddress, Inet6Address, UnixAddress, NetlinkAddress, PacketAddress } from '../sockaddr.js';
type SockAddr = sockaddr.SockAddr;

/** An address argument: an address object, or a struct sockaddr already encoded (sockaddr.encode). */
export type AddrArg = SockAddr | Buffer;

/** struct sock_extended_err plus SO_EE_OFFENDER, from IP_RECVERR / IPV6_RECVERR. */
export interface ExtendedError {
  errno: number;
  origin: number; // SO_EE_ORIGIN_*
  type: number; // ICMP type
  code: number; // ICMP code
  info: number; // e.g. the next-hop MTU for frag-needed / packet-too-big
  data: number;
  offender?: sockaddr.InetAddress | sockaddr.Inet6Address;
}

export interface Control {
  timestampNs?: bigint; // SO_TIMESTAMPNS: kernel receive time, CLOCK_REALTIME
  ttl?: number; // IP_TTL (IP_RECVTTL)
  tos?: number; // IP_TOS (IP_RECVTOS)
  hopLimit?: number; // IPV6_HOPLIMIT (IPV6_RECVHOPLIMIT)
  tclass?: number; // IPV6_TCLASS
  pktinfo?: { ifindex: number; address: string; specDst?: string };
  error?: ExtendedError; // IP_RECVERR / IPV6_RECVERR
  credentials?: { pid: number; uid: number; gid: number };
  rights?: number[];
  auxdata?: AuxData; // PACKET_AUXDATA on AF_PACKET sockets
}

/** struct tpacket_auxdata: what the kernel knew of a packet read from an AF_PACKET socket. */
export interface AuxData {
  status: number; // TP_STATUS_* bits (VLAN_VALID, VLAN_TPID_VALID, CSUMNOTREADY ...)
  len: number; // the length on the wire
  snaplen: number; // the bytes captured
  mac: number;
  net: number;
  vlanTci: number; // the 802.1Q tag the NIC (or veth) took off, when status has TP_STATUS_VLAN_VALID
  vlanTpid: number; // its TPID, when status has TP_STATUS_VLAN_TPID_VALID
}

export interface RecvResult {
  /** bytes received (the datagram's full length when MSG_TRUNC was passed) */
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

/** The addon as built: bytes in, bytes out. */
/** The arguments of the addon's sendrecv and sendrecvBind. */
type SendrecvArgs = [
  fd: number,
  data: Uint8Array,
  flags: number,
  addr: Buffer | null,
  stamps: BigInt64Array | null,
  buffer: Uint8Array,
  rflags: number,
  meta: Int32Array,
  addrs: Buffer,
  ts: BigInt64Array,
  timeoutMs: number,
];

/** sendrecvBind's handle: an opaque native External holding the bound buffers */
export type SendrecvHandle = { readonly __sendrecv: unique symbol };

export interface Binding {
  socket(domain: number, type: number, protocol: number): number;
  socketpair(domain: number, type: number, protocol: number): [number, number];
  close(fd: number): void;
  bind(fd: number, addr: Buffer): void;
  connect(fd: number, addr: Buffer): boolean;
  listen(fd: number, backlog: number): void;
  accept(fd: number): { fd: number; address: Buffer } | null;
  getsockname(fd: number): Buffer;
  getpeername(fd: number): Buffer;
  shutdown(fd: number, how: number): void;
  setsockopt(fd: number, level: number, name: number, value: number | boolean | Uint8Array): void;
  getsockopt(fd: number, level: number, name: number, size: number): Buffer;
  sendto(fd: number, data: Uint8Array, flags: number, addr: Buffer | null, stamps: BigInt64Array | null): number;
  recvmsg(fd: number, buffer: Uint8Array, flags: number, meta: Int32Array, addrs: Buffer, ts: BigInt64Array): number;
  /** recv(2) into buffer[offset, offset+length): bytes (0: EOF), -1 when it would block */
  recv(fd: number, buffer: Uint8Array, offset: number, length: number, flags: number): number;
  /** send(2) of buffer[offset, offset+length) with MSG_NOSIGNAL: bytes, -1 when it would block */
  send(fd: number, buffer: Uint8Array, offset: number, length: number, flags: number): number;
  epoll_create(): number;
  epoll_ctl(epfd: number, op: number, fd: number, events: number): void;
  /** epoll_wait(2) of up to out.length / 2 events (at most 256) into out as (events, fd) pairs: how many */
  epoll_wait(epfd: number, out: Int32Array, timeoutMs: number): number;
  /** sendto then recvmsg (and, when nothing is queued, one poll of up to timeoutMs): bytes received, -1 none, -2 the send would block */
  sendrecv(...args: SendrecvArgs): number;
  /** sendrecv's arguments checked and bound once (the buffers held, the address copied): a handle for sendrecvBound */
  sendrecvBind(...args: SendrecvArgs): SendrecvHandle;
  /** sendrecv with the bound arguments (data's bytes as they are now) */
  sendrecvBound(handle: SendrecvHandle): number;
  clock(id: number): bigint;
  strerror(errno: number): string;
  errname(errno: number): string | undefined;
  if_nametoindex(name: string): number;
  if_indextoname(index: number): string;
  setns(fd: number, nstype: number): void;
  getaddrinfo(
    host: string | null,
    family: number,
    socktype: number,
    flags: number,
    service?: string | null,
    protocol?: number,
  ): Promise<{
    canonname: string | null;
    addresses: Buffer[];
    /** every struct addrinfo in order: ai_socktype, ai_protocol, ai_addr */
    entries: { socktype: number; protocol: number; address: Buffer }[];
  }>;
  getnameinfo(addr: Buffer, flags: number): Promise<{ host: string; service: string }>;
  pidfd_open(pid: number): number;
  pidfd_getfd(pidfd: number, fd: number): number;
  fcntl(fd: number, cmd: number, arg?: number): number;
  openat(dirfd: number, path: string, flags: number): number;
  getdents64(fd: number, buffer: Uint8Array): number;
  readlinkat(dirfd: number, name: string | Uint8Array, buffer: Uint8Array): number;
  /** mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0) as an ArrayBuffer over the mapping */
  mmap(fd: number, length: number): ArrayBuffer;
  /** munmap the mapping and detach the ArrayBuffer (its length becomes 0) */
  munmap(buffer: ArrayBuffer): void;
  Poller: new (fd: number, cb: (err: Error | null, events: number) => void) => Poller;
}

/** The error every native call throws: like Node's system errors (errors.ts). */
export { isSystemError, type SystemError } from '../errors.js';

function load(): Binding {
  // dist/stack/native/index.js and src/stack/native/index.ts are both three
  // levels below the package root, where node-gyp leaves build/.
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  for (const kind of ['Release', 'Debug']) {
    const file = join(root, 'build', kind, 'sockit.node');
    if (existsSync(file)) {
      // process.dlopen, not require(): the loader's resolution around it (a
      // realpath, the package.json scope) cost as much again as the dlopen
      const m = { exports: {} as Binding };
      process.dlopen(m, file);
      return m.exports;
    }
  }
  const err = new Error(`the native addon is not built (no ${join(root, 'build', 'Release', 'sockit.node')})`) as SystemError;
  err.code = 'ERR_SOCKIT_NO_ADDON';
  throw err;
}

export const binding: Binding = load();
useStrerror(binding.strerror);

// recvmsg's report slots (the M_* enum in sockit.c)
const M = {
  FLAGS: 0,
  NAMELEN: 1,
  TTL: 2,
  TOS: 3,
  HOPLIMIT: 4,
  TCLASS: 5,
  HAS_TS: 6,
  PKT_IFINDEX: 7,
  PKT_ADDRLEN: 8,
  EE: 9,
  EE_ERRNO: 10,
  EE_ORIGIN: 11,
  EE_TYPE: 12,
  EE_CODE: 13,
  EE_INFO: 14,
  EE_DATA: 15,
  EE_OFFLEN: 16,
  CRED: 17,
  CRED_PID: 18,
  CRED_UID: 19,
  CRED_GID: 20,
  NRIGHTS: 21,
  RIGHTS0: 22,
  AUX: 30,
  AUX_STATUS: 31,
  AUX_LEN: 32,
  AUX_SNAPLEN: 33,
  AUX_MAC: 34,
  AUX_NET: 35,
  AUX_VLAN_TCI: 36,
  AUX_VLAN_TPID: 37,
  LEN: 38,
} as const;
const A_OFFENDER = 128,
  A_PKTADDR = 256,
  A_SPECDST = 272,
  ADDRS_LEN = 288;

const MSG_CMSG_CLOEXEC = 0x40000000;

// one set of report arrays: JS is single-threaded and each result is read
// out before the next call
const meta = new Int32Array(M.LEN);
const addrs = Buffer.alloc(ADDRS_LEN);
const ts = new BigInt64Array(1);

/** sendrecvFast's and sendrecvBind's arguments: the addon's, less the report arrays, with MSG_CMSG_CLOEXEC as a flag */
type SendrecvCall = [
  fd: number,
  data: Uint8Array,
  flags: number,
  a: Buffer | null,
  stamps: BigInt64Array | null,
  buf: Uint8Array,
  rflags: number,
  timeoutMs: number,
  cloexec?: boolean,
];

/** The addon's sendrecv arguments for a call: the module's report arrays, MSG_CMSG_CLOEXEC unless cloexec is false. */
function sendrecvArgs(...[fd, data, flags, a, stamps, buf, rflags, timeoutMs, cloexec = true]: SendrecvCall): SendrecvArgs {
  return [fd, data, flags, a, stamps, buf, cloexec ? rflags | MSG_CMSG_CLOEXEC : rflags, meta, addrs, ts, timeoutMs];
}

// Hot paths keep times as Numbers: CLOCK_REALTIME nanoseconds since
// timeBase, read once at load. A double holds that exactly for 104 days,
// where reading a bigint would allocate one per packet. relNsAt reads a
// BigInt64Array slot through a Uint32Array view of the same memory.
export const timeBase: bigint = binding.clock(0);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE ? 0 : 1,
  HI = LITTLE ? 1 : 0;
const baseLo = Number(timeBase & 0xffffffffn),
  baseHi = Number(timeBase >> 32n);

/** Slot i of a BigInt64Array of CLOCK_REALTIME ns (viewed as `halves`), as ns since timeBase. */
export function relNsAt(halves: Uint32Array, i: number): number {
  return ((halves[2 * i + HI] | 0) - baseHi) * 4294967296 + (halves[2 * i + LO] - baseLo);
}

/** CLOCK_REALTIME ns (bigint) as ns since timeBase. */
export function toRelNs(ns: bigint): number {
  return Number(ns - timeBase);
}

/** ns since timeBase back to CLOCK_REALTIME ns. */
export function fromRelNs(rel: number): bigint {
  return timeBase + BigInt(Math.round(rel));
}

const tsHalves = new Uint32Array(ts.buffer);

function addr(a: AddrArg): Buffer {
  return Buffer.isBuffer(a) ? a : sockaddr.encode(a);
}

function control(): Control {
  const c: Control = {};
  if (meta[M.HAS_TS]) c.timestampNs = ts[0];
  if (meta[M.TTL] >= 0) c.ttl = meta[M.TTL];
  if (meta[M.TOS] >= 0) c.tos = meta[M.TOS];
  if (meta[M.HOPLIMIT] >= 0) c.hopLimit = meta[M.HOPLIMIT];
  if (meta[M.TCLASS] >= 0) c.tclass = meta[M.TCLASS];
  if (meta[M.PKT_ADDRLEN] > 0) {
    const v4 = meta[M.PKT_ADDRLEN] === 4;
    c.pktinfo = { ifindex: meta[M.PKT_IFINDEX], address: v4 ? formatIPv4(addrs, A_PKTADDR) : formatIPv6(addrs, A_PKTADDR) };
    if (v4) c.pktinfo.specDst = formatIPv4(addrs, A_SPECDST);
  }
  if (meta[M.EE]) {
    c.error = {
      errno: meta[M.EE_ERRNO],
      origin: meta[M.EE_ORIGIN],
      type: meta[M.EE_TYPE],
      code: meta[M.EE_CODE],
      info: meta[M.EE_INFO] >>> 0,
      data: meta[M.EE_DATA] >>> 0,
    };
    const off = meta[M.EE_OFFLEN] > 0 ? sockaddr.decode(addrs, A_OFFENDER, meta[M.EE_OFFLEN]) : null;
    if (off && (off.family === 2 || off.family === 10)) c.error.offender = off;
  }
  if (meta[M.CRED]) c.credentials = { pid: meta[M.CRED_PID], uid: meta[M.CRED_UID] >>> 0, gid: meta[M.CRED_GID] >>> 0 };
  if (meta[M.NRIGHTS] > 0) c.rights = Array.from(meta.subarray(M.RIGHTS0, M.RIGHTS0 + meta[M.NRIGHTS]));
  if (meta[M.AUX]) c.auxdata = auxdata();
  return c;
}

function auxdata(): AuxData {
  return {
    status: meta[M.AUX_STATUS] >>> 0,
    len: meta[M.AUX_LEN] >>> 0,
    snaplen: meta[M.AUX_SNAPLEN] >>> 0,
    mac: meta[M.AUX_MAC],
    net: meta[M.AUX_NET],
    vlanTci: meta[M.AUX_VLAN_TCI],
    vlanTpid: meta[M.AUX_VLAN_TPID],
  };
}

/** The syscalls with typed addresses and results. */
export const native = {
  socket: binding.socket,
  socketpair: binding.socketpair,
  close: binding.close,
  listen: binding.listen,
  shutdown: binding.shutdown,
  setsockopt: binding.setsockopt,
  getsockopt: binding.getsockopt,
  clock: binding.clock,
  strerror: binding.strerror,
  errname: binding.errname,
  if_nametoindex: binding.if_nametoindex,
  if_indextoname: binding.if_indextoname,
  setns: binding.setns,
  pidfd_open: binding.pidfd_open,
  pidfd_getfd: binding.pidfd_getfd,
  fcntl: binding.fcntl,
  /** openat(2), always with O_CLOEXEC; dirfd AT_FDCWD (-100) for a path from the working directory */
  openat: binding.openat,
  /** getdents64(2): struct linux_dirent64 records (d_reclen at 16, d_name at 19, NUL-ended) in buffer; 0 at the end */
  getdents64: binding.getdents64,
  /** readlinkat(2): the target's length written to buffer, cut at buffer's length; name a string or a Buffer holding a NUL-ended name */
  readlinkat: binding.readlinkat,
  mmap: binding.mmap,
  munmap: binding.munmap,
  Poller: binding.Poller,
  recv: binding.recv,
  send: binding.send,
  epoll_create: binding.epoll_create,
  epoll_ctl: binding.epoll_ctl,
  epoll_wait: binding.epoll_wait,
  /** encode an address once, for a caller sending to it many times */
  sockaddr: sockaddr.encode,
  bind(fd: number, a: AddrArg): void {
    binding.bind(fd, addr(a));
  },
  /** true when connected at once, false on EINPROGRESS; { family: 0 } dissolves a UDP association */
  connect(fd: number, a: AddrArg): boolean {
    return binding.connect(fd, addr(a));
  },
  accept(fd: number): { fd: number; address: SockAddr | null } | null {
    const r = binding.accept(fd);
    return r && { fd: r.fd, address: sockaddr.decode(r.address) };
  },
  getsockname(fd: number): SockAddr | null {
    return sockaddr.decode(binding.getsockname(fd));
  },
  getpeername(fd: number): SockAddr | null {
    return sockaddr.decode(binding.getpeername(fd));
  },
  /** bytes sent, -1 on EAGAIN; stamps (BigInt64Array(2)) gets CLOCK_MONOTONIC and CLOCK_REALTIME ns read just before the syscall */
  sendto(fd: number, data: Uint8Array, flags: number, a: AddrArg | null, stamps: BigInt64Array | null = null): number {
    return binding.sendto(fd, data, flags, a === null ? null : addr(a), stamps);
  },
  /** recvmsg(2) into buf (with MSG_CMSG_CLOEXEC, so passed descriptors are close-on-exec); null when nothing is queued */
  recvmsg(fd: number, buf: Uint8Array, flags: number, cloexec = true): RecvResult | null {
    const n = binding.recvmsg(fd, buf, cloexec ? flags | MSG_CMSG_CLOEXEC : flags, meta, addrs, ts);
    if (n < 0) return null;
    return { bytes: n, flags: meta[M.FLAGS], address: meta[M.NAMELEN] > 0 ? sockaddr.decode(addrs, 0, meta[M.NAMELEN]) : null, control: control() };
  },
  /**
   * recvmsg(2) for hot loops: returns the byte count (-1 when nothing is
   * queued) and leaves the rest in `last` until the next call, building no
   * objects unless asked. `cloexec` false leaves out MSG_CMSG_CLOEXEC,
   * which AF_PACKET sockets refuse (EINVAL).
   */
  recvmsgFast(fd: number, buf: Uint8Array, flags: number, cloexec = true): number {
    return binding.recvmsg(fd, buf, cloexec ? flags | MSG_CMSG_CLOEXEC : flags, meta, addrs, ts);
  },
  /**
   * sendto(2) then recvmsg(2) in one call, for loops that own their socket
   * (flood ping): the bytes received, -1 when nothing came within timeoutMs
   * (0: only what is already queued), -2 when the send would block. The
   * send stamps go in `stamps` as for sendto; what was received waits in
   * `last` as after recvmsgFast. Send errors throw; a failed receive is -1
   * (a pending error stays for whoever reads the error queue).
   */
  sendrecvFast(...call: SendrecvCall): number {
    return binding.sendrecv(...sendrecvArgs(...call));
  },
  /**
   * sendrecvFast's arguments bound once, for a loop that sends one buffer
   * (rewritten in place) to one address: sendrecvBound(handle) then does
   * what sendrecvFast did, without converting eleven arguments per call.
   */
  sendrecvBind(...call: SendrecvCall): SendrecvHandle {
    return binding.sendrecvBind(...sendrecvArgs(...call));
  },
  sendrecvBound(h: SendrecvHandle): number {
    return binding.sendrecvBound(h);
  },
  last: {
    flags: () => meta[M.FLAGS],
    address: () => (meta[M.NAMELEN] > 0 ? sockaddr.decode(addrs, 0, meta[M.NAMELEN]) : null),
    /** the last message's struct sockaddr as bytes (a view valid until the next receive), for hot loops that read a field or two */
    rawAddress: (): Buffer => addrs.subarray(0, Math.max(0, meta[M.NAMELEN])),
    /** source IP address text of the last message, without building an object */
    sourceAddress(): string {
      // sa_family is host order (little-endian here)
      const fam = meta[M.NAMELEN] >= 2 ? addrs[0] | (addrs[1] << 8) : 0;
      return fam === 2 ? formatIPv4(addrs, 4) : fam === 10 ? formatIPv6(addrs, 8) : '';
    },
    ttl: () => (meta[M.TTL] >= 0 ? meta[M.TTL] : meta[M.HOPLIMIT] >= 0 ? meta[M.HOPLIMIT] : undefined),
    timestampNs: () => (meta[M.HAS_TS] ? ts[0] : undefined),
    /** the kernel receive time as ns since timeBase; NaN without one */
    timestampRelNs: () => (meta[M.HAS_TS] ? relNsAt(tsHalves, 0) : NaN),
    hasError: () => meta[M.EE] === 1,
    /** PACKET_AUXDATA of the last message: the wire length, or -1 without one */
    auxLen: () => (meta[M.AUX] ? meta[M.AUX_LEN] >>> 0 : -1),
    /** PACKET_AUXDATA status bits (TP_STATUS_*), 0 without one */
    auxStatus: () => (meta[M.AUX] ? meta[M.AUX_STATUS] >>> 0 : 0),
    auxVlanTci: () => meta[M.AUX_VLAN_TCI],
    auxVlanTpid: () => meta[M.AUX_VLAN_TPID],
    control,
  },
};

export type Native = typeof native;
