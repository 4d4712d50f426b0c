// One probe-method interface for ping and traceroute (traceroute 2.x's
// mod-icmp/mod-udp/mod-tcp; UNP 28.5/28.6): a method opens its sockets,
// sends probe number `seq` with a given TTL, and reports what came back as
// typed events. The loops that schedule probes and print know no method's
// details; each method's file also exports its descriptor (descriptor.ts:
// options, packet layout), listed once in registry.ts.
import { toRelNs } from '../native/index.js';
import type { SendResult } from '../socket.js';

export type Family = 4 | 6;

export interface Probe {
  /** probe number; methods put its low 16 bits on the wire (echo sequence, port offset ...) */
  seq: number;
  /** TTL / hop limit for this probe; the socket default when absent */
  ttl?: number;
  /** bytes after the transport header (ICMP echo data, UDP payload) */
  payload: Buffer;
  /**
   * The caller's promise, for a payload buffer it sends again and again:
   * only payload[0, changed) can differ from the last probe sent with this
   * buffer. A method may then copy and checksum just that part (the echo
   * request's stamp and sequence in a flood). Absent: anything may differ.
   */
  changed?: number;
}

/** What came back for a probe (or for nothing in particular, for local errors). */
export type ProbeEvent =
  | {
      /** the destination answered the probe itself (echo reply, SYN-ACK/RST, ...) */
      type: 'reply';
      seq: number;
      from: string;
      /** TTL / hop limit the answer arrived with */
      ttl?: number;
      /** kernel receive time: CLOCK_REALTIME ns since native timeBase (a Number, exact) */
      rxRelNs?: number;
      /** bytes of the answer as the tools count them (ICMP header + data for echo) */
      bytes: number;
      /** the echoed data (echo methods), the datagram (udp); valid only during the event callback */
      data?: Buffer;
      checksumOk: boolean;
      /** IP options the answer carried, when the method sees them; valid only during the event callback */
      ipOptions?: Buffer;
      /** TCP flags of the answer, as tcpdump prints them ('S.', 'R.'), for TCP methods */
      flags?: string;
      /** a node information reply (RFC 4620), the whole ICMPv6 message, when that was the probe */
      nodeInfo?: Buffer;
    }
  | {
      /** an ICMP error about one of our probes */
      type: 'icmp-error';
      seq: number;
      from: string;
      icmpType: number;
      icmpCode: number;
      /** next-hop MTU (frag needed / packet too big), else 0 */
      mtu: number;
      ttl?: number;
      rxRelNs?: number;
      /** the error means the probe reached the destination (UDP port unreachable from it) */
      reached: boolean;
      /** where the probe it quotes was sent, when the quote says (a fleet socket's many destinations) */
      to?: string;
    }
  | {
      /** redirect / source quench about one of our probes: informative, not an error */
      type: 'icmp-notice';
      seq: number;
      from: string;
      icmpType: number;
      icmpCode: number;
      /** a redirect's new next hop */
      gateway?: string;
      /** where the probe it quotes was sent, when the quote says */
      to?: string;
    }
  | {
      /** the local stack refused something we sent (IP_RECVERR origin local: EMSGSIZE ...) */
      type: 'local-error';
      seq?: number;
      errno: number;
      code: string;
      /** e.g. the path MTU for EMSGSIZE */
      info: number;
    };

/** What a probe put on the wire above IP, as its method built it (for --pcap's rebuilt packets). */
export interface SentProbe {
  /** IP protocol number */
  protocol: number;
  /**
   * the transport message: ICMP header and data, UDP header and payload,
   * the TCP segment; checksum fields may be left for the kernel (0).
   * A view valid until the next send.
   */
  transport: Buffer;
  /** our address, when the socket is bound to one */
  source?: string;
  /** the TTL / hop limit it went with, when the method set one */
  ttl?: number;
}

export interface ProbeMethod {
  /** 'icmp', 'udp', 'tcp' ... */
  readonly name: string;
  readonly family: Family;
  /** how it talks to the kernel, for -v: 'ping socket', 'raw socket', 'udp socket + IP_RECVERR' */
  readonly mechanism: string;
  /** true when no privilege was needed */
  readonly unprivileged: boolean;
  /** the destination address */
  readonly target: string;
  /** the identifier probes carry (echo id), when the method has one */
  readonly ident?: number;
  /** bytes of IP and transport header each probe adds to its payload (for "56(84) bytes") */
  readonly headerBytes: number;
  /** Send one probe; throws the system error when sendto(2) fails (EMSGSIZE, ENOBUFS ...). */
  send(probe: Probe): SendResult;
  /**
   * send() for hot loops, when the method has it: the bytes sent (-1 on
   * EAGAIN) without a result object; the send stamp is then lastSendRelNs.
   */
  sendQuick?(probe: Probe): number;
  /** CLOCK_REALTIME just before the last sendQuick(), as ns since native timeBase */
  readonly lastSendRelNs?: number;
  /**
   * sendQuick() for a loop that owns the socket (flood ping): sends, and
   * keeps the reply when one is already queued (or comes within waitMs),
   * for deliverHeld() to hand to start()'s handler once the caller has
   * recorded the send. The bytes sent, -1 on EAGAIN.
   */
  sendHolding?(probe: Probe, waitMs: number): number;
  /** Deliver what the last sendHolding() kept, as start()'s handler; false when it kept nothing. */
  deliverHeld?(): boolean;
  /**
   * While sendHolding() keeps getting replies the method may stop watching
   * the socket on the event loop; a caller about to wait for replies there
   * calls this first.
   */
  watchSocket?(): void;
  /** what the last send() or sendQuick() put on the wire, when the method says */
  readonly lastSent?: SentProbe;
  /**
   * Deliver events until close(). An event is valid only during the call:
   * a method may hand out one reused object (the icmp method does for echo
   * replies, one per flood round trip); copy what outlives the callback.
   */
  start(onEvent: (e: ProbeEvent) => void): void;
  /**
   * The caller is done with probe `seq` (answered or given up): free what it
   * holds (traceroute's per-probe UDP socket or TCP port). Optional.
   */
  release?(seq: number): void;
  /** Keep the process alive while waiting (default true). */
  ref(on: boolean): void;
  close(): void;
}

/** A kernel timestamp (CLOCK_REALTIME ns) as ProbeEvent carries it. */
export function relTime(ns: bigint | undefined): number | undefined {
  return ns === undefined ? undefined : toRelNs(ns);
}
