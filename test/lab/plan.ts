// The addressing plan of a lab chain, as pure data (no kernel involved).
//
//   src — r1 — r2 — … — rN — dst        nodes[0] … nodes[N+1]
//
// Link k joins nodes[k] ("left", toward the source) and nodes[k+1] ("right",
// toward the destination).
//   IPv4: 192.0.2.(16k)/28, right = .16k+1, left = .16k+2
//   IPv6: 2001:db8:0:k::/64 (k in hex), right = ::1, left = ::2
// Hosts have one interface, eth0; routers have eth0 toward the source and
// eth1 toward the destination. 15 /28s fit in 192.0.2.0/24, hence N ≤ 14.

export type Role = 'src' | 'router' | 'dst';
export type Family = 4 | 6;

export const MAX_ROUTERS = 14;

export interface PlannedEnd {
  node: number; // index into nodes
  ifname: 'eth0' | 'eth1';
  v4: string;
  v6: string;
}

export interface PlannedLink {
  index: number;
  prefix4: string;
  prefix6: string;
  left: PlannedEnd;
  right: PlannedEnd;
}

export interface PlannedRoute {
  prefix: string; // 'default' or a CIDR
  via: string;
}

export interface PlannedNode {
  index: number;
  role: Role;
  ifaces: ('eth0' | 'eth1')[];
  routes4: PlannedRoute[];
  routes6: PlannedRoute[];
}

export interface Plan {
  routers: number;
  nodes: PlannedNode[];
  links: PlannedLink[];
}

/** Canonical (RFC 5952) text of 2001:db8:0:k::host, as ping/traceroute print it. */
export function v6Address(link: number, host: number): string {
  const net = link === 0 ? '2001:db8:' : `2001:db8:0:${link.toString(16)}:`;
  return `${net}:${host === 0 ? '' : host.toString(16)}`;
}

export function v4Address(link: number, host: number): string {
  return `192.0.2.${16 * link + host}`;
}

export function planChain(routers: number): Plan {
  if (!Number.isInteger(routers) || routers < 0 || routers > MAX_ROUTERS) {
    throw new RangeError(`routers must be an integer from 0 to ${MAX_ROUTERS} (15 /28 links fit in 192.0.2.0/24), got ${routers}`);
  }
  const count = routers + 2;
  const links: PlannedLink[] = [];
  for (let k = 0; k <= routers; k++) {
    links.push({
      index: k,
      prefix4: `${v4Address(k, 0)}/28`,
      prefix6: `${v6Address(k, 0)}/64`,
      // the src host's only interface is eth0; a router's eth1 faces dst
      left: { node: k, ifname: k === 0 ? 'eth0' : 'eth1', v4: v4Address(k, 2), v6: v6Address(k, 2) },
      right: { node: k + 1, ifname: 'eth0', v4: v4Address(k, 1), v6: v6Address(k, 1) },
    });
  }
  const nodes: PlannedNode[] = [];
  for (let i = 0; i < count; i++) {
    const role: Role = i === 0 ? 'src' : i === count - 1 ? 'dst' : 'router';
    const routes4: PlannedRoute[] = [];
    const routes6: PlannedRoute[] = [];
    if (routers > 0 && role === 'src') {
      routes4.push({ prefix: 'default', via: links[0]!.right.v4 });
      routes6.push({ prefix: 'default', via: links[0]!.right.v6 });
    } else if (routers > 0 && role === 'dst') {
      routes4.push({ prefix: 'default', via: links[routers]!.left.v4 });
      routes6.push({ prefix: 'default', via: links[routers]!.left.v6 });
    } else if (role === 'router') {
      // router i is on links i-1 (eth0) and i (eth1); everything else is
      // reached through the neighbour on the side where the link lies
      for (const link of links) {
        if (link.index === i - 1 || link.index === i) continue;
        const toward = link.index > i ? links[i]!.right : links[i - 1]!.left;
        routes4.push({ prefix: link.prefix4, via: toward.v4 });
        routes6.push({ prefix: link.prefix6, via: toward.v6 });
      }
    }
    nodes.push({ index: i, role, ifaces: role === 'router' ? ['eth0', 'eth1'] : ['eth0'], routes4, routes6 });
  }
  return { routers, nodes, links };
}

/** The neighbour through which node `from` reaches node `to` (the address of that neighbour). */
export function nextHop(plan: Plan, from: number, to: number, family: Family): string {
  if (from === to) throw new RangeError('a node is not its own next hop');
  const end = to > from ? plan.links[from]!.right : plan.links[from - 1]!.left;
  return family === 4 ? end.v4 : end.v6;
}
