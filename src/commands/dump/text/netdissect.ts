// What every printer here shares: the options of a run (netdissect.h's
// netdissect_options: -e -q -v -S -n) and the lookups of addrtoname.c
// (host, MAC and port names without -n). Facts copied, not code.

export interface TextOptions {
  /** -e: the link-level header */
  link: boolean;
  /** -q: less protocol information */
  quiet: boolean;
  /** -v count */
  verbose: number;
  /** -S: absolute TCP sequence numbers */
  absolute: boolean;
  /** if_indextoname(3) for LINUX_SLL2's interface index; '?' is printed without it */
  ifname?: (ifindex: number) => string | undefined;
  /** without -n: addresses and ports as names (tcpdump's addrtoname.c); numbers without it */
  names?: NameTable;
}

/** What names.ts gives the printer: every lookup is synchronous (answered from a cache). */
export interface NameTable {
  host(address: string): string;
  mac(address: string): string;
  tcpPort(port: number): string;
  udpPort(port: number): string;
  /** getprotobynumber(3): "icmp" for 1, undefined without a name */
  protocol(n: number): string | undefined;
}

export const host = (o: TextOptions, a: string) => (o.names ? o.names.host(a) : a);
export const macName = (o: TextOptions, a: string) => (o.names ? o.names.mac(a) : a);
export const tcpPort = (o: TextOptions, p: number) => (o.names ? o.names.tcpPort(p) : String(p));
export const udpPort = (o: TextOptions, p: number) => (o.names ? o.names.udpPort(p) : String(p));
// print-ip.c: what a fragment or an undecoded payload carries, by /etc/protocols name without -n
export const ipProto = (o: TextOptions, n: number) => o.names?.protocol(n) ?? `ip-proto-${n}`;

export const hex4 = (n: number) => n.toString(16).padStart(4, '0');
export const hex2 = (n: number) => (n < 16 ? '0' : '') + n.toString(16);

/** "192.0.2.1.58302" (print-tcp.c tcpport_string; IPv6 the same). */
export const endpoint = (o: TextOptions, addr: string, port: string) => `${host(o, addr)}.${port}`;
