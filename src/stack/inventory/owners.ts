// Process owners of sockets (ss -p, netstat -p): one pass over /proc/*/fd
// mapping socket inodes to pid, fd and the process's names, made only when
// asked. Unreadable processes are skipped and counted (netstat says so).
import { constants, readFileSync } from 'node:fs';
import { native } from '../native/index.js';

const { O_DIRECTORY } = constants;
const AT_FDCWD = -100;

export interface Owner {
  pid: number;
  fd: number;
  /** /proc/PID/stat's comm (what ss prints) */
  comm: string;
  /** argv[0] as netstat shows it: the basename of an absolute path, else as given */
  program: string;
}

export interface Owners {
  /** the owners of a socket inode, in ss's order (the last one found first) */
  get(inode: number): Owner[] | undefined;
  /** get()'s owners one by one, building nothing: for listings that measure lines they write later */
  forEach(inode: number, visit: (pid: number, fd: number, comm: string) => void): void;
  /** processes whose descriptors could not be read (EACCES): not every owner is known */
  denied: number;
}

function comm(pid: number): string {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
  } catch {
    return '';
  }
}

function program(pid: number): string {
  let cmd: string;
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return '';
  }
  const nul = cmd.indexOf('\0');
  let arg0 = (nul < 0 ? cmd : cmd.slice(0, nul)).slice(0, 511).replace(/[^ -~]/g, '.');
  if (arg0.startsWith('/')) arg0 = arg0.slice(arg0.lastIndexOf('/') + 1);
  return arg0;
}

function grown(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** the decimal number at b[at] ended by the byte `stop` before `end`, or -1 */
function decimal(b: Uint8Array, at: number, end: number, stop: number): number {
  let v = 0;
  let i = at;
  for (; i < end; i++) {
    const c = b[i]! - 48;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
  }
  return i === at || i === end || b[i] !== stop ? -1 : v;
}

// "socket:["
const SOCKET = [0x73, 0x6f, 0x63, 0x6b, 0x65, 0x74, 0x3a, 0x5b];

/**
 * The numbered entries of a directory in the kernel's order (for /proc and
 * /proc/PID/fd, ascending: the order ss's readdir sees), by getdents64 into
 * `buf`; each goes to `each`.
 */
function entries(fd: number, buf: Buffer, each: (n: number) => void): void {
  for (let got = native.getdents64(fd, buf); got > 0; got = native.getdents64(fd, buf)) {
    // struct linux_dirent64: d_reclen (u16) at 16, d_name (NUL-ended) at 19
    for (let at = 0; at < got; at += buf.readUInt16LE(at + 16)) {
      const n = decimal(buf, at + 19, at + buf.readUInt16LE(at + 16), 0);
      if (n >= 0) each(n);
    }
  }
}

/**
 * Scan every process once: /proc and each /proc/PID/fd read with
 * getdents64 and each descriptor's link with readlinkat into one buffer, so
 * a descriptor costs one syscall and its target is never decoded to a
 * string. The order is ss's (and netstat's, which keeps the first found).
 */
export function scanOwners(): Owners {
  // kept compact until asked: per descriptor found, its pid, fd and process
  // (an index into `procs`) in typed arrays, chained per inode (the last found first)
  const head = new Map<number, number>();
  let pid32: Int32Array = new Int32Array(1024),
    fd32: Int32Array = new Int32Array(1024),
    proc32: Int32Array = new Int32Array(1024),
    next32: Int32Array = new Int32Array(1024);
  let n = 0;
  const procs: { comm: string; program: string }[] = [];
  let denied = 0;
  const dirents = Buffer.allocUnsafe(32768);
  const fdDirents = Buffer.allocUnsafe(32768);
  const link = Buffer.allocUnsafe(64);
  let proc: number;
  try {
    proc = native.openat(AT_FDCWD, '/proc', O_DIRECTORY);
  } catch {
    return { get: () => undefined, forEach: () => {}, denied: 1 };
  }
  try {
    entries(proc, dirents, (pid) => {
      let dir: number;
      try {
        dir = native.openat(proc, `${pid}/fd`, O_DIRECTORY);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EACCES') denied++;
        return;
      }
      let owner = -1;
      try {
        entries(dir, fdDirents, (fd) => {
          let len: number;
          try {
            len = native.readlinkat(dir, `${fd}`, link);
          } catch {
            return; // closed since the directory was read
          }
          if (len < 10) return;
          for (let i = 0; i < 8; i++) if (link[i] !== SOCKET[i]) return;
          const inode = decimal(link, 8, len, 0x5d);
          if (inode < 0) return;
          if (owner < 0) owner = procs.push({ comm: comm(pid), program: program(pid) }) - 1;
          if (n === pid32.length) {
            pid32 = grown(pid32);
            fd32 = grown(fd32);
            proc32 = grown(proc32);
            next32 = grown(next32);
          }
          pid32[n] = pid;
          fd32[n] = fd;
          proc32[n] = owner;
          next32[n] = head.get(inode) ?? -1;
          head.set(inode, n++);
        });
      } catch {
        // the process exited while its descriptors were read
      } finally {
        native.close(dir);
      }
    });
  } catch {
    // /proc could not be read to its end: what was found stands
  } finally {
    native.close(proc);
  }
  const get = (inode: number): Owner[] | undefined => {
    let i = head.get(inode);
    if (i === undefined) return undefined;
    const out: Owner[] = [];
    for (; i >= 0; i = next32[i]!) out.push({ pid: pid32[i]!, fd: fd32[i]!, ...procs[proc32[i]!]! });
    return out;
  };
  const forEach = (inode: number, visit: (pid: number, fd: number, comm: string) => void): void => {
    for (let i = head.get(inode) ?? -1; i >= 0; i = next32[i]!) visit(pid32[i]!, fd32[i]!, procs[proc32[i]!]!.comm);
  };
  return { get, forEach, denied };
}
