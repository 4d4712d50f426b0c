// /etc/services as getservent(3) reads it: one parse for getservbyname and
// getservbyport (hostserv.ts), the port names ss, netstat and dump print
// (inventory/names.ts) and the filter's service names (filter/gen.ts).
// Only the file: no native code, so pure codecs may use it.
import { readFileSync } from 'node:fs';

/** struct servent: one /etc/services line (UNP 11.5). */
export interface ServEnt {
  name: string;
  port: number;
  proto: string;
  aliases: string[];
}

let table: ServEnt[] | null | undefined;

/** Every /etc/services entry in file order (read once); null when the file cannot be read. */
export function servicesFile(): ServEnt[] | null {
  if (table !== undefined) return table;
  let text: string;
  try {
    text = readFileSync('/etc/services', 'utf8');
  } catch {
    table = null;
    return table;
  }
  table = [];
  for (const raw of text.split('\n')) {
    const [name, portProto, ...aliases] = raw.replace(/#.*/, '').trim().split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(portProto ?? '');
    if (name && m) table.push({ name, port: Number(m[1]), proto: m[2]!, aliases });
  }
  return table;
}
