// The socket inventory behind sockit ss and sockit netstat: every socket of
// the network namespace, streamed one record at a time from sock_diag
// (sock_diag(7); IPv4 and IPv6 dumped separately, as ss does, but for the
// plain TCP listings' one walk: tcpRaw), with the
// state filter sent to the kernel as idiag_states. When netlink is refused
// (or SOCKIT_INVENTORY=proc forces it) the records come from /proc/net.
import { isSystemError, type SystemError } from '../errors.js';
import { NETLINK_ROUTE, NETLINK_SOCK_DIAG, encodeAttr } from '../abi/netlink.js';
import { INET_DIAG_REQ_BYTECODE } from '../abi/inet_diag_bc.js';
import {
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  ifaddrmsg,
  ifinfomsg,
  rtmsg,
  type IfAddr,
  type Link,
  type Route,
} from '../abi/rtnetlink.js';

export type { IfAddr, Link, LinkStats, Route } from '../abi/rtnetlink.js';
import {
  SOCK_DESTROY,
  SOCK_DIAG_BY_FAMILY,
  TCPDIAG_GETSOCK,
  INET_DIAG_MSG,
  inetDiagCheck,
  inetDiagReq,
  inetDiagMsg,
  inetDiagReqV2,
  unixDiagMsg,
  unixDiagReq,
  UDIAG_SHOW_NAME,
  UDIAG_SHOW_PEER,
  UDIAG_SHOW_RQLEN,
  type InetDiagMsg,
  type UnixDiagMsg,
} from '../abi/sock_diag.js';
import { NetlinkSocket, type BatchHandler, type DumpOutcome } from '../netlink/socket.js';
import {
  PACKET_SHOW_MEMINFO,
  netlinkDiagMsg,
  netlinkDiagReq,
  packetDiagMsg,
  packetDiagReq,
  type NetlinkDiagMsg,
  type PacketDiagMsg,
} from '../abi/packet_diag.js';
import { parseAddress } from '../packet/addr.js';

export type { NetlinkDiagMsg, PacketDiagMsg } from '../abi/packet_diag.js';
import type { DecodeFailure } from '../packet/result.js';
import { parseProcInet, parseProcNetlink, parseProcPacket, parseProcUnix, readProcNet, type ProcUnix } from './procnet.js';
import { joinInterfaces, type InterfacesResult } from './interfaces.js';

export { joinInterfaces, operstateName, scopeName, type Interface, type InterfaceAddress, type InterfacesResult } from './interfaces.js';
export { processComm, scanOwners, type Owner, type Owners } from './owners.js';
export { AddressTexts } from './addrtext.js';
export {
  parseIfInet6,
  parseIpv6Route,
  parseProcInet,
  parseProcNetlink,
  parseProcPacket,
  parseProcUnix,
  readProcNet,
  type IfInet6,
  type ProcUnix,
  type Route6,
} from './procnet.js';

export type InetTable = 'tcp' | 'udp' | 'raw';
export const IPPROTO: Record<InetTable, number> = { tcp: 6, udp: 17, raw: 255 };

export interface InetSocket extends InetDiagMsg {
  table: InetTable;
  /** read from /proc/net (no attributes: no tcp_info, no memory) */
  proc?: true;
}

export interface UnixSocket extends UnixDiagMsg {
  table: 'unix';
  /** from /proc/net/unix only */
  refcnt?: number;
  flags?: number;
}

export type SocketEntry = InetSocket | UnixSocket;

/** TCP_* states (<net/tcp_states.h>) as idiag_states bits */
export const ALL_STATES = (1 << 12) - 2;

export type Source = 'netlink' | 'proc';

/** Where records came from, and what the walk met that the caller may report. */
export interface Report {
  source: Source;
  /** a reply that was malformed: the dump stopped there */
  malformed?: DecodeFailure;
}

/** The environment switch that forces the /proc/net fallback (documented in sockit-ss(1)). */
export const FORCE_PROC_ENV = 'SOCKIT_INVENTORY';

