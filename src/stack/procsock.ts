// The sockets of another process: its descriptors from /proc/PID/fd matched
// with /proc/PID/net/* (read in that process's network namespace, proc(5)),
// and a duplicate of one of them taken with pidfd_open(2) + pidfd_getfd(2)
// (Linux 5.6; needs ptrace access to the process) so its options can be read.
import { sysctl, sysctlNumber } from './sysctl.js';
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import * as C from './constants.js';
import { isSystemError, native } from './native/index.js';
import { formatIPv4, formatIPv6 } from './packet/addr.js';
import { socketEnd, type Inet6Address, type InetAddress, type SocketEnd } from './sockaddr.js';
import { Socket, formatHostPort } from './socket.js';
import { TCP_STATES } from './structs.js';

export interface ProcSocket {
  fd: number;
  inode: number;
  /** tcp4 udp6 raw4 unix-stream ...; 'socket' when no table lists it (netlink, packet ...) */
  kind: string;
  state: string;
  local: string;
  remote: string;
  /** receive and send queue bytes, when the table has them */
  rxQueue?: number;
  txQueue?: number;
  /** the ends as sockit(1)'s JSON names them (null: unbound or unconnected) */
  localEnd?: SocketEnd | null;
  remoteEnd?: SocketEnd | null;
}

/** A row of /proc/net/{tcp,udp,raw}[6] or /proc/net/unix, keyed by inode. */
export type ProcNetEntry = Omit<ProcSocket, 'fd' | 'inode'>;

/** Not allowed to look into the process (EPERM/EACCES), with the fix in the message. */
export class ProcessAccessError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'ProcessAccessError';
    this.code = code;
  }
}

// /proc/net/tcp prints each 32-bit word of an address in host byte order
// (%08X of the __be32): undo that word by word.
function hexAddress(hex: string): string {
  const b = Buffer.alloc(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) b.writeUInt32LE(parseInt(hex.slice(w * 8, w * 8 + 8), 16), w * 4);
  return b.length === 4 ? formatIPv4(b) : formatIPv6(b);
}

function sockaddrOf(field: string): InetAddress | Inet6Address {
  const [hex, portHex] = field.split(':');
  const address = hexAddress(hex);
  const port = parseInt(portHex, 16);
  return hex.length === 8 ? { family: C.AF_INET, address, port } : { family: C.AF_INET6, address, port };
}

function endpoint(field: string, peer: boolean): string {
  const sa = sockaddrOf(field);
  const host = formatHostPort(sa);
  return sa.port === 0 && peer ? host.replace(/:0$/, ':*') : host;
}

/**
 * An end for a JSON record: a raw socket's has no port (the table's column is
 * the protocol, or 0); a peer is null while unconnected (the wildcard, port 0).
 */
function endOf(field: string, proto: 'tcp' | 'udp' | 'raw', peer: boolean): SocketEnd | null {
  const sa = sockaddrOf(field);
  if (peer && sa.port === 0 && (sa.address === '0.0.0.0' || sa.address === '::')) return null;
  const end = socketEnd(sa);
  return end && end.family !== 'unix' && proto === 'raw' ? { ...end, port: null } : end;
}

/**
 * Parse /proc/net/{tcp,udp,raw}[6]: sl local rem st tx:rx tr:when retrnsmt
 * uid timeout inode ... (proc(5)).
 */
export function parseProcNetInet(text: string, proto: 'tcp' | 'udp' | 'raw', family: 4 | 6): Map<number, ProcNetEntry> {
  const out = new Map<number, ProcNetEntry>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const st = parseInt(f[3], 16);
    const [tx, rx] = f[4].split(':').map((h) => parseInt(h, 16));
    const inode = Number(f[9]);
    // udp and raw sockets use TCP_ESTABLISHED for connected, TCP_CLOSE for not (ss: ESTAB / UNCONN)
    const state = proto === 'tcp' ? TCP_STATES[st] || String(st) : st === 1 ? 'ESTAB' : st === 7 ? 'UNCONN' : TCP_STATES[st] || String(st);
    out.set(inode, {
      kind: `${proto}${family}`,
      state,
      local: endpoint(f[1], false),
      remote: endpoint(f[2], true),
      txQueue: tx,
      rxQueue: rx,
      localEnd: endOf(f[1], proto, false),
      remoteEnd: endOf(f[2], proto, true),
    });
  }
  return out;
}

const UNIX_TYPES: Record<number, string> = { 1: 'unix-stream', 2: 'unix-dgram', 5: 'unix-seqpacket' };
const UNIX_STATES: Record<number, string> = { 1: 'UNCONN', 2: 'CONNECTING', 3: 'CONNECTED', 4: 'DISCONNECTING' };
const SO_ACCEPTCON = 1 << 16; // __SO_ACCEPTCON in the Flags column: listening

/** Parse /proc/net/unix: Num RefCount Protocol Flags Type St Inode [Path]. */
export function parseProcNetUnix(text: string): Map<number, ProcNetEntry> {
  const out = new Map<number, ProcNetEntry>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7) continue;
    const flags = parseInt(f[3], 16);
    const type = parseInt(f[4], 16);
    const st = parseInt(f[5], 16);
    const path = f.slice(7).join(' ');
    out.set(Number(f[6]), {
      kind: UNIX_TYPES[type] ?? `unix-${type}`,
      state: flags & SO_ACCEPTCON ? 'LISTEN' : (UNIX_STATES[st] ?? String(st)),
      local: path || '(unnamed)',
      remote: '',
      localEnd: { family: 'unix', path: path || null },
      remoteEnd: null,
    });
  }
  return out;
}

