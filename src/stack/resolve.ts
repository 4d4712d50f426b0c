// Name resolution through libc, as the classic tools do it: getaddrinfo(3)
// with AI_CANONNAME (the header's host name) and getnameinfo(3), whose
// numeric fallback for an address without a name is part of what ping
// prints ("93.184.216.34 (93.184.216.34)").
import * as C from './constants.js';
import { ResolveError } from './errors.js';
import { binding } from './native/index.js';
import { addressFamily } from './packet/addr.js';
import * as sockaddr from './sockaddr.js';

// <netdb.h> (glibc): the hints' ai_flags and getnameinfo's flags
export const AI_PASSIVE = 0x0001;
export const AI_CANONNAME = 0x0002;
export const AI_NUMERICHOST = 0x0004;
export const AI_V4MAPPED = 0x0008;
export const AI_ALL = 0x0010;
export const AI_ADDRCONFIG = 0x0020;
export const AI_NUMERICSERV = 0x0400;
export const NI_NUMERICHOST = 0x0001;
export const NI_NUMERICSERV = 0x0002;
export const NI_NOFQDN = 0x0004;
export const NI_NAMEREQD = 0x0008;
export const NI_DGRAM = 0x0010;

export interface ResolvedAddress {
  family: 4 | 6;
  address: string;
  scopeid?: number;
}

export interface Resolved {
  /** the canonical name (AI_CANONNAME); the input for a literal address */
  canonname: string;
  /** in getaddrinfo's order, duplicates removed */
  addresses: ResolvedAddress[];
}

export { ResolveError } from './errors.js';

/** Four decimal bytes without leading zeros (inet_aton reads "010" as octal: those go to getaddrinfo). */
const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** getaddrinfo(3): family 0 for either. Rejects with a ResolveError. */
export async function resolveHost(host: string, family: 0 | 4 | 6 = 0): Promise<Resolved> {
  // a dotted quad in its plain form is its own answer (getaddrinfo's too):
  // no trip through libuv's thread pool, whose four threads a short run
  // (ping -c 1 127.0.0.1) would otherwise start for nothing
  if (family !== 6 && DOTTED_QUAD.test(host)) return { canonname: host, addresses: [{ family: 4, address: host }] };
  const af = family === 4 ? C.AF_INET : family === 6 ? C.AF_INET6 : C.AF_UNSPEC;
  const r = await binding.getaddrinfo(host, af, C.SOCK_DGRAM, AI_CANONNAME).catch(asResolveError);
  const seen = new Set<string>();
  const addresses: ResolvedAddress[] = [];
  for (const b of r.addresses) {
    const sa = sockaddr.decode(b);
    if (!sa || (sa.family !== C.AF_INET && sa.family !== C.AF_INET6)) continue;
    const key = `${sa.address}%${sa.family === C.AF_INET6 ? (sa.scopeid ?? 0) : 0}`;
    if (seen.has(key)) continue;
    seen.add(key);
    addresses.push(sa.family === C.AF_INET ? { family: 4, address: sa.address } : { family: 6, address: sa.address, scopeid: sa.scopeid });
  }
  return { canonname: r.canonname ?? host, addresses };
}

/**
 * getnameinfo(3) of an address. With flags 0 (the default) a name that
 * cannot be found comes back as the numeric address, as in libc; a failed
 * lookup (no resolver reachable) rejects.
 */
export async function nameOf(address: string, flags = 0): Promise<string> {
  const fam = addressFamily(address);
  if (!fam) throw new TypeError(`not an IP address: ${address}`);
  const sa = sockaddr.encode(fam === 4 ? { family: C.AF_INET, address, port: 0 } : { family: C.AF_INET6, address, port: 0 });
  return (await binding.getnameinfo(sa, flags).catch(asResolveError)).host;
}

/** getaddrinfo(3)'s hints: ai_family as 0/4/6, ai_socktype, ai_protocol, ai_flags (AI_*). */
export interface AddrInfoHints {
  family?: 0 | 4 | 6;
  socktype?: number;
  protocol?: number;
  flags?: number;
}

