// sock_diag(7) structs in host order: inet_diag_req_v2 / inet_diag_msg
// (<linux/inet_diag.h>), unix_diag_req / unix_diag_msg (<linux/unix_diag.h>)
// and their attributes. Pure codecs: decode never throws.
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../packet/addr.js';
import { fail, ok, truncated, type DecodeFailure, type DecodeResult } from '../packet/result.js';
import { tcpInfo, type TcpInfo } from '../structs.js';
import { walkAttrs } from './netlink.js';

/** nlmsg_type of every sock_diag request and reply */
export const SOCK_DIAG_BY_FAMILY = 20;
export const SOCK_DESTROY = 21;
/**
 * nlmsg_type of sock_diag's first TCP request (struct inet_diag_req, still
 * served: inet_diag_rcv_msg_compat): it dumps IPv4 and IPv6 sockets in one
 * walk (sdiag_family AF_UNSPEC), and its replies are inet_diag_msg
 */
export const TCPDIAG_GETSOCK = 18;

// enum { INET_DIAG_NONE, INET_DIAG_MEMINFO, ... } (<linux/inet_diag.h>)
export const INET_DIAG_MEMINFO = 1;
export const INET_DIAG_INFO = 2;
export const INET_DIAG_VEGASINFO = 3;
export const INET_DIAG_CONG = 4;
export const INET_DIAG_TOS = 5;
export const INET_DIAG_TCLASS = 6;
export const INET_DIAG_SKMEMINFO = 7;
export const INET_DIAG_SHUTDOWN = 8;
export const INET_DIAG_DCTCPINFO = 9;
export const INET_DIAG_PROTOCOL = 10;
export const INET_DIAG_SKV6ONLY = 11;
export const INET_DIAG_MARK = 15;
export const INET_DIAG_BBRINFO = 16;
export const INET_DIAG_CGROUP_ID = 21;

/** idiag_ext bit asking for attribute a (the kernel's 1 << (a - 1)) */
export const extBit = (a: number): number => 1 << (a - 1);

// unix_diag_req.udiag_show bits and the reply's attributes (<linux/unix_diag.h>)
export const UDIAG_SHOW_NAME = 0x01;
export const UDIAG_SHOW_VFS = 0x02;
export const UDIAG_SHOW_PEER = 0x04;
export const UDIAG_SHOW_ICONS = 0x08;
export const UDIAG_SHOW_RQLEN = 0x10;
export const UDIAG_SHOW_MEMINFO = 0x20;
export const UNIX_DIAG_NAME = 0;
export const UNIX_DIAG_VFS = 1;
export const UNIX_DIAG_PEER = 2;
export const UNIX_DIAG_ICONS = 3;
export const UNIX_DIAG_RQLEN = 4;
export const UNIX_DIAG_MEMINFO = 5;
export const UNIX_DIAG_SHUTDOWN = 6;

/** struct inet_diag_sockid: which socket (all zero: every socket) */
export interface InetDiagSockid {
  sport: number;
  dport: number;
  src: string;
  dst: string;
  ifindex: number;
  cookie: string; // hex, as inet_diag_msg decodes it
}

export interface InetDiagReqV2 {
  family: number; // sdiag_family
  protocol: number; // sdiag_protocol
  ext: number; // idiag_ext: extBit() of the attributes wanted
  rawProtocol?: number; // the pad byte, sdiag_raw_protocol for IPPROTO_RAW dumps
  states: number; // idiag_states: 1 << TCP_* of the states wanted
  id?: InetDiagSockid;
}

export const inetDiagReqV2 = {
  size: 56,
  encode(r: InetDiagReqV2): Buffer {
    const b = Buffer.alloc(56); // the inet_diag_sockid is zero: match every socket
    b[0] = r.family;
    b[1] = r.protocol;
    b[2] = r.ext;
    b[3] = r.rawProtocol ?? 0;
    b.writeUInt32LE(r.states >>> 0, 4);
    if (r.id) {
      b.writeUInt16BE(r.id.sport, 8);
      b.writeUInt16BE(r.id.dport, 10);
      (parseIPv4(r.id.src) ?? parseIPv6(r.id.src) ?? Buffer.alloc(0)).copy(b, 12);
      (parseIPv4(r.id.dst) ?? parseIPv6(r.id.dst) ?? Buffer.alloc(0)).copy(b, 28);
      b.writeUInt32LE(r.id.ifindex >>> 0, 44);
      const c = BigInt(`0x${r.id.cookie || '0'}`);
      b.writeUInt32LE(Number(c & 0xffffffffn), 48);
      b.writeUInt32LE(Number(c >> 32n), 52);
    }
    return b;
  },
};

