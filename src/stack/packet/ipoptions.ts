// IPv4 options (RFC 791 3.1): the record-route and timestamp options ping
// -R / -T sends, the source routes sock -g / -G sends, and iputils'
// pr_options walk of the options a reply carries. Pure functions over bytes;
// the walk never throws (past the end it reads as iputils does: zeros).
import { formatIPv4, parseIPv4 } from './addr.js';

export const IPOPT_EOL = 0;
export const IPOPT_NOP = 1;
export const IPOPT_RR = 7;
export const IPOPT_TS = 68;
export const IPOPT_LSRR = 131;
export const IPOPT_SSRR = 137;
/** the smallest pointer: the first slot after type, length, pointer (and flags) */
export const IPOPT_MINOFF = 4;
/** timestamp option flags (RFC 791): stamps only, address and stamp, prespecified addresses */
export const IPOPT_TS_TSONLY = 0;
export const IPOPT_TS_TSANDADDR = 1;
export const IPOPT_TS_PRESPEC = 3;
/** the most option bytes an IPv4 header holds */
export const MAX_IPOPTLEN = 40;
/** iputils: -T tsprespec names at most 4 hops (room for 4 address and stamp pairs) */
export const MAX_PRESPEC = 4;
/** at most 9 hops fit in a source route, the destination last */
export const MAX_SROUTE = 9;

export type TimestampType = 'tsonly' | 'tsandaddr' | 'tsprespec';

/** NOP, then record route with room for 9 addresses: 40 bytes, the most IPv4 allows (iputils -R). */
export function recordRouteOption(): Buffer {
  const b = Buffer.alloc(MAX_IPOPTLEN);
  b[0] = IPOPT_NOP;
  b[1] = IPOPT_RR;
  b[2] = MAX_IPOPTLEN - 1;
  b[3] = IPOPT_MINOFF;
  return b;
}

/**
 * The timestamp option (iputils -T): room for 9 stamps (tsonly), for 4
 * address and stamp pairs (tsandaddr), or the prespecified hops' addresses
 * (dotted quads), each followed by the slot its stamp goes in (tsprespec).
 */
export function timestampOption(type: TimestampType, hops: readonly string[] = []): Buffer {
  const b = Buffer.alloc(type === 'tsonly' ? 40 : type === 'tsandaddr' ? 36 : 4 + hops.length * 8);
  b[0] = IPOPT_TS;
  b[1] = b.length;
  b[2] = IPOPT_MINOFF + 1;
  b[3] = type === 'tsonly' ? IPOPT_TS_TSONLY : type === 'tsandaddr' ? IPOPT_TS_TSANDADDR : IPOPT_TS_PRESPEC;
  hops.forEach((h, i) => (parseIPv4(h) ?? Buffer.alloc(4)).copy(b, 4 + i * 8));
  return b;
}

/**
 * A source route's IP_OPTIONS bytes (sock -g / -G): type, length, pointer 4,
 * the hops and the destination last (the kernel takes the first hop as the
 * next destination), padded with end-of-options to a multiple of 4.
 */
export function sourceRouteOption(strict: boolean, hops: readonly Buffer[], destination: Buffer): Buffer {
  const addrs = [...hops, destination];
  const len = 3 + 4 * addrs.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out[0] = strict ? IPOPT_SSRR : IPOPT_LSRR;
  out[1] = len;
  out[2] = IPOPT_MINOFF;
  addrs.forEach((a, i) => a.copy(out, 3 + 4 * i));
  return out;
}

/** One slot of a timestamp option: the hop's address (not in tsonly), then its stamp if it got that far. */
export interface StampEntry {
  address?: string;
  /** milliseconds since midnight UT, or any value when not standard */
  stamp?: number;
  standard?: boolean;
}

/** One option as pr_options reads it. */
export type OptionItem =
  | { kind: 'nop' }
  | { kind: 'ts'; entries: StampEntry[]; flags: number }
  | { kind: 'rr'; same: boolean; addresses: string[] }
  | { kind: 'srr'; strict: boolean; addresses: string[] }
  | { kind: 'unknown'; type: number };

/** The last route recorded, for "(same route)": its pointer byte and addresses, as iputils compares them. */
export interface RouteMemory {
  last: Buffer | null;
}

/** An address from an option, 0.0.0.0 past its end. */
function optionAddress(opts: Buffer, at: number): string {
  return at + 4 <= opts.length ? formatIPv4(opts, at) : '0.0.0.0';
}

function addressesAt(opts: Buffer, from: number, bytes: number): string[] {
  const out: string[] = [];
  for (let i = 0; ; i += 4) {
    out.push(optionAddress(opts, from + i));
    if (bytes - i - 4 <= 0) break;
  }
  return out;
}

/** iputils' pr_options walk, its quirks included (a source route is read from its pointer byte on). */
export function ipOptionItems(opts: Buffer, memory: RouteMemory = { last: null }): OptionItem[] {
  const items: OptionItem[] = [];
  let p = 0;
  let total = opts.length;
  while (total > 0) {
    const type = opts[p]!;
    if (type === IPOPT_EOL) break;
    if (type === IPOPT_NOP) {
      items.push({ kind: 'nop' });
      total--;
      p++;
      continue;
    }
    const olen = opts[p + 1] ?? 0;
    if (olen < 2 || olen > total) break;
    if (type === IPOPT_SSRR || type === IPOPT_LSRR) {
      items.push({ kind: 'srr', strict: type === IPOPT_SSRR, addresses: olen > IPOPT_MINOFF ? addressesAt(opts, p + 2, olen - IPOPT_MINOFF) : [] });
    } else if (type === IPOPT_RR) {
      const i = Math.min(opts[p + 2] ?? 0, olen) - IPOPT_MINOFF;
      if (i > 0) {
        const seen = opts.subarray(p + 2, p + 2 + i);
        if (memory.last?.equals(seen)) items.push({ kind: 'rr', same: true, addresses: [] });
        else {
          memory.last = Buffer.from(seen);
          items.push({ kind: 'rr', same: false, addresses: addressesAt(opts, p + 3, i) });
        }
      }
    } else if (type === IPOPT_TS) {
      const ts = timestampEntries(opts, p, olen);
      if (ts) items.push({ kind: 'ts', ...ts });
    } else {
      items.push({ kind: 'unknown', type });
    }
    total -= olen;
    p += olen;
  }
  return items;
}

/** The timestamp option's slots in use, walked as iputils' pr_options walks them; null when none. */
function timestampEntries(opts: Buffer, p: number, olen: number): { entries: StampEntry[]; flags: number } | null {
  let i = Math.min(opts[p + 2] ?? 0, olen) - 5;
  if (i <= 0) return null;
  const flags = opts[p + 3] ?? 0;
  const entries: StampEntry[] = [];
  let c = p + 4;
  for (;;) {
    const e: StampEntry = {};
    entries.push(e);
    if ((flags & 0xf) !== IPOPT_TS_TSONLY) {
      e.address = optionAddress(opts, c);
      c += 4;
      i -= 4;
      if (i <= 0) break;
    }
    const l = c + 4 <= opts.length ? opts.readUInt32BE(c) : 0;
    c += 4;
    e.standard = (l & 0x80000000) === 0;
    e.stamp = l & 0x7fffffff;
    i -= 4;
    if (i <= 0) break;
  }
  return { entries, flags };
}
