// netstat -i: net-tools' "Kernel Interface table" (lib/interface.c
// ife_print_short), from RTM_GETLINK's IFLA_STATS64 counted as
// /proc/net/dev counts them (procDevStats), in nstrcmp order.
import type { IfAddr, Link } from '../../stack/inventory/index.js';
import { procDevStats } from './ifconfig.js';

export const IFACE_TITLE = 'Kernel Interface table\n';
export const IFACE_HEADER = 'Iface             MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\n';

// IFF_* bits in the order ife_print_short prints their letters
const FLAGS: [number, string][] = [
  [0x200, 'A'],
  [0x2, 'B'],
  [0x4, 'D'],
  [0x8, 'L'],
  [0x1000, 'M'],
  [0x8000, 'd'],
  [0x100, 'P'],
  [0x20, 'N'],
  [0x80, 'O'],
  [0x10, 'p'],
  [0x800, 's'],
  [0x400, 'm'],
  [0x40, 'R'],
  [0x1, 'U'],
];

/** a name's trailing digits compared as a number (eth2 < eth10) */
function numberedCmp(a: string, b: string): number {
  const split = (s: string) => {
    const m = /^(.*?)(\d*)$/.exec(s)!;
    return [m[1], m[2]] as const;
  };
  const [ap, an] = split(a),
    [bp, bn] = split(b);
  const n = Math.min(ap.length, bp.length);
  const head = ap.slice(0, n) < bp.slice(0, n) ? -1 : ap.slice(0, n) > bp.slice(0, n) ? 1 : 0;
  if (head) return head;
  if (ap.length !== bp.length) return ap.length > bp.length ? 1 : -1;
  const av = Number(an || 0),
    bv = Number(bn || 0);
  if (av !== bv) return av < bv ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** "eth0:1" to ["eth0", 1]; a name without a numeric alias is its own base (-1: no alias) */
function cutAlias(name: string): [string, number] {
  const m = /^(.*):(\d+)$/.exec(name);
  return m ? [m[1]!, Number(m[2])] : [name, -1];
}

/**
 * net-tools' nstrcmp: a numeric alias (eth0:1) cut off and compared after
 * its base, the base's trailing number as a number (eth2 < eth10); a
 * non-numeric alias (eth0:foo) is part of the name.
 */
export function nstrcmp(a: string, b: string): number {
  const [ab, aa] = cutAlias(a),
    [bb, ba] = cutAlias(b);
  const c = numberedCmp(ab, bb);
  if (c) return c;
  return aa === ba ? 0 : aa < ba ? -1 : 1;
}

/** An interface as netstat -i lists it: a link, or an alias (an IPv4 address labelled eth0:1) of one. */
export interface ListedInterface extends Link {
  /** the link an alias belongs to */
  aliasOf?: string;
}

/**
 * The links and their aliases, as net-tools' if_readlist finds them: the
 * links of /proc/net/dev, and each IPv4 label SIOCGIFCONF lists that is not
 * a link's own name (one entry a label). An alias has the link's flags, MTU
 * and hardware, and no counters ("no statistics available").
 */
export function withAliases(links: Link[], addrs: IfAddr[]): ListedInterface[] {
  const out: ListedInterface[] = [...links];
  const seen = new Set(links.map((l) => l.name));
  for (const a of addrs) {
    if (a.family !== 2 || !a.label || seen.has(a.label)) continue;
    const l = links.find((x) => x.index === a.index);
    if (!l) continue;
    seen.add(a.label);
    out.push({ ...l, name: a.label, stats: undefined, aliasOf: l.name });
  }
  return out;
}

export function interfaceLine(l: Link): string {
  const s = l.stats;
  let line = `${(l.name ?? '').slice(0, 15).padEnd(15)} ${String(l.mtu ?? 0).padStart(5)} `;
  if (s) {
    const d = procDevStats(s);
    line += `${String(d.rxPackets).padStart(8)} ${String(d.rxErrors).padStart(6)} ${String(d.rxDropped).padStart(6)} ${String(d.rxFifo).padEnd(6)} `;
    line += `${String(d.txPackets).padStart(8)} ${String(d.txErrors).padStart(6)} ${String(d.txDropped).padStart(6)} ${String(d.txFifo).padStart(6)} `;
  } else {
    line += '     - no statistics available -'.padEnd(56);
  }
  if (l.flags === 0) line += '[NO FLAGS]';
  for (const [bit, c] of FLAGS) if (l.flags & bit) line += c;
  return line + '\n';
}
