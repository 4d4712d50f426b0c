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
  if (o.name === 'SO_RCVBUF' || o.name === 'SO_SNDBUF') {
    const key = o.name === 'SO_RCVBUF' ? 'net.core.rmem_max' : 'net.core.wmem_max';
    const max = sysctlNumber(key);
    if (got === 2 * req) return 'doubled by the kernel for bookkeeping overhead, socket(7)';
    if (max !== undefined && req > max && got === 2 * max) return `clamped to ${key} = ${max}, then doubled, socket(7)`;
    if (got > 2 * req) return `raised to the kernel minimum, socket(7)`;
    return 'adjusted by the kernel';
  }
  if (o.type === 'timeval') return 'rounded up by the kernel to whole clock ticks';
  if (o.name === 'IP_TOS' && (req & ~3) === (got & ~3)) return 'the ECN bits of a TCP socket are the kernel\'s, ip(7)';
  if (o.name === 'TCP_MAXSEG' && got < req) return 'the MSS in use, less the TCP options every segment carries, tcp(7)';
  if (o.type === 'int' && req === -1) return '-1 selects the system default';
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
      why = o.privilege ? `needs ${o.privilege}` : o.name === 'TCP_CONGESTION'
        ? `not in net.ipv4.tcp_allowed_congestion_control for unprivileged users` : 'not permitted';
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
