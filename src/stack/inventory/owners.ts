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

/** Scan every process once. */
export function scanOwners(): Owners {
  const byInode = new Map<number, Owner[]>();
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
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') denied++;
      continue;
    }
    let names: { comm: string; program: string } | undefined;
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!link.startsWith('socket:[')) continue;
      const inode = Number(link.slice(8, -1));
      names ??= { comm: comm(pid), program: program(pid) };
      const o: Owner = { pid: Number(pid), fd: Number(fd), ...names };
      const list = byInode.get(inode);
      if (list) list.unshift(o);
      else byInode.set(inode, [o]);
    }
  }
  return { get: (inode) => byInode.get(inode), denied };
}
