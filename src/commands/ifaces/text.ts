// The wording of sockit ifaces: UNP 17.6 prifinfo.c's lines (ioctl/prifinfo.c
// in unpv13e), and the -l table.
import { operstateName, type Interface, type InterfaceAddress } from '../../stack/inventory/index.js';

export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_POINTOPOINT = 0x10;
export const IFF_RUNNING = 0x40;
export const IFF_MULTICAST = 0x1000;

/** prifinfo's flag words, in its order: "<UP BCAST MCAST LOOP P2P >" */
export function bookFlags(flags: number): string {
  const words: [number, string][] = [
    [IFF_UP, 'UP'],
    [IFF_BROADCAST, 'BCAST'],
    [IFF_MULTICAST, 'MCAST'],
    [IFF_LOOPBACK, 'LOOP'],
    [IFF_POINTOPOINT, 'P2P'],
  ];
  return `<${words
    .filter(([bit]) => flags & bit)
    .map(([, w]) => `${w} `)
    .join('')}>`;
}

// iproute2's print_link_flags order and names (ip/ipaddress.c)
const IP_FLAGS: [number, string][] = [
  [0x8, 'LOOPBACK'],
  [0x2, 'BROADCAST'],
  [0x10, 'POINTOPOINT'],
  [0x1000, 'MULTICAST'],
  [0x80, 'NOARP'],
  [0x200, 'ALLMULTI'],
  [0x100, 'PROMISC'],
  [0x400, 'MASTER'],
  [0x800, 'SLAVE'],
  [0x4, 'DEBUG'],
  [0x8000, 'DYNAMIC'],
  [0x4000, 'AUTOMEDIA'],
  [0x2000, 'PORTSEL'],
  [0x20, 'NOTRAILERS'],
  [0x1, 'UP'],
  [0x10000, 'LOWER_UP'],
  [0x20000, 'DORMANT'],
  [0x40000, 'ECHO'],
];

/** The flags as ip(8) names them: NO-CARRIER when up without IFF_RUNNING, print_link_flags' words, M-DOWN. */
export function ipFlags(flags: number, linkDown = false): string[] {
  const out: string[] = [];
  if (flags & IFF_UP && !(flags & IFF_RUNNING)) out.push('NO-CARRIER');
  let rest = flags & ~IFF_RUNNING;
  for (const [bit, name] of IP_FLAGS)
    if (rest & bit) {
      out.push(name);
      rest &= ~bit;
    }
  if (rest) out.push(`0x${rest.toString(16)}`);
  if (linkDown) out.push('M-DOWN');
  return out;
}

/** One ifi_info of get_ifi_info: an interface with (at most) one address. */
export interface IfiInfo {
  iface: Interface;
  addr?: InterfaceAddress;
}

/** prifinfo's lines for one ifi_info. */
export function prifinfo(e: IfiInfo): string {
  const { iface: i, addr: a } = e;
  let s = `${i.name}: ${i.index ? `(${i.index}) ` : ''}${bookFlags(i.flags)}\n`;
  // printf("%s%x", i == hlen ? "  " : ":", *ptr++): no zero padding
  // loopback's all-zero address counts as none (BSD's lo0 has sdl_alen 0)
  if (i.hardwareAddress && /[1-9a-f]/.test(i.hardwareAddress))
    s += `  ${i.hardwareAddress
      .split(':')
      .map((x) => parseInt(x, 16).toString(16))
      .join(':')}\n`;
  if (i.mtu) s += `  MTU: ${i.mtu}\n`;
  if (a) {
    s += `  IP addr: ${a.address}\n`;
    if (a.broadcast && i.flags & IFF_BROADCAST) s += `  broadcast addr: ${a.broadcast}\n`;
    if (a.peer && i.flags & IFF_POINTOPOINT) s += `  destination addr: ${a.peer}\n`;
  }
  return s;
}

export const TABLE_HEADER = `${'Idx'.padEnd(3)} ${'Iface'.padEnd(16)} ${'State'.padEnd(14)} ${'MTU'.padStart(5)} ${'Hardware address'.padEnd(17)} ${'RX-OK'.padStart(8)} ${'TX-OK'.padStart(8)} ${'RX-ERR'.padStart(6)} ${'TX-ERR'.padStart(6)} Addresses\n`;

/** An address as ip(8) writes it, "a/len", with its label when that is not the interface's name. */
export function addressText(a: InterfaceAddress, ifname: string): string {
  const peer = a.peer ? ` peer ${a.peer}` : '';
  return `${a.address}${peer}/${a.prefixLen}${a.label && a.label !== ifname ? `(${a.label})` : ''}`;
}

/** One row of -l. */
export function tableRow(i: Interface): string {
  const s = i.stats ?? {};
  const n = (v: number | undefined) => (i.stats ? String(v ?? 0) : '-');
  const addrs = i.addresses.map((a) => addressText(a, i.name)).join(' ') || '-';
  return (
    `${String(i.index).padEnd(3)} ${i.name.padEnd(16)} ${operstateName(i.operstate).padEnd(14)} ${String(i.mtu ?? 0).padStart(5)} ` +
    `${(i.hardwareAddress ?? '-').padEnd(17)} ${n(s.rx_packets).padStart(8)} ${n(s.tx_packets).padStart(8)} ${n(s.rx_errors).padStart(6)} ${n(s.tx_errors).padStart(6)} ${addrs}\n`
  );
}
