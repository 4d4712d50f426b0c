// SNTP (RFC 4330): one client-mode exchange on the core's UDP socket, with
// the kernel's receive stamp (SO_TIMESTAMPNS) as T4 and the stamp read just
// before sendto(2) as T1; and the book's listener (UNP 21.11 ssntp). Nothing
// here sets the clock.
import { readFileSync, readdirSync } from 'node:fs';
import * as C from './constants.js';
import { PermissionError, isSystemError, strerror } from './errors.js';
import type { InetSockAddr } from './hostserv.js';
import { native } from './native/index.js';
import * as ntp from './packet/ntp.js';
import { Socket } from './socket.js';

/** RFC 5905's PHI, the frequency tolerance (15 ppm), as ntpdig uses it. */
const PHI = 15e-6;
const VERSION = 4;

/** One good exchange: the four timestamps (Unix ns) and what they give (RFC 4330 section 5). */
export interface SntpSample {
  packet: ntp.NtpPacket;
  t1: bigint;
  t2: bigint;
  t3: bigint;
  t4: bigint;
  /** ((T2 - T1) + (T3 - T4)) / 2, ns */
  offsetNs: number;
  /** (T4 - T1) - (T3 - T2), ns */
  delayNs: number;
  /** ntpdig's synchronisation distance |delay/2 + PHI (T4 - T1) + 2^precision|, ns */
  errorNs: number;
}

/** Why an exchange gave no sample; `message` is the clear line. */
export type SntpProblem =
  | { kind: 'timeout'; message: string }
  | { kind: 'kod'; code: string; message: string; packet: ntp.NtpPacket }
  | { kind: 'system'; code: string; message: string }
  | { kind: 'short' | 'mode' | 'version' | 'originate' | 'transmit' | 'unsynchronized'; message: string; packet?: ntp.NtpPacket };

export type SntpOutcome = { ok: true; sample: SntpSample } | ({ ok: false } & SntpProblem);

/** RFC 5905 section 7.4's kiss codes. */
export const KISS_CODES: Record<string, string> = {
  ACST: 'the association belongs to a unicast server',
  AUTH: 'server authentication failed',
  AUTO: 'autokey sequence failed',
  BCST: 'the association belongs to a broadcast server',
  CRYP: 'cryptographic authentication or identification failed',
  DENY: 'access denied by remote server',
  DROP: 'lost peer in symmetric mode',
  RSTR: 'access denied due to local policy',
  INIT: 'the association has not yet synchronized for the first time',
  MCST: 'the association belongs to a dynamically discovered server',
  NKEY: 'no key found',
  NTSN: 'network time security negative-acknowledgment',
  RATE: 'rate exceeded: the server has temporarily denied access because the client exceeded the rate threshold',
  RMOT: 'alteration of association from a remote host running ntpdc',
  STEP: 'a step change in system time has occurred, but the association has not yet resynchronized',
};

const hex = (ts: bigint) => `${(ts >> 32n).toString(16).padStart(8, '0')}.${(ts & 0xffffffffn).toString(16).padStart(8, '0')}`;

/** The checks of RFC 4330 section 5 on a reply to a request whose transmit timestamp was `sent`. */
export function checkReply(bytes: Buffer, sent: bigint): { ok: true; packet: ntp.NtpPacket } | ({ ok: false } & SntpProblem) {
  const d = ntp.decode(bytes);
  if (!d.ok) return { ok: false, kind: 'short', message: `short reply: ${bytes.length} bytes (an NTP packet has ${ntp.HEADER})` };
  const p = d.value;
  if (p.mode !== ntp.MODE_SERVER) return { ok: false, kind: 'mode', message: `reply in mode ${p.mode}, not ${ntp.MODE_SERVER} (server)`, packet: p };
  if (p.version !== VERSION) return { ok: false, kind: 'version', message: `reply of version ${p.version} to a version ${VERSION} request`, packet: p };
  if (p.originateTime !== sent) {
    return {
      ok: false,
      kind: 'originate',
      message: `reply's originate timestamp ${hex(p.originateTime)} does not echo our transmit timestamp ${hex(sent)}`,
      packet: p,
    };
  }
  if (p.transmitTime === 0n) return { ok: false, kind: 'transmit', message: "reply's transmit timestamp is zero", packet: p };
  if (p.stratum === 0) {
    const code = ntp.referenceIdAscii(p.referenceId);
    const why = KISS_CODES[code];
    return { ok: false, kind: 'kod', code, message: `kiss-o'-death ${code}${why ? ` (${why})` : ''}`, packet: p };
  }
  if (p.leap === ntp.LEAP_UNSYNCHRONIZED) return { ok: false, kind: 'unsynchronized', message: 'server clock not synchronized (leap indicator 3)', packet: p };
  return { ok: true, packet: p };
}

