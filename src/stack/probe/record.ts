// --pcap for the probe loops (ping, traceroute): a ProbeMethod around any
// other that feeds a Recording what went out and what came back. With a
// packet socket the recording fills itself and this only passes through;
// without one, each probe (the method's lastSent) and each answer become an
// IP packet rebuilt from what the socket reported: echo replies with the
// data they carried, UDP answers with their payload, SYN-ACKs and RSTs with
// the flags seen, and ICMP errors as the messages they were, quoting the
// probe they are about.
import { echoFlow, portFlow } from '../capture/flowfilter.js';
import { type FlowSpec, REBUILT, type Recording, defaultTtl, nowNs } from '../capture/record.js';
import { type IpEnds, echoPacket, icmpErrorPacket, ipPacket, tcpPacket, udpPacket } from '../capture/rebuild.js';
import * as C from '../constants.js';
import { fromRelNs } from '../native/index.js';
import { describe4, describe6 } from '../packet/icmp-names.js';
import type { SendResult } from '../socket.js';
import type { Family, Probe, ProbeEvent, ProbeMethod, SentProbe } from './index.js';

/** A probe as sent: enough to write it again inside an error's quote. */
interface Sent {
  ends: IpEnds;
  protocol: number;
  transport: Buffer;
}

/** Probes remembered for the errors that quote them (ping's sequence space) */
const REMEMBERED = 0x10000;

/** TCP flags as tcpdump prints them ('S.', 'R.') back to header bits. */
function flagsOf(text: string): { syn?: boolean; ack?: boolean; rst?: boolean; fin?: boolean } {
  return { syn: text.includes('S'), ack: text.includes('.'), rst: text.includes('R'), fin: text.includes('F') };
}

export class RecordedProbes implements ProbeMethod {
  private readonly sent = new Map<number, Sent>();
  private readonly ttl0: number;

  /**
   * `local`: our source address toward the target, for the packets the
   * socket does not name it in; `ipOptions`: the IPv4 options the probes
   * carry (ping -R, -T). Each UDP or TCP probe's source port joins the
   * recording's flow (probeFlow's port set).
   */
  constructor(
    private readonly inner: ProbeMethod,
    private readonly rec: Recording,
    private readonly local: string,
    private readonly ipOptions?: Buffer,
  ) {
    this.ttl0 = defaultTtl(inner.family);
    if (inner.sendQuick) {
      this.sendQuick = (p: Probe): number => {
        const n = inner.sendQuick!(p);
        if (n >= 0) this.note(p.seq, fromRelNs(inner.lastSendRelNs!));
        return n;
      };
    }
  }

  get name(): string {
    return this.inner.name;
  }
  get family(): Family {
    return this.inner.family;
  }
  get mechanism(): string {
    return this.inner.mechanism;
  }
  get unprivileged(): boolean {
    return this.inner.unprivileged;
  }
  get target(): string {
    return this.inner.target;
  }
  get ident(): number | undefined {
    return this.inner.ident;
  }
  get headerBytes(): number {
    return this.inner.headerBytes;
  }
  get lastSendRelNs(): number | undefined {
    return this.inner.lastSendRelNs;
  }
  get lastSent(): SentProbe | undefined {
    return this.inner.lastSent;
  }

  sendQuick?: (p: Probe) => number;

  send(p: Probe): SendResult {
    const r = this.inner.send(p);
    if (r.bytes >= 0) this.note(p.seq, r.realNs);
    return r;
  }

  /** The probe just sent, written (rebuilt) and kept for the errors that may quote it. */
  private note(seq: number, tsNs: bigint): void {
    const w = this.inner.lastSent;
    if (!w) return;
    // UDP and TCP probes: each one's source port joins the flow the packet socket keeps
    if (this.rec.ports && w.protocol !== C.IPPROTO_ICMP && w.protocol !== C.IPPROTO_ICMPV6) this.rec.ports.add(w.transport.readUInt16BE(0));
    if (!this.rec.rebuilding) return;
    const ends: IpEnds = { family: this.family, src: w.source ?? this.local, dst: this.target, ttl: w.ttl ?? this.ttl0, options: this.ipOptions };
    const s: Sent = { ends, protocol: w.protocol, transport: Buffer.from(w.transport) };
    if (this.sent.size >= REMEMBERED) this.sent.delete(this.sent.keys().next().value!);
    this.sent.delete(seq);
    this.sent.set(seq, s);
    this.rec.rebuilt(tsNs, ipPacket(ends, s.protocol, s.transport), [REBUILT.ip]);
  }

