// Process owners of sockets (ss -p, netstat -p): one pass over /proc/*/fd
// mapping socket inodes to pid, fd and the process's names, made only when
// asked. Unreadable processes are skipped and counted (netstat says so).
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

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
  /** processes whose descriptors could not be read (EACCES): not every owner is known */
  denied: number;
}

function comm(pid: string): string {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
  } catch {
    return '';
  }
}

function program(pid: string): string {
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

/** Scan every process once. */
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
  let pids: string[];
  try {
    pids = readdirSync('/proc');
  } catch {
    return { get: () => undefined, denied: 1 };
  }
  for (const pid of pids) {
    const c0 = pid.charCodeAt(0);
    if (c0 < 48 || c0 > 57) continue;
    const dir = `/proc/${pid}/fd/`;
    let fds: string[];
    try {
      fds = readdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') denied++;
      continue;
    }
    let proc = -1;
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(dir + fd);
      } catch {
        continue;
      }
      if (!link.startsWith('socket:[')) continue;
      const inode = Number(link.slice(8, -1));
      if (proc < 0) proc = procs.push({ comm: comm(pid), program: program(pid) }) - 1;
      if (n === pid32.length) {
        pid32 = grown(pid32);
        fd32 = grown(fd32);
        proc32 = grown(proc32);
        next32 = grown(next32);
      }
      pid32[n] = Number(pid);
      fd32[n] = Number(fd);
      proc32[n] = proc;
      next32[n] = head.get(inode) ?? -1;
      head.set(inode, n++);
    }
  }
  const get = (inode: number): Owner[] | undefined => {
    let i = head.get(inode);
    if (i === undefined) return undefined;
    const out: Owner[] = [];
    for (; i >= 0; i = next32[i]!) out.push({ pid: pid32[i]!, fd: fd32[i]!, ...procs[proc32[i]!]! });
    return out;
  };
  return { get, denied };
}
