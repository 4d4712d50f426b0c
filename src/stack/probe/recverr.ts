// The error queue of a probe socket, read once for every method that uses
// it (UDP, TCP): with IP_RECVERR / IPV6_RECVERR the kernel queues a
// sock_extended_err for each ICMP error about what the socket sent (origin
// ICMP/ICMP6, the router in SO_EE_OFFENDER) and for local refusals (origin
// LOCAL: EMSGSIZE with the path MTU in ee_info). ip(7) IP_RECVERR;
// traceroute 2.x's recv_reply(..., MSG_ERRQUEUE).
import * as C from '../constants.js';
import { type RecvResult, native } from '../native/index.js';
import type { Socket } from '../socket.js';
import { type Family, type ProbeEvent, relTime } from './index.js';
import { isNotice } from './tune.js';

/**
 * The probe event for one error-queue message about probe `seq` (undefined
 * when the method could not tell which probe it was about: then ICMP errors
 * are dropped and local errors go to the caller as they are); null for
 * anything else. `reached` says whether an ICMP error means the destination
 * got the probe (UDP: port unreachable).
 */
export function errorQueueEvent(
  family: Family,
  seq: number | undefined,
  r: RecvResult,
  reached: (type: number, code: number) => boolean = () => false,
): ProbeEvent | null {
  const ee = r.control.error;
  if (!ee) return null;
  if (ee.origin === C.SO_EE_ORIGIN_ICMP || ee.origin === C.SO_EE_ORIGIN_ICMP6) {
    if (seq === undefined) return null;
    const from = ee.offender?.address ?? '';
    if (isNotice(family, ee.type)) return { type: 'icmp-notice', seq, from, icmpType: ee.type, icmpCode: ee.code };
    const ttl = family === 4 ? r.control.ttl : r.control.hopLimit;
    return {
      type: 'icmp-error',
      seq,
      from,
      icmpType: ee.type,
      icmpCode: ee.code,
      mtu: ee.info,
      ttl,
      rxRelNs: relTime(r.control.timestampNs),
      reached: reached(ee.type, ee.code),
    };
  }
  if (ee.origin === C.SO_EE_ORIGIN_LOCAL) {
    return { type: 'local-error', seq, errno: ee.errno, code: native.errname(ee.errno) ?? `E${ee.errno}`, info: ee.info };
  }
  return null;
}

/** Read up to `max` messages off the socket's error queue (recvmsg MSG_ERRQUEUE) into buf, one call each. */
export function drainErrorQueue(s: Socket, buf: Buffer, max: number, each: (r: RecvResult) => void): void {
  for (let i = 0; i < max && !s.isClosed; i++) {
    const r = s.recvError(buf);
    if (!r) break;
    each(r);
  }
}