  start(onEvent: (e: ProbeEvent) => void): void {
    this.inner.start((e) => {
      if (this.rec.rebuilding) this.answer(e);
      onEvent(e);
    });
  }

  /** An answer to a probe, rebuilt. */
  private answer(e: ProbeEvent): void {
    if (e.type === 'local-error') return; // refused before the wire: nothing crossed it
    const s = this.sent.get(e.seq);
    const ts = 'rxRelNs' in e && e.rxRelNs !== undefined ? fromRelNs(e.rxRelNs) : nowNs();
    const ends: IpEnds = {
      family: this.family,
      src: e.from || this.target,
      dst: s?.ends.src ?? this.local,
      ttl: ('ttl' in e ? e.ttl : undefined) ?? this.ttl0,
    };
    if (e.type === 'reply') {
      // the options the reply came back with (record route, timestamps), as a raw socket saw them
      if (e.ipOptions && this.family === 4) ends.options = e.ipOptions;
      const packet = this.reply(e, ends, s);
      if (packet) this.rec.rebuilt(ts, packet, [REBUILT.ip]);
      return;
    }
    if (!s) return;
    // the router quotes our datagram as it arrived: a time exceeded one had TTL 1 left
    const exceeded = e.icmpType === (this.family === 4 ? 11 : 3);
    const quoted = ipPacket({ ...s.ends, ttl: exceeded ? 1 : s.ends.ttl }, s.protocol, s.transport);
    const detail = e.type === 'icmp-error' ? { mtu: e.mtu } : { gateway: e.gateway };
    const what = `ICMP "${(this.family === 4 ? describe4 : describe6)(e.icmpType, e.icmpCode, e.type === 'icmp-error' ? e.mtu : 0)}"`;
    const comment = this.unprivileged
      ? REBUILT.errorQueue(what)
      : `sockit: ${what} as the raw socket delivered it, rebuilt: its IP header and the quoted datagram are reconstructed from the probe sent`;
    this.rec.rebuilt(ts, icmpErrorPacket(ends, e.icmpType, e.icmpCode, detail, quoted), [comment]);
  }

  private reply(e: Extract<ProbeEvent, { type: 'reply' }>, ends: IpEnds, s: Sent | undefined): Buffer | null {
    if (e.nodeInfo) return ipPacket(ends, C.IPPROTO_ICMPV6, e.nodeInfo);
    if (s?.protocol === C.IPPROTO_UDP) {
      const t = s.transport;
      return udpPacket(ends, t.readUInt16BE(2), t.readUInt16BE(0), e.data ?? Buffer.alloc(0));
    }
    if (s?.protocol === C.IPPROTO_TCP) {
      const t = s.transport;
      const ack = (t.readUInt32BE(4) + 1) >>> 0;
      return tcpPacket(ends, { srcPort: t.readUInt16BE(2), dstPort: t.readUInt16BE(0), seq: 0, ack, flags: flagsOf(e.flags ?? ''), window: 0 });
    }
    if (e.data && this.inner.ident !== undefined) return echoPacket(ends, true, this.inner.ident, e.seq, e.data);
    return null;
  }

  release(seq: number): void {
    this.inner.release?.(seq);
  }

  ref(on: boolean): void {
    this.inner.ref(on);
  }

  close(): void {
    this.inner.close();
  }
}

/**
 * The flow a method's probes make, for Recording.open: echo requests with
 * the method's identifier, or UDP / TCP between us and the target (the
 * ports move from probe to probe), and the ICMP errors about them.
 */
export function probeFlow(method: ProbeMethod, local: string, device?: string): FlowSpec {
  const { family, target } = method;
  const filter =
    method.name === 'icmp' && method.ident !== undefined
      ? echoFlow(family, local, target, method.ident)
      : portFlow(family, method.name === 'tcp' ? 'tcp' : 'udp', local, target);
  return { family, local, remote: target, filter, device, ports: method.name === 'icmp' ? undefined : new Set() };
}