/** Offset, delay and error of a good reply (RFC 4330 section 5; ntpdig's synchd). */
export function sample(packet: ntp.NtpPacket, t1: bigint, t4: bigint): SntpSample {
  const t2 = ntp.toUnixNs(packet.receiveTime);
  const t3 = ntp.toUnixNs(packet.transmitTime);
  const delayNs = Number(t4 - t1 - (t3 - t2));
  const offsetNs = Number(t2 - t1 + (t3 - t4)) / 2;
  const errorNs = Math.abs(delayNs / 2 + PHI * Number(t4 - t1) + 2 ** packet.precision * 1e9);
  return { packet, t1, t2, t3, t4, offsetNs, delayNs, errorNs };
}

/** ntpdig's clock_select among good samples of one server: lowest stratum, then error, then root delay. */
export function best(samples: SntpSample[]): SntpSample | undefined {
  return [...samples].sort((a, b) => a.packet.stratum - b.packet.stratum || a.errorNs - b.errorNs || a.packet.rootDelay - b.packet.rootDelay)[0];
}

/** The client's request: mode 3, version 4, our time as the transmit timestamp. */
export function request(nowNs: bigint): ntp.NtpPacket {
  return {
    leap: 0,
    version: VERSION,
    mode: ntp.MODE_CLIENT,
    stratum: 0,
    poll: 0,
    precision: 0,
    rootDelay: 0,
    rootDispersion: 0,
    referenceId: 0,
    referenceTime: 0n,
    originateTime: 0n,
    receiveTime: 0n,
    transmitTime: ntp.fromUnixNs(nowNs),
  };
}

/**
 * One SNTP exchange with `server` on a connected UDP socket (so only its
 * datagrams arrive, and an ICMP port unreachable is ECONNREFUSED). The
 * first datagram ends it: a sample, or the check it failed.
 */
export function query(server: InetSockAddr, timeoutMs: number): Promise<SntpOutcome> {
  const s = Socket.open(server.family, C.SOCK_DGRAM);
  return new Promise<SntpOutcome>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (o: SntpOutcome) => {
      clearTimeout(timer);
      s.close();
      resolve(o);
    };
    try {
      s.setsockopt(C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1);
      s.connectStart(server);
      const req = request(native.clock(0));
      const buf = Buffer.alloc(1024);
      s.onReadable(() => {
        let r;
        try {
          r = s.recv(buf);
        } catch (e) {
          return done(systemProblem(e));
        }
        if (!r) return;
        const t4 = r.control.timestampNs ?? native.clock(0);
        const checked = checkReply(Buffer.from(buf.subarray(0, r.bytes)), req.transmitTime);
        done(checked.ok ? { ok: true, sample: sample(checked.packet, t1, t4) } : checked);
      });
      timer = setTimeout(() => done({ ok: false, kind: 'timeout', message: `no reply within ${timeoutMs / 1000} s` }), timeoutMs);
      const t1 = s.send(ntp.encode(req)).realNs;
    } catch (e) {
      done(systemProblem(e));
    }
  });
}

function systemProblem(e: unknown): SntpOutcome {
  if (!isSystemError(e)) throw e;
  return { ok: false, kind: 'system', code: e.code, message: strerror(e.errno) };
}

// ---------- the listener (UNP 21.11 ssntp) ----------

export const NTP_GROUP4 = '224.0.1.1'; // IANA: NTP
export const NTP_GROUP6 = 'ff05::101'; // site-local all NTP servers

const IFF_UP = 0x1;
const IFF_MULTICAST = 0x1000;

/**
 * The interfaces that are up and can multicast (UNP's get_ifi_info with
 * IFF_MULTICAST): names from /proc/net/dev (this namespace's), flags from
 * sysfs where it shows this namespace (ip netns exec remounts it).
 */