function fixFor(pid: number): string {
  let owner = '?';
  try {
    owner = String(statSync(`/proc/${pid}`).uid);
  } catch {
    /* gone: the caller's next step says so */
  }
  const scope = sysctlNumber('kernel.yama.ptrace_scope'); // undefined: no Yama
  if (scope === 3) return 'no process may: kernel.yama.ptrace_scope = 3 disables ptrace until reboot';
  if (process.geteuid?.() === 0) {
    return "none from here: root is refused too, so the process is beyond this root's CAP_SYS_PTRACE (another user namespace, or a security module)";
  }
  if (scope === 2) return `run as root (CAP_SYS_PTRACE): kernel.yama.ptrace_scope = 2 admits no one else`;
  if (scope === 1)
    return `run as root, or as the same user (uid ${owner}) with kernel.yama.ptrace_scope = 0 (it is 1: sudo sysctl -w kernel.yama.ptrace_scope=0)`;
  return `run as the same user (uid ${owner}) or as root`;
}

function noProcess(pid: number): Error {
  return Object.assign(new Error(`no process ${pid}`), { code: 'ESRCH' });
}

/** The command name of a process (/proc/PID/comm), '' when unreadable. */
export function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function readTable(pid: number | 'self', name: string): string {
  try {
    return readFileSync(`/proc/${pid}/net/${name}`, 'utf8');
  } catch {
    return ''; // the protocol is not built in (no /proc/net/raw6 without IPv6)
  }
}

/** Every socket the tables of a process's network namespace list, by inode. */
function netTables(pid: number | 'self'): Map<number, ProcNetEntry> {
  const tables = new Map<number, ProcNetEntry>();
  const add = (m: Map<number, ProcNetEntry>) => m.forEach((v, k) => tables.set(k, v));
  for (const proto of ['tcp', 'udp', 'raw'] as const) {
    add(parseProcNetInet(readTable(pid, proto), proto, 4));
    add(parseProcNetInet(readTable(pid, `${proto}6`), proto, 6));
  }
  add(parseProcNetUnix(readTable(pid, 'unix')));
  return tables;
}

/** The socket descriptors of a process with what /proc/PID/net says of each. */
export function processSockets(pid: number): ProcSocket[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENOENT') throw noProcess(pid);
    if (code === 'EACCES' || code === 'EPERM') {
      throw new ProcessAccessError(`cannot list the descriptors of process ${pid}: /proc/${pid}/fd: ${code} (Permission denied); fix: ${fixFor(pid)}`, code);
    }
    throw e;
  }
  const sockets: { fd: number; inode: number }[] = [];
  for (const name of fds) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${name}`);
    } catch {
      continue; // closed meanwhile
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) sockets.push({ fd: Number(name), inode: Number(m[1]) });
  }
  // A socket belongs to the namespace it was made in, which need not be the
  // process's current one (a parent elsewhere made its stdio socketpair):
  // what the target's tables lack is looked up in ours.
  const theirs = netTables(pid);
  let ours: Map<number, ProcNetEntry> | undefined;
  const lookup = (inode: number) => theirs.get(inode) ?? (ours ??= netTables('self')).get(inode);
  return sockets
    .sort((a, b) => a.fd - b.fd)
    .map(({ fd, inode }) => ({ fd, inode, ...(lookup(inode) ?? { kind: 'socket', state: '', local: '', remote: '' }) }));
}

/**
 * A duplicate of descriptor `fd` of process `pid` (pidfd_getfd(2)): it shares
 * the open file description, so reading options sees the live socket. Close
 * it when done (that does not close the other process's descriptor).
 * Never read SO_ERROR through it: reading clears the owner's pending error.
 */
export function borrowSocket(pid: number, fd: number): Socket {
  let pidfd: number;
  try {
    pidfd = native.pidfd_open(pid);
  } catch (e) {
    if (isSystemError(e) && e.code === 'ESRCH') throw noProcess(pid);
    if (isSystemError(e) && e.code === 'ENOSYS') throw new Error('pidfd_open(2) needs Linux 5.3 or later');
    throw e;
  }
  let dup: number;
  try {
    dup = native.pidfd_getfd(pidfd, fd);
  } catch (e) {
    if (!isSystemError(e)) throw e;
    switch (e.code) {
      case 'EPERM':
      case 'EACCES':
        throw new ProcessAccessError(
          `pidfd_getfd ${e.code}: no ptrace permission over process ${pid} (needed to take its descriptor ${fd}); fix: ${fixFor(pid)}`,
          e.code,
        );
      case 'EBADF':
        throw Object.assign(new Error(`process ${pid} has no descriptor ${fd}`), { code: 'EBADF' });
      case 'ESRCH':
        throw noProcess(pid);
      case 'ENOSYS':
        throw new Error(`pidfd_getfd(2) needs Linux 5.6 or later (this kernel: ${sysctl('kernel.osrelease') ?? '?'})`);
      default:
        throw e;
    }
  } finally {
    native.close(pidfd);
  }
  try {
    return Socket.adopt(dup);
  } catch (e) {
    native.close(dup);
    if (isSystemError(e) && e.code === 'ENOTSOCK') {
      let what = '';
      try {
        what = ` (it is ${readlinkSync(`/proc/${pid}/fd/${fd}`)})`;
      } catch {
        /* gone */
      }
      throw Object.assign(new Error(`descriptor ${fd} of process ${pid} is not a socket${what}`), { code: 'ENOTSOCK' });
    }
    throw e;
  }
}
