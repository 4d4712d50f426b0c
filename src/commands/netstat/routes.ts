// netstat -r: net-tools' "Kernel IP routing table" (lib/inet_gr.c
// rprint_fib) from RTM_GETROUTE, with the flags /proc/net/route would carry
// (fib_route_seq_show: the main table, no broadcast or multicast routes).
import { readFileSync } from 'node:fs';
import { formatIPv4 } from '../../stack/packet/addr.js';
import type { Route } from '../../stack/inventory/index.js';

const RTF_UP = 0x1, RTF_GATEWAY = 0x2, RTF_HOST = 0x4, RTF_REJECT = 0x200;
const RTN_BROADCAST = 3, RTN_MULTICAST = 5, RTN_UNREACHABLE = 7, RTN_PROHIBIT = 8;
const RTAX_WINDOW = 3, RTAX_RTT = 4, RTAX_ADVMSS = 8;

export function routeTitle(ext: number): string {
  const head = 'Kernel IP routing table\nDestination     Gateway         Genmask         ';
  if (ext === 1) return `${head}Flags Metric Ref    Use Iface\n`;
  if (ext === 2) return `${head}Flags   MSS Window  irtt Iface\n`;
  return `${head}Flags Metric Ref    Use Iface    MSS   Window irtt\n`;
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
    try { text = readFileSync('/etc/networks', 'utf8'); } catch { /* none */ }
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
  const window = r.metrics[RTAX_WINDOW] ?? 0, irtt = (r.metrics[RTAX_RTT] ?? 0) >> 3;
  const metric = r.priority ?? 0;
  const iface = (r.oif ? n.ifname(r.oif) : undefined) ?? '*';
  const c15 = (s: string) => s.slice(0, 15).padEnd(15);
  const reject = (r.rtf & RTF_REJECT) !== 0;
  if (ext === 1) {
    return reject ? `${c15(target)} -               ${c15(mask)} ${flags.padEnd(5)} ${String(metric).padEnd(6)} -  ${'0'.padStart(7)} -\n`
      : `${c15(target)} ${c15(gate)} ${c15(mask)} ${flags.padEnd(5)} ${String(metric).padEnd(6)} ${'0'.padEnd(2)} ${'0'.padStart(7)} ${iface}\n`;
  }
  if (ext === 2) {
    return reject ? `${c15(target)} -               ${c15(mask)} ${flags.padEnd(5)}     - -          - -\n`
      : `${c15(target)} ${c15(gate)} ${c15(mask)} ${flags.padEnd(5)} ${String(mss).padStart(5)} ${String(window).padEnd(5)} ${String(irtt).padStart(6)} ${iface}\n`;
  }
  return reject ? `${c15(target)} -               ${c15(mask)} ${flags.padEnd(5)} ${String(metric).padEnd(6)} -  ${'0'.padStart(7)} -        -     -      -\n`
    : `${c15(target)} ${c15(gate)} ${c15(mask)} ${flags.padEnd(5)} ${String(metric).padEnd(6)} ${'0'.padEnd(3)} ${'0'.padStart(6)} ${iface.slice(0, 6).padEnd(6)}   ${String(mss).padEnd(5)} ${String(window).padEnd(6)} ${irtt}\n`;
}
