// Recording for --pcap (ping, traceroute, sock, connect): a pcapng file of
// the packets a command sent and received, one IDB per interface used.
//
// Two ways in, chosen when the recording opens:
// - 'live': with CAP_NET_RAW, a packet socket on the route's interface with
//   a kernel filter (classic BPF from src/stack/filter) for the command's
//   own flow, so the file holds the bytes as they crossed the interface;
// - 'rebuilt': without it, the command feeds what its sockets exchanged and
//   the recording writes IP packets rebuilt from it (rebuild.ts), each with
//   an EPB comment saying what was reconstructed.
// Whole blocks go to the file at the end of each turn of the event loop, so
// the file is whole at every moment a signal handler or an exit can run;
// close() drains the packet sockets and writes what is left. Callers close
// on every way out (the commands register close with their signal handling).
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import * as C from '../constants.js';
import { PermissionError } from '../errors.js';
import { addresses, routeTo } from '../inventory/index.js';
import { interfaceIndex, interfaceName } from '../inventory/system.js';
import { native } from '../native/index.js';
import { formatIPv4, formatIPv6 } from '../packet/addr.js';
import { sysctlNumber } from '../sysctl.js';
import { ARPHRD_ETHER, ARPHRD_LOOPBACK } from '../abi/tpacket.js';
import { LINKTYPE_RAW } from './linktype.js';
import { type LiveCapture, type LivePacket, openLive } from './live.js';
import * as ng from './pcapng.js';

/** libpcap's default snapshot length (MAXIMUM_SNAPLEN) */
export const SNAPLEN = 262144;

/** One interface of the file: a name and a link type (an IDB each). */
export interface RecordInterface {
  name: string;
  linktype: number;
  description?: string;
}

/** bytes of whole blocks held before a write(2) */
const WRITE_BATCH = 64 * 1024;

/**
 * A pcapng file written block by block: a section header at open, an IDB
 * the first time an interface is used, then packets (EPB, nanosecond
 * timestamps, optional comments). Whole blocks are gathered and written
 * at the end of each turn of the event loop (or every 64 KiB, or at
 * close), so a reader, a signal handler or an exit only ever meets whole
 * blocks; a flood costs a write(2) per batch, not per packet.
 */
export class PcapngFile {
  private readonly fd: number;
  private readonly ids = new Map<string, number>();
  private open = true;
  private chunks: Buffer[] = [];
  private pending = 0;
  private scheduled = false;
  /** packets written */
  count = 0;

  /** Opens (truncates) `path`; throws the open(2) error. */
  constructor(
    readonly path: string,
    application = 'sockit',
  ) {
    this.fd = openSync(path, 'w');
    this.put(ng.encodeSectionHeader([{ code: SHB_USERAPPL, value: Buffer.from(application) }]));
    this.flush();
  }

