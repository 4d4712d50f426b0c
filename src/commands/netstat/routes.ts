// netstat -r: net-tools' "Kernel IP routing table" (lib/inet_gr.c
// rprint_fib) from RTM_GETROUTE, with the flags /proc/net/route would carry
// (fib_route_seq_show: the main table, no broadcast or multicast routes).
import { readFileSync } from 'node:fs';
import { formatIPv4 } from '../../stack/packet/addr.js';
import type { Route, Route6 } from '../../stack/inventory/index.js';

const RTF_UP = 0x1,
  RTF_GATEWAY = 0x2,
  RTF_HOST = 0x4,
  RTF_REJECT = 0x200;
const RTN_BROADCAST = 3,
  RTN_MULTICAST = 5,
  RTN_UNREACHABLE = 7,
  RTN_PROHIBIT = 8;
const RTAX_WINDOW = 3,
  RTAX_RTT = 4,
  RTAX_ADVMSS = 8;

export function routeTitle(ext: number): string {
  const head = 'Kernel IP routing table\nDestination     Gateway         Genmask         ';
  if (ext === 1) return `${head}Flags Metric Ref    Use Iface\n`;
  if (ext === 2) return `${head}Flags   MSS Window  irtt Iface\n`;
  return `${head}Flags Metric Ref    Use Iface    MSS   Window irtt\n`;
}

/**
 * netstat -rC: net-tools' "Kernel IP routing cache" (rprint_cache) header,
 * -e swapping it as for the table. Its rows are /proc/net/rt_cache's, which
 * has been a header alone since Linux 3.6 removed the IPv4 route cache.
 */
export function routeCacheTitle(ext: number): string {
  const head = 'Kernel IP routing cache\nSource          Destination     Gateway         ';
  if (ext === 1) return `${head}Flags Metric Ref    Use Iface\n`;
  if (ext === 2) return `${head}Flags   MSS Window  irtt Iface\n`;
  return `${head}Flags Metric Ref    Use Iface    MSS   Window irtt  TOS HHRef HHUptod     SpecDst\n`;
}

/** The main-table routes /proc/net/route lists, with its RTF_* flags. */
export function procRoutes(all: Route[]): (Route & { rtf: number })[] {
  return all
    .filter((r) => r.table === 254 && r.type !== RTN_BROADCAST && r.type !== RTN_MULTICAST)
    .map((r) => {
      let rtf = RTF_UP;
      if (r.type === RTN_UNREACHABLE || r.type === RTN_PROHIBIT) rtf |= RTF_REJECT;
      if (r.gateway) rtf |= RTF_GATEWAY;
      if (r.dstLen === 32) rtf |= RTF_HOST;
      return { ...r, rtf };
    });
}

