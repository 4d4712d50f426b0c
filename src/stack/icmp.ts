// An ICMP endpoint, opened the way iputils does (UNP 28.5): an unprivileged
// ping socket (SOCK_DGRAM/IPPROTO_ICMP[V6]) when the kernel allows it, a raw
// socket otherwise. Both deliver the same events, so callers never branch on
// which one they got.
import { PermissionError } from './errors.js';
import { sysctl } from './sysctl.js';
import * as bpf from './bpf.js';
import * as C from './constants.js';
import { isSystemError, native, type RecvResult } from './native/index.js';
import * as icmp4 from './packet/icmp4.js';
import * as icmp6 from './packet/icmp6.js';
import * as ipv4 from './packet/ipv4.js';
import type { Message } from './packet/icmp-message.js';
import { type SendResult, Socket, inetAddress } from './socket.js';
import * as structs from './structs.js';
import { parseIPv6 } from './packet/addr.js';
import { verify } from './packet/checksum.js';

/** ICMPv4 and ICMPv6 messages share one shape (packet/icmp-message.ts). */
export type IcmpMessage = Message;
export type IcmpMode = 'dgram' | 'raw';

/** One ICMP message received, in the same shape whichever socket delivered it. */
export interface IcmpPacket {
  /** who sent the ICMP message: the replying host, or the router reporting an error */
  from: string;
  message: IcmpMessage;
  /** ICMP bytes (header + data) as received */
  bytes: number;
  /** TTL / hop limit of the IP packet that carried it, when known */
  ttl?: number;
  /** kernel receive time (SO_TIMESTAMPNS, CLOCK_REALTIME ns) */
  rxNs?: bigint;
  /** the IPv4 header, raw IPv4 sockets only */
  ip?: ipv4.IPv4Header;
  /** the echo request an error is about, when the quote holds one, and where it was sent */
  original?: { id: number; seq: number; data: Buffer; dst?: string };
}

/** An error the local stack raised for something we sent (IP_RECVERR, origin local). */
export interface LocalError {
  errno: number;
  code: string;
  /** e.g. the path MTU for EMSGSIZE */
  info: number;
  /** the echo request it is about, when the kernel returned it */
  original?: { id: number; seq: number };
}

/**
 * An echo reply, as the receive loop hands it out without decoding objects
 * (the common case in a flood). One object is reused: its fields, and the
 * `data` view into the receive buffer, are valid only during the call.
 */
export interface EchoReply {
  from: string;
  id: number;
  seq: number;
  /** TTL / hop limit it arrived with, when known */
  ttl: number | undefined;
  /** ICMP bytes (header + data) */
  bytes: number;
  checksumOk: boolean;
  /** the echoed data, after the ICMP header */
  data: Buffer;
  /** kernel receive time, ns since native timeBase; NaN without one */
  rxRelNs: number;
  /** the IP options the reply carried (raw IPv4 sockets only; empty without) */
  ipOptions: Buffer;
}

export interface IcmpEvents {
  packet(p: IcmpPacket): void;
  /** echo replies go here instead of packet() when given */
  echoReply?(r: EchoReply): void;
  localError?(e: LocalError): void;
  /** bytes that did not decode; never thrown */
  malformed?(from: string, error: string): void;
}

export interface ListenOptions {
  family: 4 | 6;
  /** force a mechanism; default: ping socket, then raw */
  mode?: IcmpMode;
  /** source address to bind */
  source?: string;
  /** SO_BINDTODEVICE */
  device?: string;
  /** ICMP types to accept on a raw socket (default: echo reply and the errors) */
  accept?: number[];
  /** the echo identifier a ping socket binds as its port (default: the kernel picks); raw sockets take theirs from setIdent */
  ident?: number;
  /** kernel receive timestamps (SO_TIMESTAMPNS); default on */
  timestamps?: boolean;
}

/** Neither a ping socket nor a raw socket could be opened; `message` says what to change. */
export class IcmpPermissionError extends PermissionError {
  override readonly name = 'IcmpPermissionError';
  readonly code = 'EPERM';
}

/** The ICMP types a raw socket lets in by default: echo replies and the errors. */
export const DEFAULT_ACCEPT4 = [icmp4.ECHO_REPLY, icmp4.DEST_UNREACH, icmp4.SOURCE_QUENCH, icmp4.REDIRECT, icmp4.TIME_EXCEEDED, icmp4.PARAMETER_PROBLEM];
export const DEFAULT_ACCEPT6 = [icmp6.ECHO_REPLY, icmp6.DEST_UNREACH, icmp6.PACKET_TOO_BIG, icmp6.TIME_EXCEEDED, icmp6.PARAM_PROB];

