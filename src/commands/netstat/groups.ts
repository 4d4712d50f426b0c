// netstat -g: multicast group memberships from /proc/net/igmp and
// /proc/net/igmp6 (igmp_do_one), IPv4 then IPv6, as net-tools prints them.
import { formatIPv4, formatIPv6 } from '../../stack/packet/addr.js';

export const GROUPS_TITLE = 'IPv6/IPv4 Group Memberships\nInterface       RefCnt Group\n--------------- ------ ---------------------\n';

export interface Membership {
  family: 4 | 6;
  device: string;
  refcnt: number;
  group: string;
}

/** /proc/net/igmp: "Idx Device : Count Querier" lines, then a tab-indented "Group Users ..." per group */
export function parseIgmp(text: string): Membership[] {
  const out: Membership[] = [];
  let device = '';
  for (const line of text.split('\n').slice(1)) {
    if (line === '') continue;
    if (line[0] !== '\t') {
      // sscanf("%d\t%15c"): 15 characters after the index, cut at the last ':'
      const name = line.slice(line.indexOf('\t') + 1).slice(0, 15);
      const colon = name.lastIndexOf(':');
      device = (colon >= 0 ? name.slice(0, colon) : name).trimEnd();
      continue;
    }
    const m = /^\t+([0-9A-Fa-f]{1,8})\s+(\d+)/.exec(line);
    if (!m) continue;
    const b = Buffer.alloc(4);
    b.writeUInt32LE(parseInt(m[1], 16) >>> 0, 0); // the __be32 printed as %08X in host order
    out.push({ family: 4, device, refcnt: Number(m[2]), group: formatIPv4(b) });
  }
  return out;
}

/** /proc/net/igmp6: "idx device group(hex) users flags timer" */
export function parseIgmp6(text: string): Membership[] {
  const out: Membership[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || !/^[0-9a-f]{32}$/i.test(f[2])) continue;
    out.push({ family: 6, device: f[1].slice(0, 15), refcnt: Number(f[3]), group: formatIPv6(Buffer.from(f[2], 'hex')) });
  }
  return out;
}

export function groupLine(m: Membership, name: string): string {
  return `${m.device.padEnd(15)} ${String(m.refcnt).padEnd(6)} ${name}\n`;
}
