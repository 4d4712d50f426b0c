// netstat -ie: each interface as ifconfig prints it (net-tools
// lib/interface.c ife_print_long): flags, the IPv4 address of the
// interface's own label (SIOCGIFADDR's), the IPv6 addresses in
// /proc/net/if_inet6's order, the hardware line, and the counters as
// /proc/net/dev sums them (dev_seq_printf_stats) from IFLA_STATS64.
import { formatIPv4 } from '../../stack/packet/addr.js';
import type { IfAddr, IfInet6, Link, LinkStats } from '../../stack/inventory/index.js';

// IFF_* in the order ife_print_long names them
const FLAG_NAMES: [number, string][] = [
  [0x1, 'UP'],
  [0x2, 'BROADCAST'],
  [0x4, 'DEBUG'],
  [0x8, 'LOOPBACK'],
  [0x10, 'POINTOPOINT'],
  [0x20, 'NOTRAILERS'],
  [0x40, 'RUNNING'],
  [0x80, 'NOARP'],
  [0x100, 'PROMISC'],
  [0x200, 'ALLMULTI'],
  [0x800, 'SLAVE'],
  [0x400, 'MASTER'],
  [0x1000, 'MULTICAST'],
  [0x8000, 'DYNAMIC'],
];
const IFF_BROADCAST = 0x2,
  IFF_POINTOPOINT = 0x10;
const ARPHRD_ETHER = 1,
  ARPHRD_LOOPBACK = 772;
// IPV6_ADDR_* scope bits of /proc/net/if_inet6
const COMPATV4 = 0x80,
  LOOPBACK = 0x10,
  LINKLOCAL = 0x20,
  SITELOCAL = 0x40;

/** the flags word as SIOCGIFFLAGS gives it: ifr_flags is a short (IFF_LOWER_UP and above are cut) */
const ifrFlags = (flags: number) => flags & 0xffff;

function flagText(flags: number): string {
  const names = FLAG_NAMES.filter(([bit]) => flags & bit).map(([, n]) => n);
  // net-tools drops the last character when it is not a ',': "flags=0<", "flags=8192"
  return `flags=${flags}${names.length ? `<${names.join(',')}>` : flags === 0 ? '<' : ''}`;
}

/** the counters of /proc/net/dev, which is what ifconfig reads */
export function procDevStats(s: LinkStats) {
  const v = (k: keyof LinkStats) => s[k] ?? 0;
  return {
    rxPackets: v('rx_packets'),
    rxBytes: v('rx_bytes'),
    rxErrors: v('rx_errors'),
    rxDropped: v('rx_dropped') + v('rx_missed_errors'),
    rxFifo: v('rx_fifo_errors'),
    rxFrame: v('rx_length_errors') + v('rx_over_errors') + v('rx_crc_errors') + v('rx_frame_errors'),
    txPackets: v('tx_packets'),
    txBytes: v('tx_bytes'),
    txErrors: v('tx_errors'),
    txDropped: v('tx_dropped'),
    txFifo: v('tx_fifo_errors'),
    collisions: v('collisions'),
    txCarrier: v('tx_carrier_errors') + v('tx_aborted_errors') + v('tx_window_errors') + v('tx_heartbeat_errors'),
  };
}

/** "(450.6 MiB)": tenths of the largest binary unit the count passes, truncated as ife_print_long does */
export function byteUnit(n: number): string {
  const b = BigInt(n);
  const units: [bigint, string][] = [
    [1n << 50n, 'PiB'],
    [1n << 40n, 'TiB'],
    [1n << 30n, 'GiB'],
    [1n << 20n, 'MiB'],
    [1n << 10n, 'KiB'],
  ];
  let short = b * 10n,
    unit = 'B';
  for (const [size, name] of units) {
    if (b > size) {
      short = name === 'PiB' && b > 9223372036854775807n / 10n ? b / 112589990684262n : short / size;
      unit = name;
      break;
    }
  }
  return `${short / 10n}.${short % 10n} ${unit}`;
}