export class Inventory {
  private nl: NetlinkSocket | null = null;
  private refused = false;
  /** why socket(AF_NETLINK, NETLINK_SOCK_DIAG) failed, when it did (the records came from /proc/net) */
  refusal: SystemError | null = null;
  readonly reports: Report[] = [];
  /** inet_diag_msg replies read from the kernel (what INET_DIAG_REQ_BYTECODE saves shows here) */
  received = 0;
  /** the kernel refused a filter program and sent everything */
  bytecodeRefused = false;

  /** `nl`: a sock_diag socket to use instead of opening one (a test's fake kernel) */
  constructor(
    private readonly force: Source | undefined = process.env[FORCE_PROC_ENV] === 'proc' ? 'proc' : undefined,
    nl: NetlinkSocket | null = null,
  ) {
    this.nl = nl;
  }

  private netlink(): NetlinkSocket | null {
    if (this.force === 'proc' || this.refused) return null;
    if (this.nl) return this.nl;
    try {
      this.nl = NetlinkSocket.open(NETLINK_SOCK_DIAG);
    } catch (e) {
      if (!isSystemError(e)) throw e;
      this.refused = true; // EACCES/EPERM (a seccomp or LSM policy), EAFNOSUPPORT
      this.refusal = e;
    }
    return this.nl;
  }

  /**
   * Stream the sockets of one inet table and family whose state is in
   * `states` (idiag_states); `ext` asks for attributes (extBit()).
   */
  async inet(table: InetTable, family: 4 | 6, states: number, ext: number, fn: (s: InetSocket) => void, bytecode?: Buffer | null): Promise<Source> {
    const nl = this.netlink();
    if (nl) {
      const head = inetDiagReqV2.encode({ family: family === 4 ? 2 : 10, protocol: IPPROTO[table], ext, states, rawProtocol: 0 });
      const dump = (req: Buffer) =>
        nl.dump(SOCK_DIAG_BY_FAMILY, req, (b, o, end) => {
          this.received++;
          const d = inetDiagMsg.decode(b, o, end);
          if (d.ok) {
            const s = d.value as InetSocket;
            s.table = table;
            fn(s);
          } else this.reports.push({ source: 'netlink', malformed: d });
        });
      const before = this.received;
      let r = await dump(bytecode ? Buffer.concat([head, encodeAttr(INET_DIAG_REQ_BYTECODE, bytecode)]) : head);
      // a kernel that refuses the program (EINVAL, EPERM): the whole dump, filtered here
      if (!r.ok && r.kind === 'error' && bytecode && this.received === before) {
        this.bytecodeRefused = true;
        r = await dump(head);
      }
      if (this.settled(r)) return 'netlink';
    }
    const text = readProcNet(family === 4 ? table : `${table}6`);
    for (const m of parseProcInet(text, family)) {
      if (!(states & (1 << m.state))) continue;
      const s = m as InetSocket;
      s.table = table;
      s.proc = true;
      fn(s);
    }
    return 'proc';
  }

  /**
   * The inet_diag_msg replies of one inet table and family as they arrive,
   * in the receive buffer, a datagram's at a time: message k is
   * b[at[2k], at[2k + 1]), k < count, checked with inetDiagCheck (a
   * malformed one is reported and left out); read them with INET_DIAG_MSG's
   * offsets before fn returns: for a listing that formats straight from the
   * reply. No attributes are asked for. null when netlink cannot answer
   * (refused, or the diag module missing): then inet() reads the same
   * sockets from /proc/net.
   */
  async inetRaw(table: InetTable, family: 4 | 6, states: number, fn: BatchHandler): Promise<Source | null> {
    const nl = this.netlink();
    if (!nl) return null;
    const req = inetDiagReqV2.encode({ family: family === 4 ? 2 : 10, protocol: IPPROTO[table], ext: 0, states, rawProtocol: 0 });
    // the check in a function of its own: this small closure stays unoptimised, and V8 does not compile
    // the listing's fn a third time inlined into it (measured: fn standalone, by OSR, and in here)
    const r = await nl.dumpBatches(SOCK_DIAG_BY_FAMILY, req, (b, at, count) => fn(b, at, this.checked(b, at, count)));
    return this.settled(r) ? 'netlink' : null;
  }

