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

/** /proc/PID/stat's comm as ss reads it (fscanf "%*d (%[^)])": up to the first ')'); undefined when unreadable */
export function processComm(pid: number, root = '/proc'): string | undefined {
  try {
    return /^\d+ \(([^)]*)/.exec(readFileSync(`${root}/${pid}/stat`, 'latin1'))?.[1];
  } catch {
    return undefined;
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

/** descriptors a chunk of the index holds (chunks are never copied into bigger ones) */
const CHUNK_SHIFT = 12;
const CHUNK = 1 << CHUNK_SHIFT;

/**
 * Socket inode -> the descriptors found for it, all in typed arrays (off the
 * JavaScript heap, so a scan of 20,000 descriptors leaves the collector
 * nothing to copy). The scan appends each socket descriptor's inode and
 * number to chunks; seal() then makes, once and at its final size, an
 * open-addressed table of inodes (socket inodes are 32-bit, never 0) to
 * their last-found descriptor, each descriptor chained to the one found
 * before it for the same inode. Nothing is grown by copying, so the index
 * never holds more than its entries and one chunk's slack. A descriptor's
 * process is the run of descriptors it falls in (the scan reads one process
 * at a time).
 */
class OwnerIndex {
  private inodes: Uint32Array[] = [];
  private fds: Int32Array[] = [];
  private nexts: Int32Array[] = [];
  private keys = new Uint32Array(1);
  private heads = new Int32Array(1);
  private n = 0;
  /** per process with sockets: its first descriptor's number, pid and names */
  private readonly runFrom: number[] = [];
  private readonly runs: { pid: number; comm: string; program: string }[] = [];

  /** the process whose descriptors add() gets from now on */
  process(pid: number, comm: string, program: string): void {
    this.runFrom.push(this.n);
    this.runs.push({ pid, comm, program });
  }

  add(inode: number, fd: number): void {
    if (inode <= 0 || inode > 0xffffffff) return;
    const c = this.n >> CHUNK_SHIFT;
    if (c === this.inodes.length) {
      this.inodes.push(new Uint32Array(CHUNK));
      this.fds.push(new Int32Array(CHUNK));
    }
    this.inodes[c]![this.n & (CHUNK - 1)] = inode;
    this.fds[c]![this.n & (CHUNK - 1)] = fd;
    this.n++;
  }

  /** the table over what add() added, at most three quarters full */
  seal(): void {
    let size = 2;
    while (3 * size < 4 * this.n) size *= 2;
    const keys = (this.keys = new Uint32Array(size));
    const heads = (this.heads = new Int32Array(size));
    this.nexts = this.inodes.map(() => new Int32Array(CHUNK));
    for (let k = 0; k < this.n; k++) {
      const inode = this.inodes[k >> CHUNK_SHIFT]![k & (CHUNK - 1)]!;
      const i = this.slot(inode);
      if (keys[i] === inode) this.nexts[k >> CHUNK_SHIFT]![k & (CHUNK - 1)] = heads[i]!;
      else {
        keys[i] = inode;
        this.nexts[k >> CHUNK_SHIFT]![k & (CHUNK - 1)] = -1;
      }
      heads[i] = k;
    }
    this.inodes = [];
  }

  /** the slot of inode: where it is, or the empty one where it goes */
  private slot(inode: number): number {
    const keys = this.keys;
    const mask = keys.length - 1;
    // Fibonacci hashing: consecutive inodes spread over the table
    let i = (Math.imul(inode, 0x9e3779b1) >>> 0) & mask;
    while (keys[i] !== 0 && keys[i] !== inode) i = (i + 1) & mask;
    return i;
  }

  /** the last descriptor found for inode, -1 for none */
  head(inode: number): number {
    if (inode <= 0 || inode > 0xffffffff) return -1;
    const i = this.slot(inode);
    return this.keys[i] === inode ? this.heads[i]! : -1;
  }

  /** the descriptor found before k for the same inode, -1 for none */
  next(k: number): number {
    return this.nexts[k >> CHUNK_SHIFT]![k & (CHUNK - 1)]!;
  }

  fd(k: number): number {
    return this.fds[k >> CHUNK_SHIFT]![k & (CHUNK - 1)]!;
  }

  /** the process of descriptor k */
  run(k: number): { pid: number; comm: string; program: string } {
    const from = this.runFrom;
    let lo = 0,
      hi = from.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (from[mid]! <= k) lo = mid;
      else hi = mid - 1;
    }
    return this.runs[lo]!;
  }
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

// a descriptor's name in /proc/PID/fd, NUL-ended, copied from its dirent for each (no string per descriptor)
const name = Buffer.alloc(12);
function fdName(dirents: Buffer, at: number): Buffer {
  let i = 0;
  for (; dirents[at + i] !== 0; i++) name[i] = dirents[at + i]!;
  name[i] = 0;
  return name;
}

/**
 * The numbered entries of a directory in the kernel's order (for /proc and
 * /proc/PID/fd, ascending: the order ss's readdir sees), by getdents64 into
 * `buf`; each goes to `each` with where its name lies in `buf`.
 */
function entries(fd: number, buf: Buffer, each: (n: number, name: number) => void): void {
  for (let got = native.getdents64(fd, buf); got > 0; got = native.getdents64(fd, buf)) {
    // struct linux_dirent64: d_reclen (u16) at 16, d_name (NUL-ended) at 19
    for (let at = 0; at < got; at += buf.readUInt16LE(at + 16)) {
      const n = decimal(buf, at + 19, at + buf.readUInt16LE(at + 16), 0);
      if (n >= 0) each(n, at + 19);
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
  const index = new OwnerIndex();
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
      let named = false;
      try {
        entries(dir, fdDirents, (fd, at) => {
          let len: number;
          try {
            len = native.readlinkat(dir, fdName(fdDirents, at), link);
          } catch {
            return; // closed since the directory was read
          }
          if (len < 10) return;
          for (let i = 0; i < 8; i++) if (link[i] !== SOCKET[i]) return;
          const inode = decimal(link, 8, len, 0x5d);
          if (inode < 0) return;
          if (!named) {
            named = true;
            index.process(pid, processComm(pid) ?? '', program(pid));
          }
          index.add(inode, fd);
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
  index.seal();
  const get = (inode: number): Owner[] | undefined => {
    let k = index.head(inode);
    if (k < 0) return undefined;
    const out: Owner[] = [];
    for (; k >= 0; k = index.next(k)) {
      const r = index.run(k);
      out.push({ pid: r.pid, fd: index.fd(k), comm: r.comm, program: r.program });
    }
    return out;
  };
  const forEach = (inode: number, visit: (pid: number, fd: number, comm: string) => void): void => {
    for (let k = index.head(inode); k >= 0; k = index.next(k)) {
      const r = index.run(k);
      visit(r.pid, index.fd(k), r.comm);
    }
  };
  return { get, forEach, denied };
}