/**
 * struct inet_diag_req (the request before v2): idiag_family (the kernel
 * dumps every family whatever it says), src_len, dst_len, idiag_ext, an
 * inet_diag_sockid (zero: every socket), idiag_states, idiag_dbs
 */
export const inetDiagReq = {
  size: 60,
  encode(r: { ext: number; states: number }): Buffer {
    const b = Buffer.alloc(60);
    b[3] = r.ext;
    b.writeUInt32LE(r.states >>> 0, 52);
    return b;
  },
};

export interface UnixDiagReq {
  states: number; // udiag_states
  show: number; // udiag_show
}

export const unixDiagReq = {
  size: 24,
  encode(r: UnixDiagReq): Buffer {
    const b = Buffer.alloc(24);
    b[0] = 1; // AF_UNIX
    b.writeUInt32LE(r.states >>> 0, 4);
    b.writeUInt32LE(0, 8); // udiag_ino: all
    b.writeUInt32LE(r.show >>> 0, 12);
    b.writeUInt32LE(0xffffffff, 16); // INET_DIAG_NOCOOKIE
    b.writeUInt32LE(0xffffffff, 20);
    return b;
  },
};

/** struct inet_diag_meminfo */
export interface InetDiagMeminfo {
  rmem: number;
  wmem: number;
  fmem: number;
  tmem: number;
}

/** SK_MEMINFO_* slots of INET_DIAG_SKMEMINFO / UNIX_DIAG_MEMINFO, in order */
export const SK_MEMINFO = ['rmem_alloc', 'rcvbuf', 'wmem_alloc', 'sndbuf', 'fwd_alloc', 'wmem_queued', 'optmem', 'backlog', 'drops'] as const;
export type SkMeminfo = Partial<Record<(typeof SK_MEMINFO)[number], number>>;

/** struct inet_diag_msg and the attributes after it */
export interface InetDiagMsg {
  family: number; // idiag_family
  state: number; // idiag_state (TCP_*)
  timer: number; // idiag_timer: 0 off, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 zero window probe
  retrans: number; // idiag_retrans
  sport: number;
  dport: number;
  src: string;
  dst: string;
  ifindex: number; // idiag_if
  cookie: string; // idiag_cookie as hex, the kernel's sock pointer stand-in
  expires: number; // idiag_expires, ms
  rqueue: number;
  wqueue: number;
  uid: number;
  inode: number;
  info?: TcpInfo;
  meminfo?: InetDiagMeminfo;
  skmeminfo?: SkMeminfo;
  cong?: string;
  /** struct tcpvegas_info (INET_DIAG_VEGASINFO) */
  vegas?: { enabled: number; rttcnt: number; rtt: number; minrtt: number };
  /** struct tcp_dctcp_info (INET_DIAG_DCTCPINFO) */
  dctcp?: { enabled: number; ce_state: number; alpha: number; ab_ecn: number; ab_tot: number };
  /** struct tcp_bbr_info (INET_DIAG_BBRINFO): bw in bytes/s, min_rtt in us, gains << 8 */
  bbr?: { bw: number; min_rtt: number; pacing_gain: number; cwnd_gain: number };
  tos?: number;
  tclass?: number;
  shutdown?: number;
  v6only?: number;
  mark?: number;
  protocol?: number;
  /** INET_DIAG_CGROUP_ID: the cgroup v2 directory's inode (a u64; exact below 2^53) */
  cgroupId?: number;
}

const MSG_LEN = 72;

export function cookieHex(b: Uint8Array, o: number): string {
  const lo = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  const hi = (b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16) | (b[o + 7] << 24)) >>> 0;
  return hi ? hi.toString(16) + lo.toString(16).padStart(8, '0') : lo.toString(16);
}

