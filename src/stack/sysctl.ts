// Kernel settings under /proc/sys, read by their sysctl(8) names.
import { readFileSync } from 'node:fs';

/** The text of a setting ("net.ipv4.ping_group_range"), whitespace folded; undefined when it cannot be read. */
export function sysctl(name: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8')
      .trim()
      .replace(/\s+/g, ' ');
  } catch {
    return undefined;
  }
}

/** The first number of a setting; undefined when it cannot be read or is not a number. */
export function sysctlNumber(name: string): number | undefined {
  const text = sysctl(name);
  if (text === undefined) return undefined;
  const n = Number(text.split(' ')[0]);
  return Number.isFinite(n) ? n : undefined;
}