  /** The interface id of `i`, writing its IDB the first time. */
  interfaceId(i: RecordInterface): number {
    const key = `${i.name}\0${i.linktype}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(key, id);
      this.put(ng.encodeInterface({ linktype: i.linktype, snaplen: SNAPLEN, name: i.name, description: i.description, nano: true }));
    }
    return id;
  }

  /** One packet: `tsNs` CLOCK_REALTIME ns; `len` its length on the wire when more than the bytes kept. */
  packet(iface: RecordInterface, tsNs: bigint, data: Buffer, opts: { len?: number; comments?: readonly string[] } = {}): void {
    if (!this.open) return;
    const interfaceId = this.interfaceId(iface);
    this.put(ng.encodeEnhancedPacket({ interfaceId, timestamp: tsNs, len: opts.len ?? data.length, data, comments: opts.comments }));
    this.count++;
  }

  private put(block: Buffer): void {
    this.chunks.push(block);
    this.pending += block.length;
    if (this.pending >= WRITE_BATCH) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Write the blocks gathered so far (whole blocks only). */
  flush(): void {
    this.scheduled = false;
    if (!this.open || this.pending === 0) return;
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.pending);
    this.chunks = [];
    this.pending = 0;
    for (let off = 0; off < all.length; ) off += writeSync(this.fd, all, off);
  }

  get isOpen(): boolean {
    return this.open;
  }

  close(): void {
    if (!this.open) return;
    this.flush();
    this.open = false;
    closeSync(this.fd);
  }
}

const SHB_USERAPPL = 4;

/** Comments the rebuilt packets carry (one vocabulary, so a reader can grep them). */
export const REBUILT = {
  ip: 'sockit: IP header reconstructed from what the socket reported (addresses, TTL, protocol; lengths and checksums computed; IP id, TOS and flags not known)',
  errorQueue: (what: string) =>
    `sockit: ${what} read from the socket's error queue (IP_RECVERR) and rebuilt: its IP header and the quoted datagram are reconstructed from the probe sent`,
  tcp: 'sockit: TCP segment reconstructed from the stream socket (no CAP_NET_RAW): ports and payload as exchanged; sequence numbers count bytes from ISN 0, windows and options are not known',
  handshake:
    "sockit: TCP handshake reconstructed from connect(2)'s outcome: the kernel's own SYN, SYN-ACK and ACK are not visible without CAP_NET_RAW (ISNs, windows, options and retransmissions not known)",
} as const;

/** What a recording is about: the command's flow, for the route's interface and the kernel filter. */
export interface FlowSpec {
  family: 4 | 6;
  /** our address toward the peer (the source the kernel picks) */
  local: string;
  /** the peer (ping's destination, connect's host); none for a server, whose interface is its address's */
  remote?: string;
  /**
   * pcap-filter(7) expression selecting the flow on the wire (addresses,
   * ports, ICMP identifier), compiled for the packet socket's link type
   */
  filter: string;
  /** -I / SO_BINDTODEVICE: the interface, when the command was given one */
  device?: string;
  /**
   * our TCP / UDP ports, when they are known only as the command runs
   * (connect binds one per attempt): segments and datagrams to or from
   * another port of ours are left out (ICMP passes)
   */
  ports?: Set<number>;
}

const ETHERTYPE_IP = 0x0800,
  ETHERTYPE_IPV6 = 0x86dd,
  ETH_HLEN = 14;

/** The protocol and transport offset of the IP packet at `off` (IPv4, or IPv6 without extension headers). */
function transportAt(b: Buffer, off: number, v6: boolean): { proto: number; at: number } | null {
  if (b.length < off + (v6 ? 40 : 20)) return null;
  return v6 ? { proto: b[off + 6]!, at: off + 40 } : { proto: b[off + 9]!, at: off + (b[off]! & 15) * 4 };
}

/**
 * The TCP or UDP ports of an Ethernet frame, or of the datagram an ICMP
 * error in it quotes; null for anything else.
 */
export function framePorts(frame: Buffer): [number, number] | null {
  const type = frame.length >= ETH_HLEN ? frame.readUInt16BE(12) : 0;
  if (type !== ETHERTYPE_IP && type !== ETHERTYPE_IPV6) return null;
  const v6 = type === ETHERTYPE_IPV6;
  let t = transportAt(frame, ETH_HLEN, v6);
  // an ICMP error (v4: not an echo; v6: types below 128) quotes the datagram after its 8-byte header
  if (t && t.proto === (v6 ? C.IPPROTO_ICMPV6 : C.IPPROTO_ICMP) && frame.length > t.at) {
    const type = frame[t.at]!;
    if (v6 ? type >= 128 : type === 0 || type === 8) return null;
    t = transportAt(frame, t.at + 8, v6);
  }
  if (!t || (t.proto !== C.IPPROTO_TCP && t.proto !== C.IPPROTO_UDP) || frame.length < t.at + 4) return null;
  return [frame.readUInt16BE(t.at), frame.readUInt16BE(t.at + 2)];
}

/**
 * A packet socket on interface `ifindex` (live.ts, recvmsg batches so a
 * close can read what is queued) with the flow's filter in the kernel, or
 * null when packet sockets are not allowed (no CAP_NET_RAW).
 */
function openPacketSocket(ifindex: number, filter: string): LiveCapture | null {
  try {
    return openLive({ interface: ifindex, filter, promiscuous: false, direction: 'inout', mechanism: 'recvmsg', snaplen: SNAPLEN });
  } catch (e) {
    if (e instanceof PermissionError) return null;
    throw e;
  }
}

/**
 * The interface the flow uses: the one given; else the route's to the peer
 * (RTM_GETROUTE, as `ip route get`: loopback for an address of this host);
 * else, for a server or when the kernel has no route, the interface that
 * holds our address ('any' when none does: the wildcard).
 */
export async function flowInterface(f: Pick<FlowSpec, 'local' | 'remote' | 'device' | 'family'>): Promise<string> {
  if (f.device) return f.device;
  if (f.remote !== undefined) {
    const oif = await routeTo(f.remote).then(
      (r) => r?.oif,
      () => undefined,
    );
    const name = oif && interfaceName(oif);
    if (name) return name;
  }
  const mine = (await addresses()).addresses;
  const text = (a: Buffer | undefined) => (!a ? '' : a.length === 4 ? formatIPv4(a, 0) : formatIPv6(a, 0));
  const own = mine.find((a) => text(a.local ?? a.address) === f.local.split('%')[0]);
  return (own && interfaceName(own.index)) ?? 'any';
}

function hardwareType(name: string): number | undefined {
  try {
    // ARPHRD_* of the device, as libpcap reads it (/sys/class/net/NAME/type)
    return Number(readFileSync(`/sys/class/net/${name}/type`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** One interface of a recording: its IDB, and its packet socket when live. */
interface Leg {
  iface: RecordInterface;
  live: LiveCapture | null;
  /** the peers whose packets cross it (rebuilt packets go to the leg of their peer) */
  remotes: Set<string>;
}

/** Whether packet sockets on this interface can carry the flow filters (written for Ethernet frames). */
function ethernetLike(ifname: string): boolean {
  const hatype = hardwareType(ifname);
  return hatype === ARPHRD_LOOPBACK || hatype === ARPHRD_ETHER;
}

/** The source and destination of an IP packet, as text. */
function ends(packet: Buffer): [string, string] | null {
  const v = packet.length > 0 ? packet[0]! >> 4 : 0;
  if (v === 4 && packet.length >= 20) return [formatIPv4(packet, 12), formatIPv4(packet, 16)];
  if (v === 6 && packet.length >= 40) return [formatIPv6(packet, 8), formatIPv6(packet, 24)];
  return null;
}

const REBUILT_DESCRIPTION = 'sockit --pcap: IP packets rebuilt from socket events (no link layer)';

/**
 * A recording in progress: one leg (an IDB) per interface the flows use.
 * In 'live' mode packet sockets fill the file by themselves and the feeding
 * methods write nothing; in 'rebuilt' mode they write the packets they are
 * given, with their comments, each on the interface of its peer.
 */
export class Recording {
  private constructor(
    readonly file: PcapngFile,
    readonly mode: 'live' | 'rebuilt',
    private readonly legs: Leg[],
    /** the flow's ports of ours (FlowSpec.ports), which the command adds to as it binds */
    readonly ports?: Set<number>,
  ) {}

  /** the interface of the file's (first) packets */
  get iface(): RecordInterface {
    return this.legs[0]!.iface;
  }

  /**
   * Open `path` (or take a file opened already) and the way in for the
   * flows (one per peer; they share one port set): packet sockets on their
   * interfaces when allowed, else rebuilt packets. Throws the open(2) error
   * of the file, or a packet socket's setup error (the file is closed then).
   */
  static async open(path: string | PcapngFile, flows: FlowSpec | readonly FlowSpec[]): Promise<Recording> {
    const list = Array.isArray(flows) ? flows : [flows as FlowSpec];
    const byIface = new Map<string, FlowSpec[]>();
    for (const f of list) {
      const name = await flowInterface(f);
      byIface.set(name, [...(byIface.get(name) ?? []), f]);
    }
    const file = typeof path === 'string' ? new PcapngFile(path) : path;
    const legs: Leg[] = [];
    try {
      const names = [...byIface.keys()];
      // live only when every interface can be: one file, one kind of packet
      const canLive = names.every((n) => n !== 'any' && interfaceIndex(n) > 0 && ethernetLike(n));
      for (const name of names) {
        const fs = byIface.get(name)!;
        const live = canLive ? openPacketSocket(interfaceIndex(name), fs.map((f) => `(${f.filter})`).join(' or ')) : null;
        legs.push({ iface: { name, linktype: live ? live.linktype : LINKTYPE_RAW }, live, remotes: new Set(fs.map((f) => f.remote ?? '')) });
        if (canLive && !live) break; // no CAP_NET_RAW: rebuilt, all of them
      }
      const live = canLive && legs.length === names.length && legs.every((l) => l.live);
      if (!live) {
        for (const l of legs) l.live?.close();
        legs.length = 0;
        for (const name of names)
          legs.push({
            iface: { name, linktype: LINKTYPE_RAW, description: REBUILT_DESCRIPTION },
            live: null,
            remotes: new Set(byIface.get(name)!.map((f) => f.remote ?? '')),
          });
      }
      const r = new Recording(file, live ? 'live' : 'rebuilt', legs, list[0]!.ports);
      for (const l of legs) {
        l.live?.on('packet', (p) => r.wire(l, p));
        // the command's own sockets keep the process alive; the recording follows them
        l.live?.ref(false);
      }
      return r;
    } catch (e) {
      for (const l of legs) l.live?.close();
      file.close();
      throw e;
    }
  }

  /** What -v says about the recording. */
  get mechanism(): string {
    const names = this.legs.map((l) => l.iface.name).join(', ');
    return this.mode === 'live' ? `packet socket on ${names} (CAP_NET_RAW)` : `packets rebuilt from socket events, interface ${names}`;
  }

  get rebuilding(): boolean {
    return this.mode === 'rebuilt' && this.file.isOpen;
  }

  /** A rebuilt packet (an IP packet), in 'rebuilt' mode only: on the interface of the peer it is from or to. */
  rebuilt(tsNs: bigint, packet: Buffer, comments: readonly string[]): void {
    if (!this.rebuilding) return;
    const e = this.legs.length > 1 ? ends(packet) : null;
    const leg = (e && this.legs.find((l) => l.remotes.has(e[0]) || l.remotes.has(e[1]))) ?? this.legs[0]!;
    this.file.packet(leg.iface, tsNs, packet, { comments });
  }

  private wire(leg: Leg, p: LivePacket): void {
    const ports = this.ports && framePorts(p.data);
    if (ports && !this.ports!.has(ports[0]) && !this.ports!.has(ports[1])) return;
    this.file.packet(leg.iface, p.tsNs, p.data, { len: p.len });
  }

  /** Drain the packet sockets into the file and close them and it. Safe to call more than once. */
  close(): void {
    if (!this.file.isOpen) return;
    for (const l of this.legs) {
      l.live?.flush();
      l.live?.close();
    }
    this.file.close();
  }
}

/** CLOCK_REALTIME now, ns: the stamp of a rebuilt packet the kernel gave no time for. */
export function nowNs(): bigint {
  return native.clock(C.CLOCK_REALTIME);
}

/** The TTL / hop limit a socket sends with when none was set (ip-sysctl: ip_default_ttl, hop_limit). */
export function defaultTtl(family: 4 | 6): number {
  return (family === 4 ? sysctlNumber('net.ipv4.ip_default_ttl') : sysctlNumber('net.ipv6.conf.default.hop_limit')) ?? 64;
}
