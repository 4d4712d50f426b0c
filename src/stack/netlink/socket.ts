// A netlink socket (netlink(7)) over the native layer: one request at a
// time, each with its own sequence number, its multipart reply read in large
// batches (one recvmsg per kernel skb, up to 32 KiB each: netlink_recvmsg's
// max_recvmsg_len) until NLMSG_DONE. NLMSG_ERROR becomes the system-error
// type; a truncated or malformed reply is a typed failure, never thrown.
import * as C from '../constants.js';
import { isSystemError, systemError, type SystemError } from '../errors.js';
import { native, type Poller } from '../native/index.js';
import type { DecodeFailure } from '../packet/result.js';
import { fail } from '../packet/result.js';
import {
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  nlmsgerr,
  nlmsghdr,
  NLMSG_HDRLEN,
  type Nlmsghdr,
} from '../abi/netlink.js';

const MSG_TRUNC = 0x20;

/** a host-order (little-endian) u32 of a reply: Buffer.readUInt32LE's checks cost a run of thousands of messages */
const u32 = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const UV_READABLE = 1;
/** the receive buffer: a dump skb is at most 32 KiB; 64 KiB leaves room for a larger one */
export const RECV_BUFFER = 64 * 1024;

/** One reply message: its header and its payload at b[offset, end). */
export type MessageHandler = (b: Buffer, offset: number, end: number, h: Nlmsghdr) => void;

/** The reply messages of one datagram: message k's payload is b[at[2k], at[2k + 1]), k < count. */
export type BatchHandler = (b: Buffer, at: Int32Array, count: number) => void;

export type DumpOutcome =
  | { ok: true; messages: number }
  | { ok: false; kind: 'error'; error: SystemError }
  | { ok: false; kind: 'malformed'; failure: DecodeFailure };

export class NetlinkSocket {
  private seq: number;
  private readonly buf = Buffer.allocUnsafe(RECV_BUFFER);
  private poller: Poller | null = null;
  private closed = false;

  private constructor(
    readonly fd: number,
    readonly protocol: number,
  ) {
    this.seq = (Date.now() / 1000) >>> 0; // iproute2's rtnl_open starts at time(NULL)
  }

  /** socket(AF_NETLINK, SOCK_RAW, protocol); the kernel picks the port id at the first send. */
  static open(protocol: number): NetlinkSocket {
    return new NetlinkSocket(native.socket(C.AF_NETLINK, C.SOCK_RAW, protocol), protocol);
  }

  /** Adopt a descriptor (a test's socketpair end standing in for the kernel). */
  static adopt(fd: number, protocol = 0): NetlinkSocket {
    return new NetlinkSocket(fd, protocol);
  }

  /** Send a dump request (NLM_F_REQUEST|NLM_F_DUMP) and hand each reply message to fn. */
  dump(type: number, payload: Uint8Array, fn: MessageHandler): Promise<DumpOutcome> {
    return this.dumpBatches(type, payload, (b, at, count) => {
      for (let k = 0; k < 2 * count; k += 2) {
        const h = nlmsghdr.decode(b, at[k]! - NLMSG_HDRLEN, at[k + 1]!);
        if (h.ok) fn(b, at[k]!, at[k + 1]!, h.value); // checked by walk(): always
      }
    });
  }

  /**
   * dump() with the reply messages of each datagram handed over together
   * (a listing's one loop per recvmsg, not one call per socket): message k's
   * payload is b[at[2k], at[2k + 1]), valid until fn returns.
   */
  async dumpBatches(type: number, payload: Uint8Array, fn: BatchHandler): Promise<DumpOutcome> {
    let messages = 0;
    return this.datagrams(type, payload, this.buf, (n, seq) => {
      const r = this.walk(this.buf, 0, n, seq);
      // the messages before an end (NLMSG_DONE, an error, a malformed header) are the dump's too
      if (this.count) fn(this.buf, this.at, this.count);
      messages += this.count;
      if (r !== 'more' && r.ok) r.messages = messages;
      return r;
    });
  }

  /**
   * A dump whose datagrams a reader of its own walks (the ss listing's lines
   * in WebAssembly, commands/ss/lines.ts): each is read into rx() (asked
   * again for each: a WebAssembly memory that grew has a new buffer), and
   * walk(n, seq) takes its messages and gives -1 while the dump goes on,
   * else the offset of the message that ends it (NLMSG_DONE, an error, a
   * malformed header), whose outcome is read here as walk() reads it (its
   * `messages` are the reader's to count: 0 here).
   */
  dumpDatagrams(type: number, payload: Uint8Array, rx: () => Buffer, walk: (n: number, seq: number) => number): Promise<DumpOutcome> {
    return this.datagrams(type, payload, rx, (n, seq) => {
      const end = walk(n, seq);
      return end < 0 ? 'more' : this.walk(rx(), end, n, seq);
    });
  }