  /**
   * inetRaw() of TCP over IPv4 and IPv6 from one walk of the kernel's
   * tables. ss dumps each family apart, and each dump walks every TCP socket
   * of the machine (those of other namespaces too): the IPv6 dump of a host
   * whose sockets are IPv4 walks them all again to find none. Here one
   * TCPDIAG_GETSOCK request dumps both. The IPv4 replies go to fn as they
   * arrive; the IPv6 replies are copied aside (about the bytes of their
   * lines) and go to fn after the last IPv4 one, so fn sees what the two
   * dumps would give, in their order. A kernel that refuses the request
   * before any reply is asked the two v2 requests instead (and not again).
   */
  async tcpRaw(states: number, fn: (b: Buffer, at: Int32Array, count: number, family: 4 | 6) => void): Promise<Source | null> {
    const held = new HeldReplies();
    return this.oneWalk(
      states,
      (nl, req) =>
        nl.dumpBatches(TCPDIAG_GETSOCK, req, (b, at, count) => {
          const n = this.checked(b, at, count);
          let v4 = 0;
          for (let k = 0; k < 2 * n; k += 2) {
            const o = at[k]!;
            if (b[o + INET_DIAG_MSG.FAMILY] === 2) {
              at[2 * v4] = o;
              at[2 * v4 + 1] = at[k + 1]!;
              v4++;
            } else held.add(b, o, at[k + 1]!);
          }
          if (v4) fn(b, at, v4, 4);
        }),
      () => {
        if (held.count) fn(held.buf, held.at, held.count, 6);
      },
      async () => {
        if (!(await this.inetRaw('tcp', 4, states, (b, at, n) => fn(b, at, n, 4)))) return null;
        return this.inetRaw('tcp', 6, states, (b, at, n) => fn(b, at, n, 6));
      },
    );
  }

  /**
   * inetRaw() for a reader that walks and checks each datagram itself
   * (DatagramReader: the ss listing's lines in WebAssembly); the replies
   * that fail inetDiagCheck are reported here, as inetRaw() reports them.
   */
  async inetDatagrams(table: InetTable, family: 4 | 6, states: number, r: DatagramReader): Promise<Source | null> {
    const nl = this.netlink();
    if (!nl) return null;
    const req = inetDiagReqV2.encode({ family: family === 4 ? 2 : 10, protocol: IPPROTO[table], ext: 0, states, rawProtocol: 0 });
    const out = await nl.dumpDatagrams(
      SOCK_DIAG_BY_FAMILY,
      req,
      () => r.rx,
      (n, seq) => this.read(r, n, seq, table, false),
    );
    return this.settled(out) ? 'netlink' : null;
  }

  /** tcpRaw() for a DatagramReader: one walk of both families, the IPv6 replies held by the reader until its takeHeld() */
  async tcpDatagrams(states: number, r: DatagramReader): Promise<Source | null> {
    return this.oneWalk(
      states,
      (nl, req) =>
        nl.dumpDatagrams(
          TCPDIAG_GETSOCK,
          req,
          () => r.rx,
          (n, seq) => this.read(r, n, seq, 'tcp', true),
        ),
      () => r.takeHeld(),
      async () => {
        if (!(await this.inetDatagrams('tcp', 4, states, r))) return null;
        return this.inetDatagrams('tcp', 6, states, r);
      },
    );
  }

  private read(r: DatagramReader, n: number, seq: number, table: InetTable, split: boolean): number {
    const end = r.datagram(n, seq, table, split);
    this.received += r.replies;
    const bad = r.bad;
    for (let k = 0; k < 2 * r.badCount; k += 2) this.reports.push({ source: 'netlink', malformed: inetDiagCheck(r.rx, bad[k]!, bad[k + 1]!)! });
    return end;
  }

