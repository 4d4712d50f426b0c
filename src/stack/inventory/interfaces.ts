// The interfaces of the network namespace as UNP 17.6's get_ifi_info sees
// them, but over rtnetlink (RTM_GETLINK + RTM_GETADDR, rtnetlink(7)) rather
// than SIOCGIFCONF, which on Linux returns IPv4 addresses only.
import { RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_SITE, RT_SCOPE_UNIVERSE, type IfAddr, type Link, type LinkStats } from '../abi/rtnetlink.js';
import { formatAddress } from '../packet/addr.js';
import type { DecodeFailure } from '../packet/result.js';

const AF_INET = 2;
const AF_INET6 = 10;

/** One address of an interface, its parts named as iproute2 names them. */
export interface InterfaceAddress {
  family: 4 | 6;
  address: string; // the interface's own address (IFA_LOCAL, else IFA_ADDRESS)
  prefixLen: number;
  peer?: string; // a point-to-point peer: IFA_ADDRESS when it differs from IFA_LOCAL
  broadcast?: string; // IFA_BROADCAST
  label?: string; // IFA_LABEL (IPv4: "eth0:1" for an alias)
  scope: number; // ifa_scope
  flags: number; // IFA_F_*
}

export interface Interface {
  index: number;
  name: string;
  type: number; // ARPHRD_*
  flags: number; // IFF_*
  mtu?: number;
  hardwareAddress?: string; // IFLA_ADDRESS as xx:xx:..., as ip(8) prints it
  broadcastAddress?: string; // IFLA_BROADCAST
  operstate?: number;
  stats?: LinkStats;
  /** IFLA_LINK names a device of this namespace that is down (ip(8)'s M-DOWN) */
  linkDown?: boolean;
  addresses: InterfaceAddress[];
}

/** iproute2's rtnl_rtscope names (lib/rt_names.c) */
export function scopeName(scope: number): string {
  const names: Record<number, string> = {
    [RT_SCOPE_UNIVERSE]: 'global',
    [RT_SCOPE_SITE]: 'site',
    [RT_SCOPE_LINK]: 'link',
    [RT_SCOPE_HOST]: 'host',
    255: 'nowhere',
  };
  return names[scope] ?? String(scope);
}

/** RFC 2863 ifOperStatus as IFLA_OPERSTATE carries it (IF_OPER_*), as ip(8) prints it */
export function operstateName(state: number | undefined): string {
  const names = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'];
  return state === undefined ? 'UNKNOWN' : (names[state] ?? String(state));
}

const hex = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

function interfaceAddress(a: IfAddr): InterfaceAddress | null {
  const family = a.family === AF_INET ? 4 : a.family === AF_INET6 ? 6 : null;
  const own = a.local ?? a.address;
  if (family === null || !own) return null;
  const out: InterfaceAddress = { family, address: formatAddress(own), prefixLen: a.prefixLen, scope: a.scope, flags: a.flags };
  if (a.local && a.address && !a.local.equals(a.address)) out.peer = formatAddress(a.address);
  if (a.broadcast) out.broadcast = formatAddress(a.broadcast);
  if (a.label) out.label = a.label;
  return out;
}

/** Links and addresses joined: each link with its addresses in the kernel's order. */
export function joinInterfaces(links: readonly Link[], addrs: readonly IfAddr[]): Interface[] {
  const byIndex = new Map<number, Interface>();
  for (const l of links) {
    const i: Interface = {
      index: l.index,
      name: l.name ?? String(l.index),
      type: l.type,
      flags: l.flags,
      mtu: l.mtu,
      operstate: l.operstate,
      stats: l.stats,
      addresses: [],
    };
    if (l.address?.length) i.hardwareAddress = hex(l.address);
    if (l.broadcast?.length) i.broadcastAddress = hex(l.broadcast);
    byIndex.set(l.index, i);
  }
  // ip/ipaddress.c: m_flag = !(ll_index_to_flags(iflink) & IFF_UP), when IFLA_LINK is local
  for (const l of links) {
    if (l.link && l.linkNetnsid === undefined) byIndex.get(l.index)!.linkDown = !((byIndex.get(l.link)?.flags ?? 0) & 1);
  }
  for (const a of addrs) {
    const ia = interfaceAddress(a);
    if (ia) byIndex.get(a.index)?.addresses.push(ia);
  }
  return [...byIndex.values()];
}

export type InterfacesResult = { interfaces: Interface[]; malformed?: DecodeFailure };