/** One struct addrinfo (UNP 11.6), the sockaddr decoded. */
export interface AddrInfo {
  family: 4 | 6;
  socktype: number;
  protocol: number;
  address: string;
  port: number;
  scopeid?: number;
  /** ai_canonname: set on the first entry only, with AI_CANONNAME */
  canonname?: string;
}

/**
 * getaddrinfo(3) itself, every entry in libc's order (one per socket type
 * and protocol, nothing merged): host or service may be null, as in C.
 * Rejects with a ResolveError.
 */
export async function getaddrinfo(host: string | null, service: string | null, hints: AddrInfoHints = {}): Promise<AddrInfo[]> {
  const af = hints.family === 4 ? C.AF_INET : hints.family === 6 ? C.AF_INET6 : C.AF_UNSPEC;
  const r = await binding.getaddrinfo(host, af, hints.socktype ?? 0, hints.flags ?? 0, service, hints.protocol ?? 0).catch(asResolveError);
  const out: AddrInfo[] = [];
  for (const e of r.entries) {
    const sa = sockaddr.decode(e.address);
    if (!sa || (sa.family !== C.AF_INET && sa.family !== C.AF_INET6)) continue;
    const ai: AddrInfo = { family: sa.family === C.AF_INET ? 4 : 6, socktype: e.socktype, protocol: e.protocol, address: sa.address, port: sa.port };
    if (sa.family === C.AF_INET6) ai.scopeid = sa.scopeid ?? 0;
    if (out.length === 0 && r.canonname !== null) ai.canonname = r.canonname;
    out.push(ai);
  }
  return out;
}

/** getnameinfo(3) of address (a literal, `%zone` allowed) and port with NI_* flags: host and service. Rejects with a ResolveError. */
export async function getnameinfo(address: string, port: number, flags = 0): Promise<{ host: string; service: string }> {
  const pct = address.indexOf('%');
  const bare = pct >= 0 ? address.slice(0, pct) : address;
  const fam = addressFamily(bare);
  if (!fam) throw new TypeError(`not an IP address: ${address}`);
  let scopeid = 0;
  if (pct >= 0) {
    const zone = address.slice(pct + 1);
    scopeid = /^\d+$/.test(zone) ? Number(zone) : binding.if_nametoindex(zone);
  }
  const sa = sockaddr.encode(fam === 4 ? { family: C.AF_INET, address: bare, port } : { family: C.AF_INET6, address: bare, port, scopeid });
  return binding.getnameinfo(sa, flags).catch(asResolveError);
}

/** The addon rejects with { code: 'EAI_*', message: gai_strerror, syscall }: one ResolveError for every caller. */
function asResolveError(e: { code: string; message: string; syscall?: string }): never {
  throw new ResolveError(e.code, e.message, e.syscall === 'getnameinfo' ? 'getnameinfo' : 'getaddrinfo');
}

/**
 * ping's pr_addr() and traceroute's print_addr(): "name (address)", or just
 * the address when numeric output was asked for or no name could be had.
 * One cache of getnameinfo(3) answers for every address a run prints.
 */
export class AddressNamer {
  private readonly cache = new Map<string, Promise<string | null>>();
  constructor(readonly numeric: boolean) {}

  /** The name getnameinfo(3) gives (the numeric address itself when it has none); null when numeric or the lookup failed. */
  name(address: string): Promise<string | null> {
    if (this.numeric) return Promise.resolve(null);
    let p = this.cache.get(address);
    if (!p) {
      p = nameOf(address).then(
        (name) => name || null,
        () => null,
      );
      this.cache.set(address, p);
    }
    return p;
  }

  /** The printed form, resolved (never rejects). */
  format(address: string): Promise<string> {
    return this.name(address).then((name) => (name ? `${name} (${address})` : address));
  }
}
