// ss -s (print_summary in misc/ss.c): /proc/net/sockstat and sockstat6 as
// get_sockstat reads them, and Tcp: CurrEstab from /proc/net/snmp.
import { readProcNet } from '../../stack/inventory/index.js';

export interface Sockstat {
  socks: number;
  tcp_total: number;
  tcp_tws: number;
  tcp_orphans: number;
  tcp4_hashed: number;
  tcp6_hashed: number;
  udp4: number;
  udp6: number;
  raw4: number;
  raw6: number;
  frag4: number;
  frag6: number;
  tcp_estab: number;
}

function field(text: string, line: string, name: string): number {
  const l = text.split('\n').find((x) => x.startsWith(`${line}:`));
  const m = l && new RegExp(`\\b${name} (\\d+)`).exec(l);
  return m ? Number(m[1]) : 0;
}

function currEstab(snmp: string): number {
  const rows = snmp.split('\n').filter((l) => l.startsWith('Tcp:'));
  if (rows.length < 2) return 0;
  const keys = rows[0]!.split(/\s+/),
    values = rows[1]!.split(/\s+/);
  return Number(values[keys.indexOf('CurrEstab')] ?? 0);
}

export function sockstat(): Sockstat {
  const v4 = readProcNet('sockstat'),
    v6 = readProcNet('sockstat6');
  return {
    socks: field(v4, 'sockets', 'used'),
    tcp4_hashed: field(v4, 'TCP', 'inuse'),
    tcp_orphans: field(v4, 'TCP', 'orphan'),
    tcp_tws: field(v4, 'TCP', 'tw'),
    tcp_total: field(v4, 'TCP', 'alloc'),
    udp4: field(v4, 'UDP', 'inuse'),
    raw4: field(v4, 'RAW', 'inuse'),
    frag4: field(v4, 'FRAG', 'inuse'),
    tcp6_hashed: field(v6, 'TCP6', 'inuse'),
    udp6: field(v6, 'UDP6', 'inuse'),
    raw6: field(v6, 'RAW6', 'inuse'),
    frag6: field(v6, 'FRAG6', 'inuse'),
    tcp_estab: currEstab(readProcNet('snmp')),
  };
}

export function summaryText(s: Sockstat): string {
  const row = (name: string, a: number, b: number) => `${name}\t  ${String(a + b).padEnd(9)} ${String(a).padEnd(9)} ${String(b).padEnd(9)}\n`;
  return (
    `Total: ${s.socks}\n` +
    `TCP:   ${s.tcp_total + s.tcp_tws} (estab ${s.tcp_estab}, closed ${s.tcp_total - (s.tcp4_hashed + s.tcp6_hashed - s.tcp_tws)}, orphaned ${s.tcp_orphans}, timewait ${s.tcp_tws})\n\n` +
    'Transport Total     IP        IPv6\n' +
    row('RAW', s.raw4, s.raw6) +
    row('UDP', s.udp4, s.udp6) +
    row('TCP', s.tcp4_hashed, s.tcp6_hashed) +
    row('INET', s.raw4 + s.udp4 + s.tcp4_hashed, s.raw6 + s.udp6 + s.tcp6_hashed) +
    row('FRAG', s.frag4, s.frag6) +
    '\n'
  );
}
