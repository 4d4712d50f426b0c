// Names to socket addresses: UNP 11.11 host_serv. Hosts go through libc's
// getaddrinfo(3) (resolve.ts: /etc/hosts, NSS, DNS), services through
// /etc/services as getservbyname(3) reads it.
import * as C from './constants.js';
import { resolveHost } from './resolve.js';
import { type ServEnt, servicesFile } from './services.js';
import type { Inet6Address, InetAddress } from './socket.js';

export type Family = 0 | 4 | 6;
export type InetSockAddr = InetAddress | Inet6Address;

export type { ServEnt } from './services.js';

/** Every /etc/services entry in file order (none without the file). */
const serventTable = (): ServEnt[] => servicesFile() ?? [];

/** getservbyname(3): the first entry named `name` (or with it as an alias), of `proto` when given. */
export function getservbyname(name: string, proto?: string): ServEnt | null {
  return serventTable().find((s) => (s.name === name || s.aliases.includes(name)) && (!proto || s.proto === proto)) ?? null;
}

/** getservbyport(3): the first entry for `port`, of `proto` when given. */
export function getservbyport(port: number, proto?: string): ServEnt | null {
  return serventTable().find((s) => s.port === port && (!proto || s.proto === proto)) ?? null;
}

let services: Map<string, number> | undefined;

/** /etc/services as "name/proto" -> port, aliases included, the first line winning (read once). */
function serviceTable(): Map<string, number> {
  if (services) return services;
  services = new Map();
  for (const s of serventTable()) {
    for (const name of [s.name, ...s.aliases]) {
      const key = `${name}/${s.proto}`;
      if (!services.has(key)) services.set(key, s.port);
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

/**
 * Every address of `host` in getaddrinfo's order (RFC 6724 sorting), as
 * sockaddrs with `port`; only one family when `family` is 4 or 6. Literals
 * (with an optional `%zone` for IPv6) come back as they are. Rejects with
 * resolve.ts's ResolveError: an EAI_* code and gai_strerror(3)'s text.
 */
export async function hostServ(host: string, port: number, family: Family = 0): Promise<InetSockAddr[]> {
  const { addresses } = await resolveHost(host, family);
  return addresses.map(
    (a): InetSockAddr =>
      a.family === 4 ? { family: C.AF_INET, address: a.address, port } : { family: C.AF_INET6, address: a.address, port, scopeid: a.scopeid ?? 0 },
  );
}

export { isResolveError } from './errors.js';
