// The ICMP echo probe method (ping, traceroute -I): echo requests on the
// core's ICMP endpoint, so a ping socket when allowed and a raw one otherwise.
import * as C from '../constants.js';
import { DEFAULT_ACCEPT6, type IcmpEndpoint, type IcmpPacket, listen } from '../icmp.js';
import * as icmp4 from '../packet/icmp4.js';
import * as icmp6 from '../packet/icmp6.js';
import * as nodeinfo from '../packet/nodeinfo.js';
import { checksum, sum16 } from '../packet/checksum.js';
import { type SendResult, inetAddress } from '../socket.js';
import { type Family, type Probe, type ProbeEvent, type ProbeMethod, type SentProbe, relTime } from './index.js';
import { type MethodDescriptor, noOptions, sizedLayout } from './descriptor.js';

/** IP_MTU_DISCOVER modes (ip(7)); 'probe' sets DF but ignores the path MTU (traceroute -F) */
export type PmtuMode = 'do' | 'want' | 'dont' | 'probe';

export interface IcmpProbeOptions {
  target: string;
  family: Family;
  /** force a mechanism; default ping socket, then raw */
  mode?: 'dgram' | 'raw';
  /** bind to this source address */
  source?: string;
  /** SO_BINDTODEVICE */
  device?: string;
  /** echo identifier: a raw socket's is random by default, a ping socket's chosen by the kernel unless given */
  ident?: number;
  /** default TTL / hop limit */
  ttl?: number;
  /** IP_TOS / IPV6_TCLASS */
  tos?: number;
  /** IP_MTU_DISCOVER / IPV6_MTU_DISCOVER */
  pmtu?: PmtuMode;
  sndbuf?: number;
  rcvbuf?: number;
  /** SO_MARK */
  mark?: number;
  /** SO_DEBUG, SO_DONTROUTE */
  debug?: boolean;
  dontroute?: boolean;
  /** SO_BROADCAST: allow a broadcast destination */
  broadcast?: boolean;
  /** false: multicast we send is not looped back to this host (IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP) */
  multicastLoop?: boolean;
  /** false: no kernel receive timestamps; replies are timed when read */
  timestamps?: boolean;
  /** connect(2) the socket to the target: only its datagrams are received */
  connect?: boolean;
  /** IPv4 options for every probe (IP_OPTIONS), e.g. record route; counted in headerBytes */
  ipOptions?: Buffer;
  /**
   * IPv6, raw socket: send RFC 4620 node information queries instead of echo
   * requests (iputils' ping -N); replies come as 'reply' events with nodeInfo
   */
  nodeInfo?: NodeInfoQuery;
  /**
   * One socket for many destinations (fping's): probes go where sendTo()
   * says, and ICMP errors about an echo request to any destination are
   * reported (with `to`), not only those about `target`.
   */
  fleet?: boolean;
}

/** What a node information probe asks, and about what. */
export interface NodeInfoQuery {
  qtype: number;
  flags: number;
  /** nodeinfo.SUBJECT_IPV6 / SUBJECT_NAME / SUBJECT_IPV4 */
  subjectType: number;
  /** the subject in wire form (an address, or an encoded name) */
  subject: Buffer;
}

export const PMTU = { dont: C.IP_PMTUDISC_DONT, want: C.IP_PMTUDISC_WANT, do: C.IP_PMTUDISC_DO, probe: C.IP_PMTUDISC_PROBE } as const;

export class IcmpProbe implements ProbeMethod {
  readonly name = 'icmp';
  readonly family: Family;
  readonly target: string;
  readonly headerBytes: number;
  private readonly ep: IcmpEndpoint;
  private wire = Buffer.alloc(0);
  /** the payload buffer the wire was last built from in full */
  private wirePayload: Buffer | null = null;
  /** where the part of the wire a partial build() leaves as it was starts (even), and its one's-complement sum */
  private tailFrom = 0;
  private tailSum = 0;
  private ttl = -1;
  private readonly ni?: NodeInfoQuery;
  private readonly fleet: boolean;
  /** node information: the nonce of each 16-bit sequence in flight (its 6 random bytes after the sequence) */
  private nonces?: Buffer;
  private lastQuery: Buffer = Buffer.alloc(0);
  /** a raw socket's identifier filter is on (foreign()) */
  private filtered = false;
  private readonly echoEvent: Extract<ProbeEvent, { type: 'reply' }> = {
    type: 'reply',
    seq: 0,
    from: '',
    ttl: undefined,
    rxRelNs: undefined,
    bytes: 0,
    data: undefined,
    checksumOk: true,
    ipOptions: undefined,
  };