  /**
   * The one TCPDIAG_GETSOCK walk (`dump`), then `flush` of what was held
   * back; or, from a kernel that refuses the request before any reply,
   * `twoDumps` (and from then on only those).
   */
  private async oneWalk(
    states: number,
    dump: (nl: NetlinkSocket, req: Buffer) => Promise<DumpOutcome>,
    flush: () => void,
    twoDumps: () => Promise<Source | null>,
  ): Promise<Source | null> {
    const nl = this.netlink();
    if (!nl) return null;
    if (!this.oneWalkRefused) {
      const before = this.received;
      const r = await dump(nl, inetDiagReq.encode({ ext: 0, states }));
      if (r.ok || r.kind === 'malformed' || this.received > before) {
        flush();
        return this.settled(r) ? 'netlink' : null;
      }
      this.oneWalkRefused = true;
    }
    return twoDumps();
  }

  /** the kernel refused TCPDIAG_GETSOCK: tcpRaw() makes two dumps */
  private oneWalkRefused = false;

  /** The messages of a batch that inetDiagCheck passes, moved to its front (a malformed one reported); how many. */
  private checked(b: Buffer, at: Int32Array, count: number): number {
    this.received += count;
    let kept = 0;
    for (let k = 0; k < 2 * count; k += 2) {
      const bad = inetDiagCheck(b, at[k]!, at[k + 1]!);
      if (bad) this.reports.push({ source: 'netlink', malformed: bad });
      else if (kept++ < k >> 1) {
        at[2 * kept - 2] = at[k]!;
        at[2 * kept - 1] = at[k + 1]!;
      }
    }
    return kept;
  }

  /**
   * Stream the unix sockets of the given types (SOCK_STREAM 1, SOCK_DGRAM 2,
   * SOCK_SEQPACKET 5); `show` adds UDIAG_SHOW_* bits to name, peer and queues.
   */
  async unix(types: Set<number>, states: number, show: number, fn: (s: UnixSocket) => void): Promise<Source> {
    const nl = this.netlink();
    if (nl) {
      show |= UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN;
      const r = await nl.dump(SOCK_DIAG_BY_FAMILY, unixDiagReq.encode({ states, show }), (b, o, end) => {
        const d = unixDiagMsg.decode(b, o, end);
        if (!d.ok) {
          this.reports.push({ source: 'netlink', malformed: d });
          return;
        }
        if (!types.has(d.value.type)) return;
        const s = d.value as UnixSocket;
        s.table = 'unix';
        fn(s);
      });
      if (this.settled(r)) return 'netlink';
    }
    for (const m of this.procUnix()) {
      if (!types.has(m.type) || !(states & (1 << m.state))) continue;
      fn(m);
    }
    return 'proc';
  }

  /**
   * Stream every packet socket (packet_diag) with the attributes of `show`
   * (PACKET_SHOW_*); /proc/net/packet when netlink is refused or packet_diag
   * is not loaded, as ss falls back.
   */
  async packet(show: number, fn: (s: PacketDiagMsg) => void): Promise<Source> {
    if (await this.diag(packetDiagReq.encode(show | PACKET_SHOW_MEMINFO), packetDiagMsg.decode, fn)) return 'netlink';
    for (const s of parseProcPacket(readProcNet('packet'))) fn(s);
    return 'proc';
  }

  /**
   * Stream every netlink socket (netlink_diag) with the attributes of `show`
   * (NDIAG_SHOW_*); /proc/net/netlink when netlink_diag cannot answer.
   */
  async netlinkSockets(show: number, fn: (s: NetlinkDiagMsg) => void): Promise<Source> {
    if (await this.diag(netlinkDiagReq.encode(show), netlinkDiagMsg.decode, fn)) return 'netlink';
    for (const s of parseProcNetlink(readProcNet('netlink'))) fn(s);
    return 'proc';
  }