const NO_BYTES = Buffer.alloc(0);

/** Messages handled per readiness callback before yielding to the loop. */
const BATCH = 64;

/** Encoded destinations kept per endpoint (a fleet of targets on one socket). */
const ADDR_CACHE = 65536;

export class IcmpEndpoint {
  readonly family: 4 | 6;
  readonly mode: IcmpMode;
  readonly socket: Socket;
  /**
   * The echo identifier replies will carry: chosen by the kernel for a ping
   * socket (its local "port"), by the caller for a raw one (setIdent).
   */
  ident: number;
  private ttl = -1;
  private lastTo = '';
  private lastAddr: Buffer | null = null;
  /** struct sockaddr of destinations sent to before, for a socket that sends to many (a fleet) */
  private readonly addrCache = new Map<string, Buffer>();
  /** IPv6 flow label put in the destination address (sin6_flowinfo) */
  private flowLabel = 0;
  private readonly rbuf = Buffer.allocUnsafe(65536 + 512);
  private readonly ebuf = Buffer.allocUnsafe(2048);
  private readonly echo: EchoReply = { from: '', id: 0, seq: 0, ttl: undefined, bytes: 0, checksumOk: true, data: NO_BYTES, rxRelNs: NaN, ipOptions: NO_BYTES };
  // the last view of rbuf handed out as echo data, reused while its bounds hold
  private viewStart = -1;
  private viewEnd = -1;
  /** the listen() handlers, for deliverHeld() */
  private events: IcmpEvents | null = null;
  /** bytes of the message sendHolding() read into rbuf, -1 for none */
  private held = -1;

  constructor(family: 4 | 6, mode: IcmpMode, socket: Socket) {
    this.family = family;
    this.mode = mode;
    this.socket = socket;
    this.ident = mode === 'dgram' ? (socket.localAddress() as { port: number }).port : process.pid & 0xffff;
  }

  /** Raw sockets: the identifier to put in echo requests (and filter replies by). */
  setIdent(id: number): void {
    if (this.mode === 'raw') this.ident = id & 0xffff;
  }

  /**
   * Raw sockets: attach a BPF filter so echo replies for other identifiers
   * (other pings on this host) never wake us. A ping socket needs none: the
   * kernel already delivers by identifier.
   */
  filterEchoReplies(): void {
    if (this.mode !== 'raw') return;
    const prog = bpf.echoReplyFilter(this.ident, this.family === 4 ? icmp4.ECHO_REPLY : icmp6.ECHO_REPLY, this.family === 4);
    this.socket.setsockopt(C.SOL_SOCKET, C.SO_ATTACH_FILTER, bpf.encode(prog));
  }

  /** Unicast TTL / hop limit for what we send next (one setsockopt when it changes). */
  setTtl(ttl: number): void {
    if (ttl === this.ttl) return;
    if (this.family === 4) this.socket.setsockopt(C.IPPROTO_IP, C.IP_TTL, ttl);
    else this.socket.setsockopt(C.IPPROTO_IPV6, C.IPV6_UNICAST_HOPS, ttl);
    this.ttl = ttl;
  }

  /** Encode (checksum included where the kernel does not do it) and send. */
  send(message: IcmpMessage, to: string, flags = 0): SendResult {
    const wire = this.family === 4 ? icmp4.encode(message as icmp4.Message) : icmp6.encode(message as icmp6.Message);
    return this.sendRaw(wire, to, flags);
  }

  /** Send bytes already encoded (a caller reusing one buffer per probe). */
  sendRaw(wire: Uint8Array, to: string, flags = 0): SendResult {
    return this.socket.send(wire, this.sockaddrFor(to), flags);
  }

  /** sendRaw() for hot loops: bytes sent (-1 on EAGAIN); the stamp is in socket.lastSendRelNs. */
  sendQuick(wire: Uint8Array, to: string, flags = 0): number {
    return this.socket.sendQuick(wire, this.sockaddrFor(to), flags);
  }

