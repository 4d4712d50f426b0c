// The /proc/net text tables (proc(5)) read into the same records as
// sock_diag's: the fallback when netlink is refused, and the source of
// what only /proc/net/unix has (RefCount, Flags) for netstat -x.
import { readFileSync } from 'node:fs';
import { formatIPv4, formatIPv6 } from '../packet/addr.js';
import type { InetDiagMsg, UnixDiagMsg } from '../abi/sock_diag.js';
import type { NetlinkDiagMsg, PacketDiagMsg } from '../abi/packet_diag.js';

/** USER_HZ: /proc/net/{tcp,udp,raw} timers count clock ticks of 1/100 s */
const USER_HZ = 100;

// Each 32-bit word of an address is printed in host byte order (%08X of a __be32).
function hexAddress(hex: string, buf: Buffer): string {
  for (let w = 0; w < hex.length / 8; w++) buf.writeUInt32LE(parseInt(hex.slice(w * 8, w * 8 + 8), 16) >>> 0, w * 4);
  return hex.length === 8 ? formatIPv4(buf, 0) : formatIPv6(buf, 0);
}

/** Read a table, '' when it does not exist (no IPv6, no raw module). */
export function readProcNet(name: string, root = '/proc'): string {
  try {
    return readFileSync(`${root}/net/${name}`, 'latin1');
  } catch {
    return '';
  }
}

/**
 * /proc/net/{tcp,udp,raw}[6]: sl local rem st tx:rx tr:when retrnsmt uid
 * timeout inode (tcp4_seq_show, udp4_format_sock, raw_sock_seq_show).
 */
export function* parseProcInet(text: string, family: 4 | 6): Generator<InetDiagMsg> {
  const buf = Buffer.alloc(16);
  for (const f of rows(text)) {
    if (f.length < 10) continue;
    const [lh, lp] = f[1].split(':');
    const [rh, rp] = f[2].split(':');
    const [tx, rx] = f[4].split(':');
    const [tr, when] = f[5].split(':');
    const timer = parseInt(tr, 16);
    const retrans = parseInt(f[6], 16),
      probes = Number(f[8]);
    yield {
      family: family === 4 ? 2 : 10,
      state: parseInt(f[3], 16),
      timer,
      retrans: timer !== 1 ? probes : retrans, // ss's tcp_show_line
      sport: parseInt(lp, 16),
      dport: parseInt(rp, 16),
      src: hexAddress(lh, buf),
      dst: hexAddress(rh, buf),
      ifindex: 0,
      cookie: '0',
      expires: Math.ceil((parseInt(when, 16) * 1000) / USER_HZ),
      wqueue: parseInt(tx, 16),
      rqueue: parseInt(rx, 16),
      uid: Number(f[7]),
      inode: Number(f[9]),
    };
  }
}

/** A row of /proc/net/unix with what only it has. */
export interface ProcUnix extends UnixDiagMsg {
  refcnt: number;
  /** the Flags column: __SO_ACCEPTCON (1 << 16) for a listener */
  flags: number;
  /** socket_state: SS_UNCONNECTED 1, SS_CONNECTING 2, SS_CONNECTED 3, SS_DISCONNECTING 4 */
  sockState: number;
}

const SO_ACCEPTCON = 1 << 16;
// socket_state (SS_*) to the TCP_* state unix_diag reports (af_unix.c)
const UNIX_TCP_STATE: Record<number, number> = { 1: 7, 2: 2, 3: 1, 4: 8 };

/** /proc/net/unix: Num RefCount Protocol Flags Type St Inode [Path] (unix_seq_show). */
export function* parseProcUnix(text: string): Generator<ProcUnix> {
  let start = text.indexOf('\n') + 1;
  while (start > 0 && start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    const f = line.trim().split(/\s+/);
    if (f.length < 7) continue;
    const flags = parseInt(f[3], 16),
      st = parseInt(f[5], 16);
    // the path is everything after the inode: it may hold spaces
    const m = /^\s*\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+ (.*)$/.exec(line);
    const rec: ProcUnix = {
      type: parseInt(f[4], 16),
      state: flags & SO_ACCEPTCON ? 10 : (UNIX_TCP_STATE[st] ?? st),
      inode: Number(f[6]),
      cookie: '0',
      refcnt: parseInt(f[1], 16),
      flags,
      sockState: st,
    };
    if (m && m[1] !== '') rec.name = m[1];
    yield rec;
  }
}

