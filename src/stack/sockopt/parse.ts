// What users type after NAME= (sockit sockopt set, sock's options), parsed
// into an option's typed value; a bad value is an OptionValueError.
import * as C from '../constants.js';
import { native } from '../native/index.js';
import { parseIPv4, parseIPv6 } from '../packet/addr.js';
import type * as structs from '../structs.js';
import { type IcmpTypeFilter, type OptionValue, OptionValueError, type SockOpt, readOnly, usable } from '../sockopt.js';

const FLAG_WORDS: Record<string, boolean> = { on: true, off: false, yes: true, no: false, true: true, false: false };

function bad(o: SockOpt, text: string, expected: string): never {
  throw new OptionValueError(`invalid value for ${o.name}: '${text}' (expected ${expected})`);
}

function parseInt32(o: SockOpt, text: string): number {
  const t = text.trim();
  const named = o.names?.[t.toLowerCase()];
  if (named !== undefined) return named;
  const m = /^([-+]?)(0x[0-9a-f]+|\d+)([km]?)$/i.exec(t);
  const names = o.names ? `, or ${Object.keys(o.names).join('|')}` : '';
  if (!m) bad(o, text, `an integer such as 65536 or 64k${names}`);
  const mult = { '': 1, k: 1024, m: 1024 * 1024 }[m[3].toLowerCase() as '' | 'k' | 'm'];
  const n = (m[1] === '-' ? -1 : 1) * Number(m[2]) * mult;
  if (!Number.isSafeInteger(n) || n < -0x80000000 || n > 0x7fffffff) bad(o, text, 'a 32-bit integer');
  return n;
}

function parseFlag(o: SockOpt, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t in FLAG_WORDS) return FLAG_WORDS[t];
  if (/^[-+]?\d+$/.test(t)) return Number(t) !== 0;
  return bad(o, text, 'on or off');
}

/** seconds: 1.5, 1.5s, 250ms, 100us */
function parseSeconds(o: SockOpt, text: string): structs.Timeval {
  const m = /^(\d+(?:\.\d*)?|\.\d+)\s*(s|ms|us)?$/i.exec(text.trim());
  if (!m) bad(o, text, 'seconds such as 1.5, 250ms or 0');
  const unit = (m[2] ?? 's').toLowerCase();
  const usec = Math.round(Number(m[1]) * (unit === 's' ? 1e6 : unit === 'ms' ? 1e3 : 1));
  if (!Number.isSafeInteger(usec)) bad(o, text, 'a smaller number of seconds');
  return { sec: Math.floor(usec / 1e6), usec: usec % 1e6 };
}

function parseLinger(o: SockOpt, text: string): structs.Linger {
  const t = text.trim().toLowerCase();
  if (t === 'off') return { onoff: 0, linger: 0 };
  const m = /^(on|off|\d+)\s*[,:/]\s*(\d+)$/.exec(t);
  if (!m) bad(o, text, 'l_onoff,l_linger such as 1,5, or off');
  const onoff = m[1] === 'on' ? 1 : m[1] === 'off' ? 0 : Number(m[1]);
  const linger = Number(m[2]);
  if (onoff > 0x7fffffff || linger > 0x7fffffff) bad(o, text, 'l_onoff,l_linger within 32 bits');
  return { onoff, linger };
}

function ipv4(o: SockOpt, text: string, what: string): string {
  if (!parseIPv4(text.trim())) bad(o, text, `${what}: an IPv4 address`);
  return text.trim();
}

function ipAny(o: SockOpt, text: string, what: string): string {
  const t = text.trim();
  if (!parseIPv4(t) && !parseIPv6(t)) bad(o, text, `${what}: an IP address`);
  return t;
}

/** An interface by index or name (0 or empty: any). */
function ifindex(o: SockOpt, text: string | undefined): number {
  const t = (text ?? '').trim();
  if (t === '' || t === '0' || t === 'any') return 0;
  if (/^\d+$/.test(t)) return Number(t);
  try {
    return native.if_nametoindex(t);
  } catch {
    return bad(o, text ?? '', `an interface name or index; there is no interface '${t}'`);
  }
}

function parts(text: string): string[] {
  return text.split(',').map((s) => s.trim());
}