  /**
   * sendQuick() that also reads the reply when it is already queued (or
   * comes within waitMs), in one crossing into the addon; deliverHeld()
   * hands it to the listen() handlers. Bytes sent, -1 on EAGAIN.
   */
  sendHolding(wire: Uint8Array, to: string, waitMs = 0, flags = 0): number {
    const n = this.socket.sendRecvQuick(wire, this.sockaddrFor(to), flags, this.rbuf, waitMs);
    if (n === -2) {
      this.socket.pauseReadable(false);
      return -1;
    }
    this.held = n;
    // while replies come back inside the sends, the event loop need not
    // watch the socket; once one does not, it must
    this.socket.pauseReadable(n >= 0);
    return wire.length;
  }

  /** Deliver the message the last sendHolding() read, as listen() would have; false when there is none. */
  deliverHeld(): boolean {
    const n = this.held;
    if (n < 0) return false;
    this.held = -1;
    if (this.events && !this.socket.isClosed) this.deliver(n, this.events);
    return true;
  }

  private deliver(n: number, events: IcmpEvents): void {
    if (!events.echoReply || !this.onEchoReply(n, events.echoReply)) this.onPacket(n, events);
  }

  // the destination rarely changes (or is one of a fleet's): keep its struct sockaddr encoded
  private sockaddrFor(to: string): Buffer {
    if (to !== this.lastTo || !this.lastAddr) {
      let addr = this.addrCache.get(to);
      if (!addr) {
        const sa = inetAddress(to, 0);
        addr = native.sockaddr('scopeid' in sa ? { ...sa, flowinfo: this.flowLabel } : sa);
        if (this.addrCache.size >= ADDR_CACHE) this.addrCache.clear();
        this.addrCache.set(to, addr);
      }
      this.lastAddr = addr;
      this.lastTo = to;
    }
    return this.lastAddr;
  }

  /**
   * IPv6: send with this flow label toward `to` (ipv6(7) IPV6_FLOWLABEL_MGR:
   * the label is leased exclusively to this socket, then IPV6_FLOWINFO_SEND
   * makes the kernel take it from the destination address).
   */
  setFlowLabel(to: string, label: number): void {
    if (this.family !== 6) return;
    const req = Buffer.alloc(32); // struct in6_flowlabel_req
    const dst = parseIPv6(to.split('%')[0]!);
    if (!dst) throw new TypeError(`not an IPv6 address: ${to}`);
    dst.copy(req, 0); // flr_dst
    req.writeUInt32BE(label & 0xfffff, 16); // flr_label
    req[20] = C.IPV6_FL_A_GET; // flr_action
    req[21] = C.IPV6_FL_S_EXCL; // flr_share
    req.writeUInt16LE(C.IPV6_FL_F_CREATE, 22); // flr_flags, host order
    this.socket.setsockopt(C.IPPROTO_IPV6, C.IPV6_FLOWLABEL_MGR, req);
    this.socket.setsockopt(C.IPPROTO_IPV6, C.IPV6_FLOWINFO_SEND, 1);
    this.flowLabel = label & 0xfffff;
    this.lastAddr = null;
    this.addrCache.clear();
  }

  /** Deliver every received message to `events` until close() or listen(null). */
  listen(events: IcmpEvents | null): void {
    this.events = events;
    if (!events) {
      this.socket.onReadable(null);
      return;
    }
    this.socket.onReadable((ready) => {
      // the error queue signals itself with POLLERR: that is where a ping
      // socket's ICMP errors and every socket's local errors arrive
      if (ready.error) {
        for (let i = 0; i < BATCH && !this.socket.isClosed; i++) {
          const r = this.socket.recvError(this.ebuf);
          if (!r) break;
          this.onErrorQueue(r, events);
        }
      }
      for (let i = 0; i < BATCH && !this.socket.isClosed; i++) {
        const n = this.socket.recvFast(this.rbuf);
        if (n < 0) break;
        this.deliver(n, events);
      }
    });
  }