export const u32 = (b: Uint8Array, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const cstring = (b: Uint8Array, o: number, n: number): string => {
  let e = o;
  while (e < o + n && b[e] !== 0) e++;
  return Buffer.from(b.buffer, b.byteOffset + o, e - o).toString('latin1');
};

export function u32s(b: Uint8Array, o: number, n: number): SkMeminfo {
  const m: SkMeminfo = {};
  for (let i = 0; i < SK_MEMINFO.length && 4 * i + 4 <= n; i++) m[SK_MEMINFO[i]] = u32(b, o + 4 * i);
  return m;
}

/**
 * struct inet_diag_msg's field offsets: inetDiagMsg.decode reads them, and
 * so do listings that format straight from the reply (no record per socket,
 * after inetDiagCheck, which takes what decode takes).
 */
export const INET_DIAG_MSG = {
  FAMILY: 0,
  STATE: 1,
  TIMER: 2,
  RETRANS: 3,
  SPORT: 4, // big-endian, as are DPORT and the addresses
  DPORT: 6,
  SRC: 8,
  DST: 24,
  IF: 40,
  COOKIE: 44,
  EXPIRES: 52,
  RQUEUE: 56,
  WQUEUE: 60,
  UID: 64,
  INODE: 68,
  SIZE: MSG_LEN,
} as const;

/** The fixed part of an inet_diag_msg: whole, and of family AF_INET or AF_INET6 (null), or why not. */
function headerBad(b: Uint8Array, offset: number, end: number): DecodeFailure | null {
  if (end - offset < MSG_LEN) return truncated('inet_diag_msg', MSG_LEN, end - offset, offset);
  const family = b[offset];
  if (family !== 2 && family !== 10) return fail('inet_diag_msg', `idiag_family ${family} is neither AF_INET nor AF_INET6`, offset);
  return null;
}

export const inetDiagMsg = {
  size: MSG_LEN,
  /** b[offset, end) is one message's payload (after its nlmsghdr). */
  decode(b: Uint8Array, offset = 0, end = b.length): DecodeResult<InetDiagMsg> {
    const bad0 = headerBad(b, offset, end);
    if (bad0) return bad0;
    const family = b[offset];
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    const M = INET_DIAG_MSG;
    const m: InetDiagMsg = {
      family,
      state: b[offset + M.STATE],
      timer: b[offset + M.TIMER],
      retrans: b[offset + M.RETRANS],
      sport: (b[offset + M.SPORT] << 8) | b[offset + M.SPORT + 1],
      dport: (b[offset + M.DPORT] << 8) | b[offset + M.DPORT + 1],
      src: family === 2 ? formatIPv4(buf, offset + M.SRC) : formatIPv6(buf, offset + M.SRC),
      dst: family === 2 ? formatIPv4(buf, offset + M.DST) : formatIPv6(buf, offset + M.DST),
      ifindex: u32(b, offset + M.IF),
      cookie: cookieHex(b, offset + M.COOKIE),
      expires: u32(b, offset + M.EXPIRES),
      rqueue: u32(b, offset + M.RQUEUE),
      wqueue: u32(b, offset + M.WQUEUE),
      uid: u32(b, offset + M.UID),
      inode: u32(b, offset + M.INODE),
    };
    const bad = walkAttrs(b, offset + MSG_LEN, end, (t, p, n) => inetAttr(m, buf, t, p, n));
    if (bad) return fail('inet_diag_msg', bad, offset);
    return ok(m, end - offset);
  },
};

/**
 * Whether b[offset, end) is an inet_diag_msg inetDiagMsg.decode would take:
 * null, or why not. When it is, `inetDiagV6only` reads INET_DIAG_SKV6ONLY.
 */
export function inetDiagCheck(b: Uint8Array, offset: number, end: number): DecodeFailure | null {
  const bad0 = headerBad(b, offset, end);
  if (bad0) return bad0;
  const bad = attrsBad(b, offset + MSG_LEN, end);
  return bad ? fail('inet_diag_msg', bad, offset) : null;
}

/** walkAttrs' checks without a callback (the per-socket path allocates nothing) */
function attrsBad(b: Uint8Array, o: number, end: number): string | null {
  while (end - o >= 4) {
    const len = b[o] | (b[o + 1] << 8);
    if (len < 4 || len > end - o) return walkAttrs(b, o, end, () => {});
    o += (len + 3) & ~3;
  }
  return null;
}

/** INET_DIAG_SKV6ONLY of a checked message: 0 or 1, or -1 when absent */
export function inetDiagV6only(b: Uint8Array, offset: number, end: number): number {
  let o = offset + MSG_LEN;
  while (end - o >= 4) {
    const len = b[o] | (b[o + 1] << 8);
    if (((b[o + 2] | (b[o + 3] << 8)) & 0x3fff) === INET_DIAG_SKV6ONLY && len >= 5) return b[o + 4];
    o += (len + 3) & ~3;
  }
  return -1;
}

function inetAttr(m: InetDiagMsg, b: Buffer, type: number, p: number, n: number): void {
  switch (type) {
    case INET_DIAG_INFO: {
      const info = tcpInfo.decode(b.subarray(p, p + n)); // shorter structs from older kernels decode partly
      if (info) m.info = info;
      break;
    }
    case INET_DIAG_MEMINFO:
      if (n >= 16) m.meminfo = { rmem: u32(b, p), wmem: u32(b, p + 4), fmem: u32(b, p + 8), tmem: u32(b, p + 12) };
      break;
    case INET_DIAG_SKMEMINFO:
      m.skmeminfo = u32s(b, p, n);
      break;
    case INET_DIAG_CONG:
      m.cong = cstring(b, p, n);
      break;
    case INET_DIAG_VEGASINFO:
      if (n >= 16) m.vegas = { enabled: u32(b, p), rttcnt: u32(b, p + 4), rtt: u32(b, p + 8), minrtt: u32(b, p + 12) };
      break;
    case INET_DIAG_DCTCPINFO:
      if (n >= 16)
        m.dctcp = {
          enabled: b[p] | (b[p + 1] << 8),
          ce_state: b[p + 2] | (b[p + 3] << 8),
          alpha: u32(b, p + 4),
          ab_ecn: u32(b, p + 8),
          ab_tot: u32(b, p + 12),
        };
      break;
    case INET_DIAG_BBRINFO:
      if (n >= 20) m.bbr = { bw: u32(b, p) + u32(b, p + 4) * 2 ** 32, min_rtt: u32(b, p + 8), pacing_gain: u32(b, p + 12), cwnd_gain: u32(b, p + 16) };
      break;
    case INET_DIAG_TOS:
      if (n >= 1) m.tos = b[p];
      break;
    case INET_DIAG_TCLASS:
      if (n >= 1) m.tclass = b[p];
      break;
    case INET_DIAG_SHUTDOWN:
      if (n >= 1) m.shutdown = b[p];
      break;
    case INET_DIAG_SKV6ONLY:
      if (n >= 1) m.v6only = b[p];
      break;
    case INET_DIAG_MARK:
      if (n >= 4) m.mark = u32(b, p);
      break;
    case INET_DIAG_PROTOCOL:
      if (n >= 1) m.protocol = b[p];
      break;
    case INET_DIAG_CGROUP_ID:
      if (n >= 8) m.cgroupId = u32(b, p) + u32(b, p + 4) * 2 ** 32;
      break;
    default:
      break; // attributes this decoder does not know are skipped
  }
}

/** struct unix_diag_msg and its attributes */
export interface UnixDiagMsg {
  type: number; // udiag_type: SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
  state: number; // udiag_state (TCP_ESTABLISHED, TCP_LISTEN, TCP_CLOSE ...)
  inode: number;
  cookie: string;
  /** UNIX_DIAG_NAME: a path, or an abstract name with its NULs as '@' (ss's form); absent when unnamed */
  name?: string;
  vfs?: { ino: number; dev: number };
  peer?: number;
  icons?: number[];
  rqueue?: number;
  wqueue?: number;
  skmeminfo?: SkMeminfo;
  shutdown?: number;
}

export const unixDiagMsg = {
  size: 16,
  decode(b: Uint8Array, offset = 0, end = b.length): DecodeResult<UnixDiagMsg> {
    if (end - offset < 16) return truncated('unix_diag_msg', 16, end - offset, offset);
    if (b[offset] !== 1) return fail('unix_diag_msg', `udiag_family ${b[offset]} is not AF_UNIX`, offset);
    const m: UnixDiagMsg = { type: b[offset + 1], state: b[offset + 2], inode: u32(b, offset + 4), cookie: cookieHex(b, offset + 8) };
    const bad = walkAttrs(b, offset + 16, end, (t, p, n) => unixAttr(m, b, t, p, n));
    if (bad) return fail('unix_diag_msg', bad, offset);
    return ok(m, end - offset);
  },
};

function unixAttr(m: UnixDiagMsg, b: Uint8Array, type: number, p: number, n: number): void {
  switch (type) {
    case UNIX_DIAG_NAME: {
      if (n === 0) break;
      const raw = Buffer.from(b.buffer, b.byteOffset + p, n);
      // an abstract name starts with NUL; ss shows every NUL in it as '@'
      m.name = raw[0] === 0 ? raw.toString('latin1').replace(/\0/g, '@') : raw.toString('utf8').replace(/\0.*$/s, '');
      break;
    }
    case UNIX_DIAG_VFS:
      if (n >= 8) m.vfs = { ino: u32(b, p), dev: u32(b, p + 4) };
      break;
    case UNIX_DIAG_PEER:
      if (n >= 4) m.peer = u32(b, p);
      break;
    case UNIX_DIAG_ICONS: {
      const icons: number[] = [];
      for (let i = 0; i + 4 <= n; i += 4) icons.push(u32(b, p + i));
      m.icons = icons;
      break;
    }
    case UNIX_DIAG_RQLEN:
      if (n >= 8) {
        m.rqueue = u32(b, p);
        m.wqueue = u32(b, p + 4);
      }
      break;
    case UNIX_DIAG_MEMINFO:
      m.skmeminfo = u32s(b, p, n);
      break;
    case UNIX_DIAG_SHUTDOWN:
      if (n >= 1) m.shutdown = b[p];
      break;
    default:
      break;
  }
}