function scopeText(scope: number): string {
  const names: string[] = [];
  if (scope & COMPATV4) {
    names.push('compat');
    scope -= COMPATV4;
  }
  if (scope === 0) names.push('global');
  if (scope & LINKLOCAL) names.push('link');
  if (scope & SITELOCAL) names.push('site');
  if (scope & LOOPBACK) names.push('host');
  return names.length ? `<${names.join(',')}>` : '';
}

function hardwareLine(l: Link): string {
  const q = l.txqlen !== undefined ? `  txqueuelen ${l.txqlen}` : '';
  if (l.type === ARPHRD_ETHER) {
    const mac = [...(l.address ?? Buffer.alloc(6))]
      .slice(0, 6)
      .map((x) => x.toString(16).padStart(2, '0'))
      .join(':');
    return `        ether ${mac}${q}  (Ethernet)\n`;
  }
  if (l.type === ARPHRD_LOOPBACK) return `        loop${q}  (Local Loopback)\n`;
  // unspec_hwtype: the 16 bytes of the address as hex pairs joined by '-'
  const raw = Buffer.alloc(16);
  l.address?.copy(raw, 0, 0, 16);
  return `        unspec ${[...raw].map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join('-')}${q}  (UNSPEC)\n`;
}

const maskOf = (len: number) => formatIPv4(Buffer.from([0, 8, 16, 24].map((s) => (len >= s + 8 ? 255 : len <= s ? 0 : (0xff << (8 - (len - s))) & 0xff))));

/** One interface's block, its blank line included. */
export function ifconfigBlock(l: Link, v4: IfAddr | undefined, v6: IfInet6[]): string {
  const flags = ifrFlags(l.flags);
  let s = `${l.name}: ${flagText(flags)}  mtu ${l.mtu ?? 0}\n`;
  if (v4) {
    const local = v4.local ?? v4.address!;
    s += `        inet ${formatIPv4(local)}  netmask ${maskOf(v4.prefixLen)}`;
    if (flags & IFF_BROADCAST) s += `  broadcast ${v4.broadcast ? formatIPv4(v4.broadcast) : '0.0.0.0'}`;
    if (flags & IFF_POINTOPOINT) s += `  destination ${formatIPv4(v4.address ?? local)}`;
    s += '\n';
  }
  for (const a of v6) s += `        inet6 ${a.address}  prefixlen ${a.prefixLen}  scopeid 0x${a.scope.toString(16)}${scopeText(a.scope)}\n`;
  s += hardwareLine(l);
  if (l.stats) {
    const d = procDevStats(l.stats);
    s += `        RX packets ${d.rxPackets}  bytes ${d.rxBytes} (${byteUnit(d.rxBytes)})\n`;
    s += `        RX errors ${d.rxErrors}  dropped ${d.rxDropped}  overruns ${d.rxFifo}  frame ${d.rxFrame}\n`;
    s += `        TX packets ${d.txPackets}  bytes ${d.txBytes} (${byteUnit(d.txBytes)})\n`;
    s += `        TX errors ${d.txErrors}  dropped ${d.txDropped} overruns ${d.txFifo}  carrier ${d.txCarrier}  collisions ${d.collisions}\n`;
  }
  const m = l.map;
  if (m && (m.irq || m.memStart || m.dma || m.baseAddr >= 0x100)) {
    s += '        device ';
    if (m.irq) s += `interrupt ${m.irq}  `;
    if (m.baseAddr >= 0x100) s += `base 0x${m.baseAddr.toString(16)}  `;
    if (m.memStart) s += `memory 0x${m.memStart.toString(16)}-${m.memEnd.toString(16)}  `;
    if (m.dma) s += `  dma 0x${m.dma.toString(16)}`;
    s += '\n';
  }
  return s + '\n';
}
