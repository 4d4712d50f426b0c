// What the inventory's renderers look up about the system: interface names
// (if_indextoname(3)) and cgroup v2 paths by id (the directory's inode,
// as ss's cg_id_to_path finds them under /sys/fs/cgroup).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { native } from '../native/index.js';

const names = new Map<number, string | undefined>();

/** The name of interface `index`, undefined when there is none. */
export function interfaceName(index: number): string | undefined {
  if (!names.has(index)) {
    let n: string | undefined;
    try {
      n = native.if_indextoname(index);
    } catch {
      n = undefined;
    }
    names.set(index, n);
  }
  return names.get(index);
}

/** The index of an interface name, 0 when there is none. */
export function interfaceIndex(name: string): number {
  try {
    return native.if_nametoindex(name);
  } catch {
    return 0;
  }
}

/** The cgroup2 mount point (/proc/mounts), where ids are directory inodes. */
function cgroup2Root(): string | undefined {
  try {
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const f = line.split(' ');
      if (f[2] === 'cgroup2') return f[1].replace(/\\040/g, ' ');
    }
  } catch {
    /* no /proc */
  }
  return undefined;
}

let cgroups: Map<number, string> | undefined;

function walk(dir: string, rel: string, out: Map<number, string>, depth: number): void {
  if (depth > 32) return;
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const path = `${dir}/${e.name}`;
    try {
      out.set(statSync(path).ino, `${rel}/${e.name}`);
    } catch {
      continue;
    }
    walk(path, `${rel}/${e.name}`, out, depth + 1);
  }
}

/** The cgroup v2 path of a cgroup id ("/" for the root), "unreachable:ID" as ss says when unknown. */
export function cgroupPath(id: number): string {
  if (!cgroups) {
    cgroups = new Map();
    const root = cgroup2Root();
    if (root) {
      try {
        cgroups.set(statSync(root).ino, '/');
      } catch {
        /* unreadable */
      }
      walk(root, '', cgroups, 0);
    }
  }
  return cgroups.get(id) ?? `unreachable:${id.toString(16)}`;
}
