// Port and protocol numbers to names as getservbyport(3) and
// getprotobynumber(3) read /etc/services (services.ts) and /etc/protocols (files only).
import { readFileSync } from 'node:fs';
import { servicesFile } from '../services.js';

let byPort: Map<string, string> | undefined;
let protocols: Map<number, string> | undefined;

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The first /etc/services name for port/proto, undefined when there is none. */
export function serviceName(port: number, proto: string): string | undefined {
  if (!byPort) {
    byPort = new Map();
    for (const s of servicesFile() ?? []) {
      const key = `${s.port}/${s.proto}`;
      if (!byPort.has(key)) byPort.set(key, s.name);
    }
  }
  return byPort.get(`${port}/${proto}`);
}

/** The /etc/protocols name of an IP protocol number (1: icmp), undefined when unknown. */
export function protocolName(n: number): string | undefined {
  if (!protocols) {
    protocols = new Map();
    for (const raw of read('/etc/protocols').split('\n')) {
      const f = raw.replace(/#.*/, '').trim().split(/\s+/);
      if (f.length >= 2 && /^\d+$/.test(f[1]) && !protocols.has(Number(f[1]))) protocols.set(Number(f[1]), f[0]);
    }
  }
  return protocols.get(n);
}