/** "128-129,133" -> [128, 129, 133] */
function parseTypeList(o: SockOpt, text: string, max: number): number[] {
  const out = new Set<number>();
  for (const p of text.split(/[,\s]+/).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(p);
    if (!m) bad(o, text, `ICMP types such as 1-4,133`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo > hi || hi > max) bad(o, text, `ICMP types 0-${max}`);
    for (let t = lo; t <= hi; t++) out.add(t);
  }
  return [...out].sort((a, b) => a - b);
}

/** "pass all", "block all", "pass 128,129" (block the rest), "block 1-4" (pass the rest) */
function parseFilter(o: SockOpt, text: string, max: number): IcmpTypeFilter {
  const m = /^\s*(pass|block)(?:\s*[: ]\s*(.*))?$/i.exec(text);
  if (!m) bad(o, text, 'pass all, block all, pass TYPES or block TYPES (TYPES like 128-129,133)');
  const verb = m[1].toLowerCase();
  const rest = (m[2] ?? 'all').trim();
  const all = Array.from({ length: max + 1 }, (_, i) => i);
  const listed = rest.toLowerCase() === 'all' ? all : parseTypeList(o, rest, max);
  if (verb === 'block') return { blocked: listed };
  const pass = new Set(listed);
  return { blocked: all.filter((t) => !pass.has(t)) };
}

/** Parse what a user typed after NAME= into the option's typed value. */
export function parseValue(o: SockOpt, text: string): OptionValue {
  usable(o);
  if (o.access === 'get') readOnly(o.name);
  switch (o.type) {
    case 'flag':
      return parseFlag(o, text);
    case 'int':
      return parseInt32(o, text);
    case 'linger':
      return parseLinger(o, text);
    case 'timeval':
      return parseSeconds(o, text);
    case 'in_addr':
      return ipv4(o, text, 'the interface');
    case 'ip_mreqn': {
      // group[,interface]: the interface by address, name or index
      const [group, iface] = parts(text);
      if (iface && parseIPv4(iface)) return { multiaddr: ipv4(o, group, 'group'), address: iface, ifindex: 0 };
      return { multiaddr: ipv4(o, group, 'group'), address: '0.0.0.0', ifindex: ifindex(o, iface) };
    }
    case 'ip_mreq_source': {
      const [group, source, iface] = parts(text);
      if (source === undefined) bad(o, text, 'group,source[,interface-address]');
      return { multiaddr: ipv4(o, group, 'group'), sourceaddr: ipv4(o, source, 'source'), address: iface ? ipv4(o, iface, 'interface') : '0.0.0.0' };
    }
    case 'ipv6_mreq': {
      const [group, iface] = parts(text);
      if (!parseIPv6(group)) bad(o, text, 'group[,interface]: an IPv6 group address');
      return { multiaddr: group, ifindex: ifindex(o, iface) };
    }
    case 'group_req': {
      const [group, iface] = parts(text);
      return { group: ipAny(o, group, 'group[,interface]'), ifindex: ifindex(o, iface) };
    }
    case 'group_source_req': {
      const [group, source, iface] = parts(text);
      if (source === undefined) bad(o, text, 'group,source[,interface]');
      return { group: ipAny(o, group, 'group'), source: ipAny(o, source, 'source'), ifindex: ifindex(o, iface) };
    }
    case 'sockaddr_in6':
      if (!parseIPv6(text.trim())) bad(o, text, 'an IPv6 address');
      return text.trim();
    case 'icmp6_filter':
      return parseFilter(o, text, 255);
    case 'icmp_filter':
      return parseFilter(o, text, 31);
    case 'string': {
      const t = text.trim();
      if (o.optname === C.TCP_CONGESTION && !/^[A-Za-z0-9_]{1,15}$/.test(t)) bad(o, text, 'an algorithm name such as cubic or reno');
      if (Buffer.byteLength(t, 'latin1') > 15) bad(o, text, 'at most 15 characters');
      return t;
    }
    case 'bytes': {
      const t = text.trim().replace(/^0x/i, '');
      if (!/^([0-9a-f]{2})*$/i.test(t) || t.length > 80) bad(o, text, 'up to 40 bytes in hex, or empty to clear');
      return Buffer.from(t, 'hex');
    }
    case 'ucred':
    case 'ip6_mtuinfo':
    case 'tcp_info':
      return readOnly(o.name);
  }
}
