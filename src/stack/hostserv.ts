// Names to socket addresses: UNP 11.11 host_serv. Hosts go through
// getaddrinfo(3) (dns.lookup: /etc/hosts, NSS, DNS), services through
// /etc/services (getservbyname(3)); literals never touch either.
import dns from 'node:dns';
import { readFileSync } from 'node:fs';
import * as C from './constants.js';
import { addressFamily, formatAddress, parseAddress } from './packet/addr.js';
import { inetAddress, type Inet6Address, type InetAddress } from './socket.js';

export type Family = 0 | 4 | 6;
export type InetSockAddr = InetAddress | Inet6Address;

/** A resolver failure, with glibc's gai_strerror(3) text as the message. */
export class ResolveError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ResolveError';
    this.code = code;
  }
}

// Node's names for getaddrinfo's EAI_* codes -> gai_strerror(3) text (glibc)
const GAI_TEXT: Record<string, string> = {
  ENOTFOUND: 'Name or service not known',
  EAI_NONAME: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
  EAI_FAIL: 'Non-recoverable failure in name resolution',
  ENODATA: 'No address associated with hostname',
  EAI_NODATA: 'No address associated with hostname',
  EAI_ADDRFAMILY: 'Address family for hostname not supported',
  EAI_FAMILY: 'ai_family not supported',
  EAI_SERVICE: 'Servname not supported for ai_socktype',
  EAI_MEMORY: 'Memory allocation failure',
};

let services: Map<string, number> | undefined;

/** /etc/services as "name/proto" -> port, aliases included (read once). */
function serviceTable(): Map<string, number> {
  if (services) return services;
  services = new Map();
  let text = '';
  try { text = readFileSync('/etc/services', 'utf8'); } catch { /* no file: numbers only */ }
  for (const raw of text.split('\n')) {
    const fields = raw.replace(/#.*/, '').trim().split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(fields[1] ?? '');
    if (!m) continue;
    for (const name of [fields[0], ...fields.slice(2)]) {
      const key = `${name}/${m[2]}`;
      if (name && !services.has(key)) services.set(key, Number(m[1]));
    }
  }
  return services;
}

/**
 * A port from a number ("7") or a service name ("echo", getservbyname(3)).
 * Null when it is neither.
 */
export function servPort(service: string, proto: 'tcp' | 'udp' = 'tcp'): number | null {
  if (/^\d+$/.test(service)) {
    const n = Number(service);
    return n <= 65535 ? n : null;
  }
  return serviceTable().get(`${service}/${proto}`) ?? null;
}

/** Canonical text of an address literal (inet_ntop form), or null when it is not one. */
export function canonicalAddress(text: string): string | null {
  const bytes = parseAddress(text);
  return bytes ? formatAddress(bytes) : null;
}

/**
 * Every address of `host` in getaddrinfo's order (RFC 6724 sorting), as
 * sockaddrs with `port`; only one family when `family` is 4 or 6. A literal
 * (with an optional `%zone` for IPv6) is used as it is. Rejects with a
 * ResolveError carrying gai_strerror's text.
 */
export async function hostServ(host: string, port: number, family: Family = 0): Promise<InetSockAddr[]> {
  const bare = host.includes('%') ? host.slice(0, host.indexOf('%')) : host;
  const literal = addressFamily(bare);
  if (literal !== 0) {
    if (family !== 0 && family !== literal) throw new ResolveError('EAI_ADDRFAMILY', GAI_TEXT.EAI_ADDRFAMILY!);
    const zone = host.slice(bare.length);
    return [inetAddress(canonicalAddress(bare)! + zone, port)];
  }
  let found: dns.LookupAddress[];
  try {
    found = await dns.promises.lookup(host, { all: true, family, verbatim: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EAI_FAIL';
    throw new ResolveError(code, GAI_TEXT[code] ?? (e as Error).message);
  }
  if (found.length === 0) throw new ResolveError('ENODATA', GAI_TEXT.ENODATA!);
  return found.map((a) => inetAddress(a.address, port));
}

/** 4 or 6 for a sockaddr of either family. */
export function familyOf(sa: InetSockAddr): 4 | 6 {
  return sa.family === C.AF_INET ? 4 : 6;
}