let networks: Map<string, string> | undefined;
/** getnetbyaddr(3) over /etc/networks */
function networkName(address: string): string | undefined {
  if (!networks) {
    networks = new Map();
    let text = '';
    try {
      text = readFileSync('/etc/networks', 'utf8');
    } catch {
      /* none */
    }
    for (const line of text.split('\n')) {
      const f = line.replace(/#.*/, '').trim().split(/\s+/);
      if (f.length < 2) continue;
      const parts = f[1].split('.').map(Number);
      while (parts.length < 4) parts.push(0);
      const key = parts.join('.');
      if (!networks.has(key)) networks.set(key, f[0]);
    }
  }
  return networks.get(address);
}

const maskOf = (len: number) => formatIPv4(Buffer.from([0, 8, 16, 24].map((s) => (len >= s + 8 ? 255 : len <= s ? 0 : (0xff << (8 - (len - s))) & 0xff))));

export interface Names {
  numeric: boolean;
  /** a host's name (gethostbyaddr), the address when it has none */
  host(address: string): string;
  ifname(index: number): string | undefined;
}

export function routeLine(r: Route & { rtf: number }, ext: number, n: Names): string {
  const dst = r.dst ? formatIPv4(r.dst) : '0.0.0.0';
  const gw = r.gateway ? formatIPv4(r.gateway) : '0.0.0.0';
  const mask = maskOf(r.dstLen);
  // INET_rresolve: 0.0.0.0/0 is "default", a host route (or host bits set) a host name, else a network name
  let target = dst;
  if (!n.numeric) {
    if (dst === '0.0.0.0' && r.dstLen === 0) target = 'default';
    else if (r.rtf & RTF_HOST || dst.split('.')[0] !== '0') target = r.rtf & RTF_HOST ? n.host(dst) : (networkName(dst) ?? dst);
  }
  const gate = !n.numeric && gw !== '0.0.0.0' ? n.host(gw) : gw;
  let flags = 'U';
  if (r.rtf & RTF_GATEWAY) flags += 'G';
  if (r.rtf & RTF_REJECT) flags = '!';
  if (r.rtf & RTF_HOST) flags += 'H';
  const mss = r.metrics[RTAX_ADVMSS] ? r.metrics[RTAX_ADVMSS]! + 40 : 0;
  const window = r.metrics[RTAX_WINDOW] ?? 0,
    irtt = (r.metrics[RTAX_RTT] ?? 0) >> 3;
  const metric = r.priority ?? 0;
  const iface = (r.oif ? n.ifname(r.oif) : undefined) ?? '*';
  const c15 = (s: string) => s.slice(0, 15).padEnd(15);
  const reject = (r.rtf & RTF_REJECT) !== 0;
  if (ext === 1) {
    return reject
      ? `${c15(target)} -               ${c15(mask)} ${flags.padEnd(5)} ${String(metric).padEnd(6)} -  ${'0'.padStart(7)} -\n`
      : `${c15(target)} ${c15(gate)} ${c15(mask)} ${flags.padEnd(5)} ${String(metric).padEnd(6)} ${'0'.padEnd(2)} ${'0'.padStart(7)} ${iface}\n`;
  }
  if (ext === 2) {
    return reject
      ? `${c15(target)} -               ${c15(mask)} ${flags.padEnd(5)}     - -          - -\n`
      : `${c15(target)} ${c15(gate)} ${c15(mask)} ${flags.padEnd(5)} ${String(mss).padStart(5)} ${String(window).padEnd(5)} ${String(irtt).padStart(6)} ${iface}\n`;
  }
  return reject
    ? `${c15(target)} -               ${c15(mask)} ${flags.padEnd(5)} ${String(metric).padEnd(6)} -  ${'0'.padStart(7)} -        -     -      -\n`
    : `${c15(target)} ${c15(gate)} ${c15(mask)} ${flags.padEnd(5)} ${String(metric).padEnd(6)} ${'0'.padEnd(3)} ${'0'.padStart(6)} ${iface.slice(0, 6).padEnd(6)}   ${String(mss).padEnd(5)} ${String(window).padEnd(6)} ${irtt}\n`;
}

// netstat -6 -r: net-tools' "Kernel IPv6 routing table" (lib/inet6_gr.c
// rprint_fib6) from /proc/net/ipv6_route, the only place with the Ref
// column (the fib entry's refcount); -e changes nothing here, as in netstat.
export const ROUTE6_TITLE = 'Kernel IPv6 routing table\nDestination                    Next Hop                   Flag Met Ref  Use If\n';
/** netstat -6 -rC: the same table, of the RTF_CACHE entries only */
export const ROUTE6_CACHE_TITLE = ROUTE6_TITLE.replace('table', 'cache');

// RTF_* of <linux/ipv6_route.h> in the order rprint_fib6 prints their letters
const RTF6: [number, string][] = [
  [0x1, 'U'],
  [0x200, '!'],
  [0x2, 'G'],
  [0x4, 'H'],
  [0x10000, 'D'],
  [0x40000, 'A'],
  [0x1000000, 'C'],
  [0x20000, 'a'],
  [0x400000, 'e'],
  [0x20, 'm'],
  [0x200000, 'n'],
  [0x2000000, 'f'],
];
export const RTF_CACHE = 0x1000000;

export function route6Flags(flags: number): string {
  let s = '';
  for (const [bit, c] of RTF6) if (flags & bit) s += c;
  return s;
}

/** INET6_sprint: the address with -n; else "[::]" for the unspecified one and a name when it has one */
export function route6Host(address: string, numeric: boolean, host: (a: string) => string): string {
  if (numeric) return address;
  return address === '::' ? '[::]' : host(address);
}

export function route6Line(r: Route6, numeric: boolean, host: (a: string) => string): string {
  const dst = `${route6Host(r.dst, numeric, host)}/${r.dstLen}`;
  // %-3d and %d of ints: a metric of 0xffffffff prints as -1
  return `${dst.padEnd(30)} ${route6Host(r.nextHop, numeric, host).padEnd(26)} ${route6Flags(r.flags).padEnd(4)} ${String(r.metric | 0).padEnd(3)} ${String(r.refcnt | 0).padEnd(1)} ${String(r.use | 0).padStart(6)} ${r.device}\n`;
}