  /** One sock_diag dump: false when netlink is refused or the diag module is missing (the caller falls back). */
  private async diag<T>(
    req: Buffer,
    decode: (b: Buffer, o: number, end: number) => { ok: true; value: T } | DecodeFailure,
    fn: (s: T) => void,
  ): Promise<boolean> {
    const nl = this.netlink();
    if (!nl) return false;
    const r = await nl.dump(SOCK_DIAG_BY_FAMILY, req, (b, o, end) => {
      const d = decode(b, o, end);
      if (d.ok) fn(d.value);
      else this.reports.push({ source: 'netlink', malformed: d });
    });
    return this.settled(r);
  }

  /** /proc/net/unix as records (netstat -x reads it for RefCnt and Flags). */
  *procUnix(): Generator<UnixSocket & ProcUnix> {
    for (const m of parseProcUnix(readProcNet('unix'))) {
      const s = m as UnixSocket & ProcUnix;
      s.table = 'unix';
      yield s;
    }
  }

  /** true when the dump ended (well or malformed); false: fall back to /proc */
  private settled(r: DumpOutcome): boolean {
    if (r.ok) return true;
    if (r.kind === 'malformed') {
      this.reports.push({ source: 'netlink', malformed: r.failure });
      return true;
    }
    // ENOENT: the diag module for this protocol is not loaded (udp_diag, raw_diag);
    // EACCES/EPERM/EINVAL: refused. /proc/net has the same sockets.
    return false;
  }

  /**
   * Close a socket (SOCK_DESTROY, needs CAP_NET_ADMIN and a kernel with
   * CONFIG_INET_DIAG_DESTROY): ok, or the kernel's error (EOPNOTSUPP: not
   * for this socket or kernel; ENOENT: already gone; EPERM: no capability).
   */
  async destroy(s: InetSocket): Promise<DumpOutcome> {
    this.killer ??= NetlinkSocket.open(NETLINK_SOCK_DIAG);
    const req = inetDiagReqV2.encode({
      family: s.family,
      protocol: IPPROTO[s.table],
      ext: 0,
      states: 0,
      rawProtocol: s.table === 'raw' ? (s.protocol ?? 0) : 0,
      id: { sport: s.sport, dport: s.dport, src: s.src, dst: s.dst, ifindex: s.ifindex, cookie: s.cookie },
    });
    return this.killer.request(SOCK_DESTROY, req);
  }

  private killer: NetlinkSocket | null = null;

  close(): void {
    this.nl?.close();
    this.nl = null;
    this.killer?.close();
    this.killer = null;
  }
}

/**
 * One rtnetlink dump: every reply of type `reply` decoded, in the kernel's
 * order; a malformed message is kept as `malformed`, an NLMSG_ERROR thrown.
 */
async function rtDump<T>(
  request: number,
  body: Buffer,
  reply: number,
  decode: (b: Buffer, o: number, end: number) => { ok: true; value: T } | DecodeFailure,
): Promise<{ items: T[]; malformed?: DecodeFailure }> {
  const nl = NetlinkSocket.open(NETLINK_ROUTE);
  try {
    const items: T[] = [];
    let malformed: DecodeFailure | undefined;
    const r = await nl.dump(request, body, (b, o, end, h) => {
      if (h.type !== reply) return;
      const d = decode(b, o, end);
      if (d.ok) items.push(d.value);
      else malformed = d;
    });
    if (!r.ok && r.kind === 'error') throw r.error;
    if (!r.ok) malformed = r.failure;
    return { items, malformed };
  } finally {
    nl.close();
  }
}

/** Every network interface with its counters (RTM_GETLINK, IFLA_STATS64), in the kernel's order. */
export async function links(): Promise<{ links: Link[]; malformed?: DecodeFailure }> {
  const { items, malformed } = await rtDump(RTM_GETLINK, ifinfomsg.encode(), RTM_NEWLINK, ifinfomsg.decode);
  return { links: items, malformed };
}