export function multicastInterfaces(): { name: string; index: number }[] {
  const names = readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]!.trim())
    .filter(Boolean);
  let sys: Set<string> | null = null;
  try {
    sys = new Set(readdirSync('/sys/class/net'));
  } catch {
    /* no sysfs */
  }
  const out: { name: string; index: number }[] = [];
  for (const name of names) {
    let index: number;
    try {
      index = native.if_nametoindex(name);
    } catch {
      continue;
    }
    if (sys?.has(name)) {
      const flags = Number(readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim());
      if ((flags & (IFF_UP | IFF_MULTICAST)) !== (IFF_UP | IFF_MULTICAST)) continue;
    }
    out.push({ name, index });
  }
  return out;
}

/** struct ip_mreqn (group, any local address, ifindex) or struct ipv6_mreq (group, ifindex). */
function mreq(group: string, ifindex: number): Buffer {
  if (!group.includes(':')) {
    const b = Buffer.alloc(12);
    group.split('.').forEach((o, i) => (b[i] = Number(o)));
    b.writeInt32LE(ifindex, 8);
    return b;
  }
  const b = Buffer.alloc(20);
  native.sockaddr({ family: C.AF_INET6, address: group, port: 0 }).copy(b, 0, 8, 24);
  b.writeInt32LE(ifindex, 16);
  return b;
}

export interface ListenEvents {
  joined(group: string, port: number, ifname: string): void;
  joinFailed(group: string, ifname: string, message: string): void;
  packet(from: InetSockAddr, bytes: Buffer, receivedNs: bigint): void;
}

/** What binding the NTP port needs, with the changes that would allow it. */
function portPermission(port: number): PermissionError {
  return new PermissionError(`binding UDP port ${port} needs CAP_NET_BIND_SERVICE`, [
    'run as root',
    'setcap cap_net_bind_service=+ep on the node binary',
    `sysctl net.ipv4.ip_unprivileged_port_start=${port}`,
    'a port of 1024 or more (-p)',
  ]);
}

/**
 * Bind `port` (an IPv4 and an IPv6-only socket, SO_REUSEADDR as ssntp), join
 * the groups on every multicast interface, and report every datagram with
 * its kernel receive stamp. Returns a function that closes both sockets.
 */
export function listen(groups: string[], port: number, on: ListenEvents): () => void {
  const sockets: Socket[] = [];
  const close = () => {
    for (const s of sockets) s.close();
  };
  try {
    for (const family of [C.AF_INET, C.AF_INET6]) {
      const mine = groups.filter((g) => g.includes(':') === (family === C.AF_INET6));
      if (mine.length === 0) continue;
      const s = Socket.open(family, C.SOCK_DGRAM);
      sockets.push(s);
      s.setsockopt(C.SOL_SOCKET, C.SO_REUSEADDR, 1);
      s.setsockopt(C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1);
      if (family === C.AF_INET6) s.setsockopt(C.IPPROTO_IPV6, C.IPV6_V6ONLY, 1);
      try {
        s.bind(family === C.AF_INET ? { family: C.AF_INET, address: '0.0.0.0', port } : { family: C.AF_INET6, address: '::', port, scopeid: 0 });
      } catch (e) {
        if (isSystemError(e) && (e.code === 'EACCES' || e.code === 'EPERM')) throw portPermission(port);
        throw e;
      }
      joinAll(s, family, mine, port, on);
      receive(s, on);
    }
  } catch (e) {
    close();
    throw e;
  }
  return close;
}

function joinAll(s: Socket, family: number, groups: string[], port: number, on: ListenEvents): void {
  for (const ifi of multicastInterfaces()) {
    for (const g of groups) {
      try {
        if (family === C.AF_INET) s.setsockopt(C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP, mreq(g, ifi.index));
        else s.setsockopt(C.IPPROTO_IPV6, C.IPV6_JOIN_GROUP, mreq(g, ifi.index));
        on.joined(g, port, ifi.name);
      } catch (e) {
        on.joinFailed(g, ifi.name, isSystemError(e) ? strerror(e.errno) : String(e));
      }
    }
  }
}

function receive(s: Socket, on: ListenEvents): void {
  const buf = Buffer.alloc(2048);
  s.onReadable(() => {
    for (let i = 0; i < 64; i++) {
      const r = s.recv(buf);
      if (!r) return;
      const a = r.address;
      if (!a || (a.family !== C.AF_INET && a.family !== C.AF_INET6)) continue;
      on.packet(a as InetSockAddr, Buffer.from(buf.subarray(0, r.bytes)), r.control.timestampNs ?? native.clock(0));
    }
  });
}
