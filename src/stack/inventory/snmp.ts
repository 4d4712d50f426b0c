// The kernel's protocol counters as /proc/net prints them: snmp and netstat
// (a line of names, then a line of values, per group: snmp_seq_show,
// netstat_seq_show), snmp6 ("Name value" lines: snmp6_seq_show), and
// sctp/snmp (the same, one group). Counters keep the kernel's order and
// their decimal text (MaxConn is -1; the octet counters pass 2^53).
import { readProcNet } from './procnet.js';

export interface Counter {
  name: string;
  /** the value as the file prints it */
  text: string;
}

export interface CounterGroup {
  /** the file: snmp, netstat, snmp6, sctp/snmp */
  file: string;
  /** the group's title: "Tcp", "TcpExt"; for snmp6 the name up to its '6' ("Ip6", "Icmp6") */
  group: string;
  counters: Counter[];
}

/** snmp and netstat: "Group: Name Name ..." then "Group: value value ..." */
export function parseCounterPairs(text: string, file: string): CounterGroup[] {
  const lines = text.split('\n').filter((l) => l !== '');
  const out: CounterGroup[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const head = lines[i]!,
      values = lines[i + 1]!;
    const hc = head.indexOf(':'),
      vc = values.indexOf(':');
    if (hc < 0 || vc < 0) break;
    const names = head
      .slice(hc + 1)
      .split(/[ \t]+/)
      .filter(Boolean);
    const vals = values
      .slice(vc + 1)
      .split(/[ \t]+/)
      .filter(Boolean);
    out.push({ file, group: head.slice(0, hc), counters: names.map((name, k) => ({ name, text: vals[k] ?? '0' })) });
  }
  return out;
}

/** snmp6's group of a counter: its name up to and with the first '6' */
export function snmp6Group(name: string): string {
  const six = name.indexOf('6');
  return six < 0 ? name : name.slice(0, six + 1);
}

/** snmp6 and sctp/snmp: one "Name value" per line, grouped by `group` */
export function parseCounterLines(text: string, file: string, group: (name: string) => string): CounterGroup[] {
  const out: CounterGroup[] = [];
  for (const line of text.split('\n')) {
    const [name, value] = line.trim().split(/[ \t]+/);
    if (!name || value === undefined) continue;
    const g = group(name);
    if (out.at(-1)?.group !== g) out.push({ file, group: g, counters: [] });
    out.at(-1)!.counters.push({ name, text: value });
  }
  return out;
}

export interface Counters {
  /** snmp, then netstat, then sctp/snmp (when SCTP is loaded) */
  v4: CounterGroup[];
  /** snmp6 */
  v6: CounterGroup[];
  /** the files that could not be read */
  missing: string[];
}

/** Every counter group of the namespace, read once. */
export function readCounters(root = '/proc'): Counters {
  const missing: string[] = [];
  const read = (name: string) => {
    const t = readProcNet(name, root);
    if (t === '') missing.push(name);
    return t;
  };
  const v4 = [...parseCounterPairs(read('snmp'), 'snmp'), ...parseCounterPairs(read('netstat'), 'netstat')];
  const sctp = readProcNet('sctp/snmp', root);
  if (sctp) v4.push(...parseCounterLines(sctp, 'sctp/snmp', () => 'Sctp'));
  return { v4, v6: parseCounterLines(read('snmp6'), 'snmp6', snmp6Group), missing };
}