  /**
   * The echo reply fast path: a whole, unfragmented datagram carrying an
   * echo reply is read in place. Anything else returns false and takes the
   * decoding path, which reports the same fields.
   */
  private onEchoReply(n: number, handler: (r: EchoReply) => void): boolean {
    const b = this.rbuf;
    if (n > b.length) return false;
    const v4 = this.family === 4;
    let off = 0;
    let ttl: number | undefined;
    if (v4 && this.mode === 'raw') {
      if (n < 28 || b[0] >> 4 !== 4 || b[9] !== 1) return false;
      off = (b[0] & 15) * 4;
      // the total length must be what arrived, and no fragment
      if (off < 20 || n < off + 8 || ((b[2] << 8) | b[3]) !== n || (((b[6] << 8) | b[7]) & 0x3fff) !== 0) return false;
      ttl = b[8];
    } else {
      if (n < 8) return false;
      ttl = native.last.ttl();
    }
    if (b[off] !== (v4 ? icmp4.ECHO_REPLY : icmp6.ECHO_REPLY)) return false;
    const e = this.echo;
    e.from = native.last.sourceAddress();
    e.id = (b[off + 4] << 8) | b[off + 5];
    e.seq = (b[off + 6] << 8) | b[off + 7];
    e.ttl = ttl;
    e.bytes = n - off;
    // the kernel verifies ICMPv6 checksums before delivery (RFC 4443); ICMPv4 ones are ours to check
    e.checksumOk = v4 ? verify(b, off, n) : true;
    if (off + 8 !== this.viewStart || n !== this.viewEnd) {
      e.data = b.subarray(off + 8, n);
      this.viewStart = off + 8;
      this.viewEnd = n;
    }
    e.rxRelNs = native.last.timestampRelNs();
    e.ipOptions = off > 20 ? b.subarray(20, off) : NO_BYTES;
    handler(e);
    return true;
  }

  private onPacket(n: number, events: IcmpEvents): void {
    const from = native.last.sourceAddress();
    let ttl = native.last.ttl();
    const rxNs = native.last.timestampNs();
    let data: Buffer = this.rbuf.subarray(0, Math.min(n, this.rbuf.length));
    let ip: ipv4.IPv4Header | undefined;
    if (this.family === 4 && this.mode === 'raw') {
      const d = ipv4.decode(data);
      if (!d.ok) return events.malformed?.(from, `${d.codec}: ${d.error}`);
      ip = d.value.header;
      ttl = ip.ttl;
      data = d.value.payload;
    }
    data = Buffer.from(data); // the receive buffer is reused: hand out a copy
    const m = this.family === 4 ? icmp4.decode(data) : icmp6.decode(data);
    if (!m.ok) return events.malformed?.(from, `${m.codec}: ${m.error}`);
    const p: IcmpPacket = { from, message: m.value, bytes: data.length, ttl, rxNs, ip };
    const b = m.value.body;
    if (b.kind === 'error' && b.quote?.echo) {
      const q = b.quote;
      p.original = { id: q.echo!.id, seq: q.echo!.seq, data: q.transport.subarray(8), dst: q.ip.dst };
    }
    events.packet(p);
  }

  // ICMP errors about a ping socket's echoes arrive on the error queue as
  // sock_extended_err; rebuild the message so callers see what a raw socket
  // would have delivered.
  private onErrorQueue(r: RecvResult, events: IcmpEvents): void {
    const ee = r.control.error;
    if (!ee) return;
    const quoted = Buffer.from(this.ebuf.subarray(0, Math.min(r.bytes, this.ebuf.length)));
    const dst = r.address && 'address' in r.address ? r.address.address : undefined;
    const original = quoted.length >= 8 ? { id: quoted.readUInt16BE(4), seq: quoted.readUInt16BE(6), data: quoted.subarray(8), dst } : undefined;
    if (ee.origin === C.SO_EE_ORIGIN_ICMP || ee.origin === C.SO_EE_ORIGIN_ICMP6) {
      // a raw socket receives the ICMP message itself too: report it once
      if (this.mode === 'raw') return;
      const message: IcmpMessage = { type: ee.type, code: ee.code, body: { kind: 'error', original: quoted, mtu: ee.info } };
      events.packet({
        from: ee.offender?.address ?? '',
        message,
        bytes: 8 + quoted.length,
        rxNs: r.control.timestampNs,
        ttl: this.family === 4 ? r.control.ttl : r.control.hopLimit,
        original,
      });
    } else if (ee.origin === C.SO_EE_ORIGIN_LOCAL) {
      const code = errnoName(ee.errno);
      events.localError?.({ errno: ee.errno, code, info: ee.info, original: original && { id: original.id, seq: original.seq } });
    }
  }

  close(): void {
    this.socket.close();
  }
}

function errnoName(e: number): string {
  return native.errname(e) ?? `E${e}`;
}