  constructor(opts: IcmpProbeOptions) {
    this.family = opts.family;
    this.target = opts.target;
    // IPv4 header + ICMP header; iputils counts no IPv6 header ("56 data bytes")
    this.headerBytes = opts.family === 4 ? 28 + (opts.ipOptions?.length ?? 0) : 8;
    if (opts.nodeInfo && (opts.family !== 6 || opts.mode !== 'raw')) throw new TypeError('node information queries go on a raw ICMPv6 socket');
    this.ni = opts.nodeInfo;
    this.fleet = !!opts.fleet;
    if (this.fleet && (opts.connect || opts.nodeInfo))
      throw new TypeError('a fleet socket sends echo requests to many destinations: no connect, no node information');
    if (this.ni) this.nonces = Buffer.alloc(0x10000 * 6);
    const accept = this.ni ? [...DEFAULT_ACCEPT6, nodeinfo.REPLY] : undefined;
    this.ep = listen({
      family: opts.family,
      mode: opts.mode,
      source: opts.source,
      device: opts.device,
      ident: opts.ident,
      timestamps: opts.timestamps,
      accept,
    });
    try {
      // the identifier filter waits for someone else's reply (foreign())
      if (this.ep.mode === 'raw') this.ep.setIdent(opts.ident ?? Math.floor(Math.random() * 0x10000));
      this.configure(opts);
    } catch (e) {
      this.ep.close();
      throw e;
    }
  }

  /** Instructions of the BPF program attached to the socket, as the kernel reports them (SO_GET_FILTER): 0 for none. */
  get filterLength(): number {
    // an optlen of 0 asks only for the count; any other is read as a count of
    // 8-byte instructions the buffer holds, so a longer program would overrun it
    return this.ep.socket.getsockopt(C.SOL_SOCKET, C.SO_GET_FILTER, 0).length;
  }

  get mechanism(): string {
    return this.ep.mode === 'dgram' ? 'ping socket' : 'raw socket';
  }

  get unprivileged(): boolean {
    return this.ep.mode === 'dgram';
  }

  get ident(): number {
    return this.ep.ident;
  }

  /** The socket, for options no field here covers. */
  get socket() {
    return this.ep.socket;
  }

  private configure(o: IcmpProbeOptions): void {
    const s = this.ep.socket;
    const v4 = this.family === 4;
    if (o.ttl !== undefined) this.setTtl(o.ttl);
    if (o.tos !== undefined) v4 ? s.setsockopt(C.IPPROTO_IP, C.IP_TOS, o.tos) : s.setsockopt(C.IPPROTO_IPV6, C.IPV6_TCLASS, o.tos);
    if (o.pmtu !== undefined)
      v4 ? s.setsockopt(C.IPPROTO_IP, C.IP_MTU_DISCOVER, PMTU[o.pmtu]) : s.setsockopt(C.IPPROTO_IPV6, C.IPV6_MTU_DISCOVER, PMTU[o.pmtu]);
    if (o.sndbuf !== undefined) s.setsockopt(C.SOL_SOCKET, C.SO_SNDBUF, o.sndbuf);
    if (o.rcvbuf !== undefined) s.setsockopt(C.SOL_SOCKET, C.SO_RCVBUF, o.rcvbuf);
    if (o.mark !== undefined) s.setsockopt(C.SOL_SOCKET, C.SO_MARK, o.mark);
    if (o.debug) s.setsockopt(C.SOL_SOCKET, C.SO_DEBUG, 1);
    if (o.dontroute) s.setsockopt(C.SOL_SOCKET, C.SO_DONTROUTE, 1);
    if (o.broadcast) s.setsockopt(C.SOL_SOCKET, C.SO_BROADCAST, 1);
    if (o.connect) s.connectStart(inetAddress(this.target, 0));
    if (o.ipOptions && v4) s.setsockopt(C.IPPROTO_IP, C.IP_OPTIONS, o.ipOptions);
    if (o.multicastLoop === false) v4 ? s.setsockopt(C.IPPROTO_IP, C.IP_MULTICAST_LOOP, 0) : s.setsockopt(C.IPPROTO_IPV6, C.IPV6_MULTICAST_LOOP, 0);
  }

  /** IPv6: every probe from now on carries this flow label (20 bits), leased to this socket. */
  setFlowLabel(label: number): void {
    this.ep.setFlowLabel(this.target, label);
  }

  /** The TTL / hop limit of every probe from now on (unicast and multicast). */
  setTtl(ttl: number): void {
    if (ttl === this.ttl) return;
    this.ep.setTtl(ttl);
    if (this.family === 4) this.ep.socket.setsockopt(C.IPPROTO_IP, C.IP_MULTICAST_TTL, ttl);
    else this.ep.socket.setsockopt(C.IPPROTO_IPV6, C.IPV6_MULTICAST_HOPS, ttl);
    this.ttl = ttl;
  }

  send(p: Probe): SendResult {
    return this.ep.sendRaw(this.build(p), this.target);
  }