  /** Send a dump request and hand each datagram of the reply to `take` until it gives the outcome. */
  private async datagrams(
    type: number,
    payload: Uint8Array,
    rx: Buffer | (() => Buffer),
    take: (n: number, seq: number) => 'more' | DumpOutcome,
  ): Promise<DumpOutcome> {
    const seq = ++this.seq >>> 0;
    const req = nlmsghdr.encode({ type, flags: NLM_F_REQUEST | NLM_F_DUMP, seq, pid: 0 }, payload);
    try {
      native.sendto(this.fd, req, 0, null);
    } catch (e) {
      if (isSystemError(e)) return { ok: false, kind: 'error', error: e };
      throw e;
    }
    for (;;) {
      const n = native.recvmsgFast(this.fd, typeof rx === 'function' ? rx() : rx, 0);
      if (n < 0) {
        await this.readable();
        continue;
      }
      if (native.last.flags() & MSG_TRUNC) {
        return { ok: false, kind: 'malformed', failure: fail('netlink', `a reply of ${n} bytes did not fit the ${RECV_BUFFER}-byte buffer (MSG_TRUNC)`, 0) };
      }
      if (n === 0) return { ok: false, kind: 'malformed', failure: fail('netlink', 'the peer closed before NLMSG_DONE', 0) };
      const r = take(n, seq);
      if (r !== 'more') return r;
    }
  }

  /**
   * Send one request with NLM_F_ACK and wait for its NLMSG_ERROR: ok, the
   * kernel's errno as a system error, or a malformed reply. A reply message
   * before the acknowledgement (RTM_GETROUTE's RTM_NEWROUTE) goes to `fn`.
   */
  async request(type: number, payload: Uint8Array, fn?: MessageHandler): Promise<DumpOutcome> {
    const seq = ++this.seq >>> 0;
    try {
      native.sendto(this.fd, nlmsghdr.encode({ type, flags: NLM_F_REQUEST | NLM_F_ACK, seq, pid: 0 }, payload), 0, null);
    } catch (e) {
      if (isSystemError(e)) return { ok: false, kind: 'error', error: e };
      throw e;
    }
    for (;;) {
      const n = native.recvmsgFast(this.fd, this.buf, 0);
      if (n < 0) {
        await this.readable();
        continue;
      }
      let o = 0;
      while (o < n) {
        const d = nlmsghdr.decode(this.buf, o, n);
        if (!d.ok) return { ok: false, kind: 'malformed', failure: d };
        const start = o + NLMSG_HDRLEN,
          end = o + d.value.len;
        o += d.length;
        if (d.value.seq !== seq) continue;
        if (d.value.type !== NLMSG_ERROR) {
          fn?.(this.buf, start, end, d.value);
          continue;
        }
        const e = nlmsgerr.decode(this.buf, start, end);
        if (!e.ok) return { ok: false, kind: 'malformed', failure: e };
        return e.value.error === 0 ? { ok: true, messages: 0 } : { ok: false, kind: 'error', error: systemError('netlink', e.value.error) };
      }
    }
  }

  // the payload bounds of one datagram's reply messages (walk() fills them)
  private at = new Int32Array(1024);
  private count = 0;

  /**
   * Walk one datagram of messages, b[from, n), into `at`; 'more' until NLMSG_DONE or an
   * error ends the dump. Headers are read in place (nlmsghdr.decode's checks,
   * its failure when one fails): a dump of thousands of sockets makes no
   * object per message.
   */
  private walk(b: Buffer, from: number, n: number, seq: number): 'more' | DumpOutcome {
    this.count = 0;
    let o = from;
    while (o < n) {
      const len = n - o >= NLMSG_HDRLEN ? u32(b, o) : 0;
      if (len < NLMSG_HDRLEN || len > n - o) {
        const d = nlmsghdr.decode(b, o, n);
        return { ok: false, kind: 'malformed', failure: d.ok ? fail('nlmsghdr', 'unreadable', o) : d };
      }
      const type = b[o + 4]! | (b[o + 5]! << 8);
      const start = o + NLMSG_HDRLEN,
        end = o + len;
      const mseq = u32(b, o + 8);
      o += Math.min((len + 3) & ~3, n - o);
      if (mseq !== seq) continue; // a late reply to an earlier request
      if (type === NLMSG_DONE) {
        // a dump that failed says so in NLMSG_DONE's int (netlink_dump_done): ENOENT when raw_diag is not loaded
        const err = end - start >= 4 ? b.readInt32LE(start) : 0;
        return err < 0 ? { ok: false, kind: 'error', error: systemError('netlink', err) } : { ok: true, messages: 0 };
      }
      if (type === NLMSG_NOOP) continue;
      if (type === NLMSG_OVERRUN) return { ok: false, kind: 'error', error: systemError('recvmsg', 105, 'ENOBUFS') };
      if (type === NLMSG_ERROR) {
        const e = nlmsgerr.decode(b, start, end);
        if (!e.ok) return { ok: false, kind: 'malformed', failure: e };
        if (e.value.error === 0) continue; // an ACK
        return { ok: false, kind: 'error', error: systemError('netlink', e.value.error) };
      }
      if (2 * this.count + 2 > this.at.length) {
        const more = new Int32Array(this.at.length * 2);
        more.set(this.at);
        this.at = more;
      }
      this.at[2 * this.count] = start;
      this.at[2 * this.count + 1] = end;
      this.count++;
    }
    return 'more';
  }

  private readable(): Promise<void> {
    return new Promise((resolve) => {
      const p = (this.poller ??= new native.Poller(this.fd, () => {
        p.stop();
        const r = this.waiting;
        this.waiting = null;
        r?.();
      }));
      this.waiting = resolve;
      p.start(UV_READABLE);
    });
  }

  private waiting: (() => void) | null = null;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller?.close();
    native.close(this.fd);
  }
}
