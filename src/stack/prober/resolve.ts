// blackbox_exporter's chooseProtocol (prober/utils.go): resolve the target
// in the preferred family, or any family and the preferred one first when
// falling back is allowed; report the lookup time, the family and an FNV-1a
// hash of the address (to see it change).
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parseIPv4, parseIPv6 } from '../packet/addr.js';
import type { IpProtocol } from './config.js';
import type { ProbeLog } from './log.js';
import type { ProbeMetrics } from './metrics.js';

export interface Resolved {
  address: string;
  family: 4 | 6;
}

/** FNV-1a (32 bits) over the address's 4 or 16 bytes, as probe_ip_addr_hash. */
export function ipHash(address: string): number {
  const bytes = isIP(address) === 4 ? parseIPv4(address)! : parseIPv6(address)!;
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const HELP = {
  lookup: 'Returns the time taken for probe dns lookup in seconds',
  protocol: 'Specifies whether probe ip protocol is IP4 or IP6',
  hash: "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
};

/** Resolve `target` as blackbox_exporter does; null (logged) when it cannot be. */
export async function chooseProtocol(target: string, preferred: IpProtocol, fallback: boolean, metrics: ProbeMetrics, log: ProbeLog): Promise<Resolved | null> {
  // registered gauges report 0 until set, as client_golang's do
  metrics.add('probe_ip_protocol', HELP.protocol, 0);
  metrics.add('probe_dns_lookup_time_seconds', HELP.lookup, 0);
  metrics.add('probe_ip_addr_hash', HELP.hash, 0);
  const want = preferred === 'ip4' ? 4 : 6;
  log.info('Resolving target address', { target, ip_protocol: preferred });
  const start = performance.now();
  const done = () => metrics.add('probe_dns_lookup_time_seconds', HELP.lookup, (performance.now() - start) / 1000);
  let chosen: Resolved | undefined;
  try {
    const all = await lookup(target, { all: true, family: fallback ? 0 : want, verbatim: true });
    const found = all.find((a) => a.family === want) ?? (fallback ? all[0] : undefined);
    if (found) chosen = { address: found.address, family: found.family as 4 | 6 };
    if (!chosen) {
      done();
      log.error('Resolution with IP protocol failed', { target, err: 'unable to find ip; no fallback' });
      return null;
    }
  } catch (e) {
    done();
    const err = (e as NodeJS.ErrnoException).code === 'ENOTFOUND' ? `lookup ${target}: no such host` : (e as Error).message;
    log.error('Resolution with IP protocol failed', { target, ip_protocol: preferred, err });
    return null;
  }
  done();
  log.info('Resolved target address', { target, ip: chosen.address });
  metrics.set('probe_ip_protocol', HELP.protocol, chosen.family);
  metrics.set('probe_ip_addr_hash', HELP.hash, ipHash(chosen.address));
  return chosen;
}