function configure(ep: IcmpEndpoint, opts: ListenOptions): void {
  const s = ep.socket;
  if (opts.timestamps !== false) s.setsockopt(C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1);
  if (opts.family === 4) {
    s.setsockopt(C.IPPROTO_IP, C.IP_RECVERR, 1);
    if (ep.mode === 'dgram') s.setsockopt(C.IPPROTO_IP, C.IP_RECVTTL, 1);
    else {
      // ICMP_FILTER: a set bit blocks that type (raw(7))
      let mask = 0xffffffff;
      for (const t of opts.accept ?? DEFAULT_ACCEPT4) if (t < 32) mask &= ~(1 << t);
      const b = Buffer.alloc(4);
      b.writeUInt32LE(mask >>> 0);
      s.setsockopt(C.SOL_RAW, C.ICMP_FILTER, b);
    }
  } else {
    s.setsockopt(C.IPPROTO_IPV6, C.IPV6_RECVERR, 1);
    s.setsockopt(C.IPPROTO_IPV6, C.IPV6_RECVHOPLIMIT, 1);
    if (ep.mode === 'raw') {
      const accept = new Set(opts.accept ?? DEFAULT_ACCEPT6);
      const blocked = new Set(Array.from({ length: 256 }, (_, t) => t).filter((t) => !accept.has(t)));
      s.setsockopt(C.IPPROTO_ICMPV6, C.ICMP6_FILTER, structs.icmp6Filter.encode(blocked));
    }
  }
  if (opts.device) s.setsockopt(C.SOL_SOCKET, C.SO_BINDTODEVICE, Buffer.from(opts.device + '\0'));
}

function pingGroupRange(): string {
  return sysctl('net.ipv4.ping_group_range') ?? 'unknown';
}

/** The one-line fix when the mechanisms tried are not allowed. */
export function permissionHint(tried: IcmpMode[] = ['dgram', 'raw']): IcmpPermissionError {
  const gid = process.getgid?.() ?? -1;
  const why: string[] = [];
  const fix: string[] = [];
  if (tried.includes('dgram')) {
    why.push(`ping sockets are closed to group ${gid} (net.ipv4.ping_group_range = ${pingGroupRange()})`);
    fix.push('sudo sysctl -w net.ipv4.ping_group_range="0 2147483647" (ping sockets for every group; no privilege needed after)');
  }
  if (tried.includes('raw')) {
    why.push('raw sockets need CAP_NET_RAW');
    fix.push('run as root', `sudo setcap cap_net_raw+ep "${process.execPath}" (gives raw sockets to every Node program)`);
  }
  return new IcmpPermissionError(why.join(' and '), fix, 'no permission for an ICMP socket');
}

/**
 * Open an ICMP endpoint. Ping socket first (unprivileged), raw second;
 * throws IcmpPermissionError saying what to change when neither is allowed.
 * Other failures (bad source address ...) throw the system error.
 */
export function listen(opts: ListenOptions): IcmpEndpoint {
  const domain = opts.family === 4 ? C.AF_INET : C.AF_INET6;
  const proto = opts.family === 4 ? C.IPPROTO_ICMP : C.IPPROTO_ICMPV6;
  const tries: IcmpMode[] = opts.mode ? [opts.mode] : ['dgram', 'raw'];
  let last: unknown;
  for (const mode of tries) {
    let sock: Socket;
    try {
      sock = Socket.open(domain, mode === 'dgram' ? C.SOCK_DGRAM : C.SOCK_RAW, proto);
    } catch (e) {
      // EACCES: not in ping_group_range; EPERM: no CAP_NET_RAW;
      // EAFNOSUPPORT/EPROTONOSUPPORT: a kernel without ping sockets
      if (isSystemError(e) && ['EACCES', 'EPERM', 'EAFNOSUPPORT', 'EPROTONOSUPPORT'].includes(e.code)) {
        last = e;
        continue;
      }
      throw e;
    }
    try {
      // a ping socket gets its identifier from bind (port 0: the kernel picks)
      if (opts.source || mode === 'dgram') {
        sock.bind(inetAddress(opts.source ?? (opts.family === 4 ? '0.0.0.0' : '::'), mode === 'dgram' ? (opts.ident ?? 0) : 0));
      }
      const ep = new IcmpEndpoint(opts.family, mode, sock);
      configure(ep, opts);
      return ep;
    } catch (e) {
      sock.close();
      throw e;
    }
  }
  if (isSystemError(last) && (last.code === 'EACCES' || last.code === 'EPERM')) throw permissionHint(tries);
  throw last;
}
