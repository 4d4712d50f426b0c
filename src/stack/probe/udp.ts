// The UDP probe methods of traceroute 2.x (UNP 28.6), with no privilege at
// all: each probe goes out on its own connected UDP socket with IP_RECVERR /
// IPV6_RECVERR, so the kernel queues the ICMP error it provokes on that
// socket's error queue, naming the router in SO_EE_OFFENDER. The default
// method walks destination ports up from 33434, one per probe; -U keeps one
// port (53).
import * as C from '../constants.js';
import type { RecvResult } from '../native/index.js';
import { drainErrorQueue, errorQueueEvent } from './recverr.js';
import { relTime } from './index.js';
import { type SendResult, Socket, inetAddress } from '../socket.js';
import type { Family, Probe, ProbeEvent, ProbeMethod, SentProbe } from './index.js';
import * as udp from '../packet/udp.js';
import { type TuneOptions, isPortUnreachable, setTtl, tuneSocket } from './tune.js';
import { type MethodDescriptor, ipHeaderLen, noOptions, sizedLayout } from './descriptor.js';

export const DEF_START_PORT = 33434;
export const DEF_UDP_PORT = 53;
/** RFC 768 */
export const UDP_HEADER = 8;

export interface UdpProbeOptions extends TuneOptions {
  target: string;
  family: Family;
  /** destination port of the first probe (default 33434, or 53 when fixed) */
  port?: number;
  /** every probe to the same port (traceroute -U) instead of one port per probe */
  fixedPort?: boolean;
}

interface Pending {
  socket: Socket;
  port: number;
}

export class UdpProbe implements ProbeMethod {
  readonly name: string;
  readonly family: Family;
  readonly target: string;
  readonly mechanism = 'udp socket + IP_RECVERR';
  readonly unprivileged = true;
  /** IP header + UDP header */
  readonly headerBytes: number;
  private readonly o: UdpProbeOptions;
  private nextPort: number;
  private readonly pending = new Map<number, Pending>();
  private onEvent: ((e: ProbeEvent) => void) | null = null;
  private referenced = true;
  private readonly ebuf = Buffer.allocUnsafe(2048);
  private readonly rbuf = Buffer.allocUnsafe(65536);
  private last: { socket: Socket; port: number; payload: Buffer; ttl?: number } | null = null;

  constructor(o: UdpProbeOptions) {
    this.o = o;
    this.family = o.family;
    this.target = o.target;
    this.name = o.fixedPort ? 'udp' : 'default';
    this.headerBytes = ipHeaderLen(o.family) + UDP_HEADER;
    this.nextPort = o.port ?? (o.fixedPort ? DEF_UDP_PORT : DEF_START_PORT);
    // sockets are opened per probe: try the options once now, so a bad
    // source address or device fails here rather than at the first probe
    const trial = Socket.open(o.family === 4 ? C.AF_INET : C.AF_INET6, C.SOCK_DGRAM);
    try {
      tuneSocket(trial, o.family, o);
    } finally {
      trial.close();
    }
  }

  /** Open, tune and connect a socket for the probe, then send; the socket stays until release(seq). */
  send(p: Probe): SendResult {
    const port = this.nextPort;
    if (!this.o.fixedPort) this.nextPort = port >= 65535 ? 1 : port + 1;
    const s = Socket.open(this.family === 4 ? C.AF_INET : C.AF_INET6, C.SOCK_DGRAM);
    try {
      tuneSocket(s, this.family, this.o);
      if (p.ttl !== undefined) setTtl(s, this.family, p.ttl);
      s.connectStart(inetAddress(this.target, port));
    } catch (e) {
      s.close();
      throw e;
    }
    this.release(p.seq);
    this.pending.set(p.seq, { socket: s, port });
    if (!this.referenced) s.ref(false);
    if (this.onEvent) this.watch(p.seq, s);
    this.last = { socket: s, port, payload: p.payload, ttl: p.ttl };
    // a failed send (EMSGSIZE ...) keeps the socket: its error queue says more
    return s.send(p.payload);
  }

  /** The last probe's datagram: the socket's bound port and address, the port it went to. */
  get lastSent(): SentProbe | undefined {
    const l = this.last;
    if (!l || l.socket.isClosed) return undefined;
    const local = l.socket.localAddress();
    const bound = local && 'port' in local ? local : undefined;
    return {
      protocol: C.IPPROTO_UDP,
      transport: udp.encode({ srcPort: bound?.port ?? 0, dstPort: l.port }, l.payload),
      source: bound?.address,
      ttl: l.ttl,
    };
  }

  start(onEvent: (e: ProbeEvent) => void): void {
    this.onEvent = onEvent;
    for (const [seq, p] of this.pending) this.watch(seq, p.socket);
  }

  private watch(seq: number, s: Socket): void {
    s.onReadable((ready) => {
      if (ready.error) drainErrorQueue(s, this.ebuf, 8, (r) => this.onError(seq, r));
      for (let i = 0; i < 8 && !s.isClosed; i++) {
        const r = s.recv(this.rbuf);
        if (!r) break;
        // a datagram back from the destination: it was reached
        const from = r.address && 'address' in r.address ? r.address.address : this.target;
        const ttl = this.family === 4 ? r.control.ttl : r.control.hopLimit;
        const payload = this.rbuf.subarray(0, Math.min(r.bytes, this.rbuf.length));
        this.onEvent?.({ type: 'reply', seq, from, ttl, rxRelNs: relTime(r.control.timestampNs), bytes: r.bytes, data: payload, checksumOk: true });
      }
    });
  }

  private onError(seq: number, r: RecvResult): void {
    const e = errorQueueEvent(this.family, seq, r, (type, code) => isPortUnreachable(this.family, type, code));
    if (e) this.onEvent?.(e);
  }

  release(seq: number): void {
    const p = this.pending.get(seq);
    if (!p) return;
    p.socket.close();
    this.pending.delete(seq);
  }

  ref(on: boolean): void {
    this.referenced = on;
    for (const p of this.pending.values()) p.socket.ref(on);
  }

  close(): void {
    for (const p of this.pending.values()) p.socket.close();
    this.pending.clear();
    this.onEvent = null;
  }
}

/** mod-udp.c's two modules: "default" walks the destination ports, "udp" (-U) keeps one. */
function udpDescriptor(
  name: 'default' | 'udp',
  fixedPort: boolean,
  rest: Pick<MethodDescriptor, 'description' | 'port'> & { flag?: string },
): MethodDescriptor {
  return {
    name,
    ...rest,
    options: [],
    unprivileged: 'yes',
    open(o) {
      noOptions(name, o.methodOptions);
      const method = new UdpProbe({ ...o, fixedPort });
      return { method, layout: sizedLayout(o.family, UDP_HEADER, 0, o.packetLen), firstSeq: 1 };
    },
  };
}

/** traceroute 2.x's default method: a new destination port per probe, from 33434. */
export const defaultMethod = udpDescriptor('default', false, {
  description: 'UDP datagrams to unlikely ports, one more per probe (no privilege needed)',
  port: { meaning: 'the first destination port, one more for each probe', default: DEF_START_PORT },
});

/** traceroute -U: every probe to one port, 53 by default. */
export const udpMethod = udpDescriptor('udp', true, {
  flag: 'U',
  description: 'UDP datagrams to one port (default 53), for paths that pass only it',
  port: { meaning: 'the destination port of every probe', default: DEF_UDP_PORT },
});
