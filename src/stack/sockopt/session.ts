// Options on sockets sockit opens itself (UNP 7.3's checkopts, and
// `sockopt get/set`): one socket per kind, kept open for the run, and
// requests applied in order, each read back before the next is set.
import { isSystemError, type SystemError } from '../errors.js';
import type { Socket } from '../socket.js';
import { type OptionValue, type Reading, type SockKind, type SockOpt, openKind, readOption, setOption } from '../sockopt.js';
import { explainAdjustment, explainRejection } from './kernel.js';

/** One socket per kind, opened on first use; a failure to open is kept and reported per option. */
export class SocketsByKind {
  private readonly open = new Map<SockKind, Socket | SystemError>();

  get(kind: SockKind): Socket | SystemError {
    let s = this.open.get(kind);
    if (!s) {
      try {
        s = openKind(kind);
      } catch (e) {
        if (!isSystemError(e)) throw e;
        s = e;
      }
      this.open.set(kind, s);
    }
    return s;
  }

  closeAll(): void {
    for (const s of this.open.values()) if (!isSystemError(s)) s.close();
    this.open.clear();
  }
}

/** Why a socket of a kind could not be opened, when we know: '' or 'raw sockets need ...'. */
export function openHint(kind: SockKind, e: SystemError): string {
  return kind.startsWith('raw') && (e.code === 'EPERM' || e.code === 'EACCES') ? 'raw sockets need CAP_NET_RAW: run as root' : '';
}

/** An option to read (no value) or to set and read back. */
export interface OptionRequest {
  opt: SockOpt;
  value?: OptionValue;
}

/** What became of a request. */
export type OptionOutcome =
  /** setsockopt(2) refused it; `reason` says why in a few words */
  | { request: OptionRequest; rejected: SystemError; reason: string }
  /** set, and it cannot be read back (IP_ADD_MEMBERSHIP ...) */
  | { request: OptionRequest; setOnly: true }
  /** read (after the set, if any); `adjusted` says why the kernel's value differs from the one set */
  | { request: OptionRequest; reading: Reading; adjusted?: string };

/**
 * Each request in the order given: set it (when it has a value), then read
 * it back at once, so each outcome is its own request's even when a later
 * one sets the same option again.
 */
export function applyInOrder(sock: Socket, kind: SockKind, requests: readonly OptionRequest[]): OptionOutcome[] {
  return requests.map((request) => {
    const { opt, value } = request;
    if (value !== undefined) {
      try {
        setOption(sock, opt, value);
      } catch (e) {
        if (!isSystemError(e)) throw e;
        return { request, rejected: e, reason: explainRejection(opt, e, kind, value) };
      }
      if (opt.access === 'set') return { request, setOnly: true as const };
    }
    const reading = readOption(sock, opt);
    const adjusted = value !== undefined && reading.value !== undefined ? explainAdjustment(opt, value, reading.value) : undefined;
    return { request, reading, ...(adjusted ? { adjusted } : {}) };
  });
}