/** The data lines of a /proc/net table (its header line skipped), split on blanks. */
function* rows(text: string): Generator<string[]> {
  let start = text.indexOf('\n') + 1;
  while (start > 0 && start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const f = text.slice(start, end).trim().split(/\s+/);
    start = end + 1;
    yield f;
  }
}

/**
 * /proc/net/packet: sk RefCnt Type Proto Iface R Rmem User Inode
 * (packet_seq_show; Proto is the ethertype in hex, host order).
 */
export function* parseProcPacket(text: string): Generator<PacketDiagMsg> {
  for (const f of rows(text)) {
    if (f.length < 9) continue;
    yield {
      table: 'packet',
      type: Number(f[2]),
      protocol: parseInt(f[3]!, 16),
      inode: Number(f[8]),
      cookie: '0',
      uid: Number(f[7]),
      proc: { ifindex: Number(f[4]), rmem: Number(f[6]) },
    };
  }
}

/**
 * /proc/net/netlink: sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
 * (netlink_seq_show). No peer: every socket reads as unconnected.
 */
export function* parseProcNetlink(text: string): Generator<NetlinkDiagMsg> {
  for (const f of rows(text)) {
    if (f.length < 10) continue;
    const sk = f[0]!.replace(/^0+(?=.)/, '').toLowerCase();
    yield {
      table: 'netlink',
      type: 3, // SOCK_RAW: /proc/net/netlink does not say (SOCK_DGRAM ones list alike)
      protocol: Number(f[1]),
      state: 0,
      portid: Number(f[2]) >>> 0,
      dstPortid: 0,
      dstGroup: 0,
      inode: Number(f[9]),
      cookie: '0',
      groups: parseInt(f[3]!, 16) >>> 0,
      // ss reads the Dump column (a decimal) with %llx
      proc: { sk, cb: f[6]!.replace(/^0+(?=.)/, ''), rmem: Number(f[4]), wmem: Number(f[5]) },
    };
  }
}

const hexIPv6 = (h: string) => formatIPv6(Buffer.from(h, 'hex'));

/** One line of /proc/net/ipv6_route (ipv6_route_native_seq_show): every table, with the fib's refcount. */
export interface Route6 {
  dst: string;
  dstLen: number;
  src: string;
  srcLen: number;
  nextHop: string;
  metric: number; // rt6i_metric, unsigned as the file prints it
  refcnt: number;
  use: number;
  flags: number; // RTF_*
  device: string;
}

export function parseIpv6Route(text: string): Route6[] {
  const out: Route6[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 9 || !/^[0-9a-f]{32}$/i.test(f[0]!)) continue;
    out.push({
      dst: hexIPv6(f[0]!),
      dstLen: parseInt(f[1]!, 16),
      src: hexIPv6(f[2]!),
      srcLen: parseInt(f[3]!, 16),
      nextHop: hexIPv6(f[4]!),
      metric: parseInt(f[5]!, 16) >>> 0,
      refcnt: parseInt(f[6]!, 16) >>> 0,
      use: parseInt(f[7]!, 16) >>> 0,
      flags: parseInt(f[8]!, 16) >>> 0,
      device: f[9] ?? '',
    });
  }
  return out;
}

/** One line of /proc/net/if_inet6 (if6_seq_show): address, index, prefix, scope (IPV6_ADDR_* bits), IFA_F_* flags, device. */
export interface IfInet6 {
  address: string;
  index: number;
  prefixLen: number;
  scope: number;
  flags: number;
  device: string;
}

export function parseIfInet6(text: string): IfInet6[] {
  const out: IfInet6[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !/^[0-9a-f]{32}$/i.test(f[0]!)) continue;
    out.push({
      address: hexIPv6(f[0]!),
      index: parseInt(f[1]!, 16),
      prefixLen: parseInt(f[2]!, 16),
      scope: parseInt(f[3]!, 16),
      flags: parseInt(f[4]!, 16),
      device: f[5]!,
    });
  }
  return out;
}
