// What the kernel made of a value: why the value read back differs from
// the one set (socket(7), tcp(7), net/core/sock.c), and why a setsockopt(2)
// was refused.
import { strerror, type SystemError } from '../errors.js';
import { sysctl, sysctlNumber } from '../sysctl.js';
import type { OptionValue, SockKind, SockOpt } from '../sockopt.js';
import { formatValue } from './format.js';

/**
 * Why the value read back differs from the one set (socket(7), tcp(7)), or
 * undefined when they agree.
 */
export function explainAdjustment(o: SockOpt, requested: OptionValue, actual: OptionValue): string | undefined {
  if (formatValue(o, requested) === formatValue(o, actual)) return undefined;
  if (o.access === 'set') return undefined; // nothing to read back
  const req = requested as number;
  const got = actual as number;
  if (o.name === 'SO_RCVBUF' || o.name === 'SO_SNDBUF') return explainBuffer(o.name, req, got);
  if (o.type === 'timeval') return 'rounded up by the kernel to whole clock ticks';
  if (o.name === 'IP_TOS' && (req & ~3) === (got & ~3)) return "the ECN bits of a TCP socket are the kernel's, ip(7)";
  if (o.name === 'TCP_MAXSEG' && got < req) return 'the MSS in use, less the TCP options every segment carries, tcp(7)';
  if (o.type === 'int' && req === -1) return '-1 selects the system default';
  return 'adjusted by the kernel';
}

const INT_MAX = 0x7fffffff;

/**
 * SO_RCVBUF / SO_SNDBUF as net/core/sock.c sets them: the request is first
 * clamped as an unsigned int, val = min_t(u32, val, net.core.[rw]mem_max)
 * (so -1 is 4294967295), then doubled for the kernel's bookkeeping and
 * raised to a floor: max(val * 2, SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF), with
 * SO_RCVBUF's val capped at INT_MAX / 2 so the double fits (__sock_set_rcvbuf).
 */
export function explainBuffer(name: 'SO_RCVBUF' | 'SO_SNDBUF', requested: number, actual: number): string {
  const key = name === 'SO_RCVBUF' ? 'net.core.rmem_max' : 'net.core.wmem_max';
  const floor = name === 'SO_RCVBUF' ? 'SOCK_MIN_RCVBUF' : 'SOCK_MIN_SNDBUF';
  const max = sysctlNumber(key);
  const u32 = requested >>> 0;
  const asU32 = requested < 0 ? `${requested} is ${u32} as an unsigned int: ` : '';
  if (max === undefined) return actual === 2 * requested ? 'doubled by the kernel for bookkeeping overhead, socket(7)' : 'adjusted by the kernel';
  const clamped = u32 > max;
  const val = name === 'SO_RCVBUF' ? Math.min(u32, max, INT_MAX >> 1) : Math.min(u32, max);
  const clamp = clamped ? `clamped to ${key} = ${max}, then ` : '';
  if (actual === val * 2) return clamped ? `${asU32}${clamp}doubled, socket(7)` : 'doubled by the kernel for bookkeeping overhead, socket(7)';
  if (actual > val * 2) return `${asU32}${clamp}doubled (${val * 2}) is below the kernel's floor: raised to ${floor} = ${actual}, socket(7)`;
  return 'adjusted by the kernel';
}

function congestionControls(): string {
  return sysctl('net.ipv4.tcp_available_congestion_control') ?? '?';
}

/** A short reason for a setsockopt(2) the kernel refused, naming the errno. */
export function explainRejection(o: SockOpt, err: SystemError, kind: SockKind | undefined, value?: OptionValue): string {
  const head = `${err.code} (${strerror(err.errno)})`;
  let why: string | undefined;
  const elsewhere = kind !== undefined && !o.appliesTo.includes(kind);
  switch (err.code) {
    case 'ENOPROTOOPT':
    case 'EOPNOTSUPP':
      why = elsewhere ? `${o.name} does not apply to ${kind} sockets` : `this kernel has no ${o.name} here`;
      break;
    case 'EPERM':
    case 'EACCES':
      why = o.privilege
        ? `needs ${o.privilege}`
        : o.name === 'TCP_CONGESTION'
          ? `not in net.ipv4.tcp_allowed_congestion_control for unprivileged users`
          : 'not permitted';
      break;
    case 'ENOENT':
      if (o.name === 'TCP_CONGESTION') why = `no congestion control '${String(value)}' (available: ${congestionControls()})`;
      break;
    case 'ENODEV':
      why = `no interface '${String(value)}'`;
      break;
    case 'EINVAL':
      why = elsewhere ? `${o.name} does not apply to ${kind} sockets` : `the kernel refused the value for ${o.name}`;
      break;
    case 'EPROTO':
      why = `${o.name} needs a datagram socket`;
      break;
  }
  return why ? `${head}: ${why}` : head;
}