/** The IPv4 routes of the main table (RTM_GETROUTE), in the kernel's order. */
export async function routes4(): Promise<{ routes: Route[]; malformed?: DecodeFailure }> {
  const { items, malformed } = await rtDump(RTM_GETROUTE, rtmsg.encode(2), RTM_NEWROUTE, rtmsg.decode);
  return { routes: items, malformed };
}

/**
 * The route the kernel would take to `dst` (RTM_GETROUTE for one address,
 * as `ip route get` asks): its output interface among the rest; throws the
 * system error the kernel answers with (ENETUNREACH ...).
 */
export async function routeTo(dst: string): Promise<Route | undefined> {
  const bytes = parseAddress(dst.split('%')[0]!);
  if (!bytes) throw new TypeError(`not an IP address: ${dst}`);
  const nl = NetlinkSocket.open(NETLINK_ROUTE);
  try {
    let route: Route | undefined;
    const r = await nl.request(RTM_GETROUTE, rtmsg.encodeGet(bytes.length === 4 ? 2 : 10, bytes), (b, o, end, h) => {
      if (h.type !== RTM_NEWROUTE) return;
      const d = rtmsg.decode(b, o, end);
      if (d.ok) route = d.value;
    });
    if (!r.ok && r.kind === 'error') throw r.error;
    return route;
  } finally {
    nl.close();
  }
}

/** Every interface address (RTM_GETADDR, AF_UNSPEC: IPv4 and IPv6), in the kernel's order. */
export async function addresses(): Promise<{ addresses: IfAddr[]; malformed?: DecodeFailure }> {
  const { items, malformed } = await rtDump(RTM_GETADDR, ifaddrmsg.encode(0), RTM_NEWADDR, ifaddrmsg.decode);
  return { addresses: items, malformed };
}

/** Every interface with its addresses (RTM_GETLINK joined with RTM_GETADDR). */
export async function interfaces(): Promise<InterfacesResult> {
  const l = await links();
  const a = await addresses();
  return { interfaces: joinInterfaces(l.links, a.addresses), malformed: l.malformed ?? a.malformed };
}

/**
 * A reader of sock_diag datagrams that walks and checks them itself
 * (Inventory.inetDatagrams, tcpDatagrams): NetlinkSocket.walk's framing and
 * inetDiagCheck's checks, each checked reply taken.
 */
export interface DatagramReader {
  /** the receive buffer (asked for each datagram) */
  readonly rx: Buffer;
  /**
   * The replies to seq in rx[0, n) of `table`'s dump (with `split`, the
   * IPv6 ones held until takeHeld()): -1 while the dump goes on, else the offset
   * of the message that ends it.
   */
  datagram(n: number, seq: number, table: InetTable, split: boolean): number;
  /** replies the last datagram() read, and the payload bounds (bad[2k], bad[2k + 1]) of the badCount that failed the checks */
  readonly replies: number;
  readonly bad: Int32Array;
  readonly badCount: number;
  /** the held replies taken now */
  takeHeld(): void;
}

/** Reply messages copied out of the receive buffer, each at a 4-aligned offset (its attributes stay aligned): message k is buf[at[2k], at[2k + 1]). */
class HeldReplies {
  buf = Buffer.alloc(0);
  at = new Int32Array(64);
  count = 0;
  private used = 0;

  add(b: Buffer, start: number, end: number): void {
    const o = (this.used + 3) & ~3;
    if (o + end - start > this.buf.length) {
      const more = Buffer.allocUnsafe(Math.max(2 * this.buf.length, o + end - start, 4096));
      this.buf.copy(more, 0, 0, this.used);
      this.buf = more;
    }
    if (2 * this.count + 2 > this.at.length) {
      const more = new Int32Array(2 * this.at.length);
      more.set(this.at);
      this.at = more;
    }
    b.copy(this.buf, o, start, end);
    this.at[2 * this.count] = o;
    this.at[2 * this.count + 1] = o + end - start;
    this.count++;
    this.used = o + end - start;
  }
}