  sendQuick(p: Probe): number {
    return this.ep.sendQuick(this.build(p), this.target);
  }

  sendHolding(p: Probe, waitMs: number): number {
    return this.ep.sendHolding(this.build(p), this.target, waitMs);
  }

  deliverHeld(): boolean {
    return this.ep.deliverHeld();
  }

  watchSocket(): void {
    this.ep.socket.pauseReadable(false);
  }

  /** send() to another destination than `target` (a fleet socket's). */
  sendTo(p: Probe, to: string): SendResult {
    return this.ep.sendRaw(this.build(p), to);
  }

  /** sendQuick() to another destination than `target`. */
  sendQuickTo(p: Probe, to: string): number {
    return this.ep.sendQuick(this.build(p), to);
  }

  get lastSendRelNs(): number {
    return this.ep.socket.lastSendRelNs;
  }

  get lastSent(): SentProbe {
    const wire = this.ni ? this.lastQuery : this.wire;
    return { protocol: this.family === 4 ? C.IPPROTO_ICMP : C.IPPROTO_ICMPV6, transport: wire, ttl: this.ttl >= 0 ? this.ttl : undefined };
  }

  /** The echo request for a probe, in a buffer reused from probe to probe. */
  private build(p: Probe): Buffer {
    if (p.ttl !== undefined) this.setTtl(p.ttl);
    if (this.ni) return (this.lastQuery = this.buildQuery(p.seq & 0xffff));
    const payload = p.payload;
    const len = icmp4.HEADER + payload.length;
    // (a new wire needs no reset of wirePayload: a buffer of another length is another buffer)
    if (this.wire.length !== len) this.wire = Buffer.alloc(len);
    const w = this.wire;
    // byte stores, not writeUInt16BE's checked calls: this runs for every flood probe
    const id = this.ep.ident; // a ping socket overwrites it with its own
    const seq = p.seq;
    w[0] = this.family === 4 ? icmp4.ECHO_REQUEST : icmp6.ECHO_REQUEST;
    w[1] = w[2] = w[3] = 0;
    w[4] = (id >> 8) & 0xff;
    w[5] = id & 0xff;
    w[6] = (seq >> 8) & 0xff;
    w[7] = seq & 0xff;
    // the kernel checksums ping sockets and ICMPv6; a raw IPv4 socket sends what we give it
    const sum = this.family === 4 && this.ep.mode === 'raw';
    const changed = p.changed;
    if (changed !== undefined && payload === this.wirePayload && 8 + changed <= this.tailFrom) {
      // the same buffer again, changed only at its start (a flood's stamp and
      // sequence): copy that, and add its sum to the unchanged tail's (RFC 1071's sums are associative)
      const end = this.tailFrom;
      for (let i = 8; i < end; i++) w[i] = payload[i - 8];
      if (sum) {
        const c = checksum(w, 0, end, this.tailSum);
        w[2] = c >> 8;
        w[3] = c & 0xff;
      }
      return w;
    }
    w.set(payload, 8);
    this.wirePayload = changed !== undefined ? payload : null;
    this.tailFrom = Math.min(8 + (changed ?? 0) + ((changed ?? 0) & 1), len);
    if (sum) {
      this.tailSum = sum16(w, this.tailFrom, len);
      const c = checksum(w, 0, this.tailFrom, this.tailSum);
      w[2] = c >> 8;
      w[3] = c & 0xff;
    }
    return w;
  }

  /** A node information query: the sequence and 6 fresh random bytes as its nonce. */
  private buildQuery(seq: number): Buffer {
    const q = this.ni!;
    const nonce = Buffer.alloc(nodeinfo.NONCE_BYTES);
    nonce.writeUInt16BE(seq, 0);
    for (let i = 2; i < nonce.length; i++) nonce[i] = Math.floor(Math.random() * 256);
    nonce.copy(this.nonces!, seq * 6, 2);
    return nodeinfo.encode({ type: nodeinfo.QUERY, code: q.subjectType, qtype: q.qtype, flags: q.flags, nonce, data: q.subject });
  }

  /** The sequence a reply's nonce belongs to, or -1 when it is not one we sent. */
  private nonceSeq(nonce: Buffer): number {
    const seq = nonce.readUInt16BE(0);
    return nonce.subarray(2).equals(this.nonces!.subarray(seq * 6, seq * 6 + 6)) ? seq : -1;
  }

  start(onEvent: (e: ProbeEvent) => void): void {
    const v4 = this.family === 4;
    this.ep.listen({
      packet: (p) => this.onPacket(p, onEvent),
      echoReply: (r) => {
        if (!this.ours(r.id)) return this.foreign();
        // one object for every echo reply (start()'s events live for the call): no garbage per round trip
        const e = this.echoEvent;
        e.seq = r.seq;
        e.from = r.from;
        e.ttl = r.ttl;
        e.rxRelNs = Number.isNaN(r.rxRelNs) ? undefined : r.rxRelNs;
        e.bytes = r.bytes;
        e.data = r.data;
        e.checksumOk = v4 ? r.checksumOk : true;
        e.ipOptions = r.ipOptions.length ? r.ipOptions : undefined;
        onEvent(e);
      },
      localError: (e) => onEvent({ type: 'local-error', seq: e.original?.seq, errno: e.errno, code: e.code, info: e.info }),
    });
  }

  /**
   * Someone else's echo (or an error about one) reached this raw socket:
   * another ping runs on this host. From now on the kernel drops their
   * replies before they wake us (iputils installs its filter at this moment
   * too, not before: until then a filter only costs each reply a BPF run).
   */
  private foreign(): void {
    if (this.filtered) return; // (a ping socket never gets here: ours() takes every reply it sees)
    this.filtered = true;
    try {
      this.ep.filterEchoReplies();
    } catch {
      // (refused, e.g. past net.core.optmem_max: the filter only saves wake-ups; replies are still told apart by identifier here)
    }
  }

  private ours(id: number): boolean {
    // a ping socket only ever sees its own identifier
    return this.ep.mode === 'dgram' || id === this.ep.ident;
  }

  private onPacket(p: IcmpPacket, onEvent: (e: ProbeEvent) => void): void {
    const m = p.message;
    const v4 = this.family === 4;
    if (this.ni && m.type === nodeinfo.REPLY && m.body.kind === 'raw') {
      // the whole message again: type, code and checksum, then what decode() kept
      const wire = Buffer.concat([Buffer.from([m.type, m.code, 0, 0]), m.body.data]);
      const ni = nodeinfo.decode(wire);
      if (!ni.ok) return;
      const seq = this.nonceSeq(ni.value.nonce);
      if (seq < 0) return;
      onEvent({ type: 'reply', seq, from: p.from, ttl: p.ttl, rxRelNs: relTime(p.rxNs), bytes: p.bytes, checksumOk: true, nodeInfo: wire });
      return;
    }
    if (m.body.kind === 'echo') {
      if (m.type !== (v4 ? icmp4.ECHO_REPLY : icmp6.ECHO_REPLY)) return;
      if (!this.ours(m.body.id)) return this.foreign();
      onEvent({
        type: 'reply',
        seq: m.body.seq,
        from: p.from,
        ttl: p.ttl,
        rxRelNs: relTime(p.rxNs),
        bytes: p.bytes,
        data: m.body.data,
        ipOptions: p.ip?.options.length ? p.ip.options : undefined,
        // ICMPv6 checksums are verified by the kernel before delivery
        checksumOk: v4 ? m.checksumOk !== false : true,
      });
      return;
    }
    if (m.body.kind !== 'error' || !p.original) return;
    const o = p.original;
    // an error about an echo request of ours, sent to our target
    if (!this.ours(o.id)) return this.foreign();
    if (!this.fleet && o.dst !== undefined && o.dst !== this.target) return;
    const notice = v4 && (m.type === icmp4.REDIRECT || m.type === icmp4.SOURCE_QUENCH);
    if (notice) {
      onEvent({ type: 'icmp-notice', seq: o.seq, from: p.from, icmpType: m.type, icmpCode: m.code, gateway: m.body.gateway, to: o.dst });
      return;
    }
    onEvent({
      type: 'icmp-error',
      seq: o.seq,
      from: p.from,
      icmpType: m.type,
      icmpCode: m.code,
      mtu: m.body.mtu,
      ttl: p.ttl,
      rxRelNs: relTime(p.rxNs),
      reached: false,
      to: o.dst,
    });
  }

  ref(on: boolean): void {
    this.ep.socket.ref(on);
  }

  close(): void {
    this.ep.close();
  }
}

/** traceroute -I (mod-icmp.c): echo requests; the ICMP header counts as data, as traceroute counts it. */
export const icmpMethod: MethodDescriptor = {
  name: 'icmp',
  flag: 'I',
  description: 'ICMP echo requests (a ping socket, or a raw one)',
  port: { meaning: 'the first ICMP sequence number, one more for each probe', default: 1 },
  options: [],
  unprivileged: 'ping_group_range',
  open(o) {
    noOptions('icmp', o.methodOptions);
    const method = new IcmpProbe({ ...o.icmp, target: o.target, family: o.family, source: o.source, device: o.device, tos: o.tos, pmtu: o.pmtu, mark: o.mark });
    return { method, layout: sizedLayout(o.family, 0, icmp4.HEADER, o.packetLen), firstSeq: o.port !== undefined ? o.port & 0xffff : 1 };
  },
};
