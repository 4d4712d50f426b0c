// fping 5.1's wording (fping.c): the lines users parse, as facts. Times are
// nanoseconds in, milliseconds out, as sprint_tm() prints them.

export const NAME = 'fping';

/** printf("%.Nf"): JavaScript's toFixed, except that an exact tie rounds to even, as glibc does. */
export function cFixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  const scaled = Math.abs(x) * 10 ** digits;
  const floor = Math.floor(scaled);
  if (scaled - floor === 0.5 && (floor + 0.5) / 10 ** digits === Math.abs(x) && floor % 2 === 0) {
    // toFixed rounded the tie up to an odd last digit: glibc keeps the even one below
    return ((Math.sign(x) * floor) / 10 ** digits).toFixed(digits);
  }
  return s;
}

/** printf("%.Ng") for the rare negative time. */
function cG(x: number, precision: number): string {
  if (x === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(x)));
  if (exp < -4 || exp >= precision) return cExp(x, precision - 1).replace(/\.?0+e/, 'e');
  return String(Number(x.toPrecision(precision)));
}

/** printf("%.Ne"): at least two exponent digits. */
function cExp(x: number, digits: number): string {
  return x.toExponential(digits).replace(/e([-+])(\d)$/, 'e$10$2');
}

/** fping's sprint_tm(): three significant digits of milliseconds. */
export function sprintTm(ns: number): string {
  const t = ns / 1e6;
  if (t < 0) return cG(t, 2);
  if (t < 1) return cFixed(t, 3);
  if (t < 10) return cFixed(t, 2);
  if (t < 100) return cFixed(t, 1);
  if (t < 1_000_000) return cFixed(t, 0);
  return cExp(t, 3);
}

/** "[1796204604.06606] " before a -D line: seconds since the epoch, %.5f */
export function stampText(realNs: bigint): string {
  const us10 = (realNs + 5000n) / 10000n; // round to 10 µs
  const s = us10 / 100000n;
  return `[${s}.${(us10 % 100000n).toString().padStart(5, '0')}] `;
}

/** "%-*s": the name padded to the longest target's */
export const pad = (host: string, width: number): string => host.padEnd(width);

/** "(0.034 avg, 0% loss)" or "(NaN avg, 100% loss)", and "% return" when more came back than went */
export function avgLoss(avgNs: number | null, sent: number, recv: number, recvTotal: number): string {
  const avg = avgNs === null ? 'NaN' : sprintTm(avgNs);
  const rate = recv <= sent ? `${Math.trunc(((sent - recv) * 100) / sent)}% loss` : `${Math.trunc((recvTotal * 100) / sent)}% return`;
  return `(${avg} avg, ${rate})`;
}

/** ICMPv4 type names (fping.c icmp_type_str) */
export const ICMP_TYPE_STR = [
  'ICMP Echo Reply',
  '',
  '',
  'ICMP Unreachable',
  'ICMP Source Quench',
  'ICMP Redirect',
  '',
  '',
  'ICMP Echo',
  '',
  '',
  'ICMP Time Exceeded',
  'ICMP Parameter Problem',
  'ICMP Timestamp Request',
  'ICMP Timestamp Reply',
  'ICMP Information Request',
  'ICMP Information Reply',
  'ICMP Mask Request',
  'ICMP Mask Reply',
];

/** ICMPv4 unreachable codes (fping.c icmp_unreach_str) */
export const ICMP_UNREACH_STR = [
  'ICMP Network Unreachable',
  'ICMP Host Unreachable',
  'ICMP Protocol Unreachable',
  'ICMP Port Unreachable',
  'ICMP Unreachable (Fragmentation Needed)',
  'ICMP Unreachable (Source Route Failed)',
  'ICMP Unreachable (Destination Network Unknown)',
  'ICMP Unreachable (Destination Host Unknown)',
  'ICMP Unreachable (Source Host Isolated)',
  'ICMP Unreachable (Communication with Network Prohibited)',
  'ICMP Unreachable (Communication with Host Prohibited)',
  'ICMP Unreachable (Network Unreachable For Type Of Service)',
  'ICMP Unreachable (Host Unreachable For Type Of Service)',
  'ICMP Unreachable (Communication Administratively Prohibited)',
  'ICMP Unreachable (Host Precedence Violation)',
  'ICMP Unreachable (Precedence cutoff in effect)',
];

/**
 * fping's warning for an ICMP error about one of its pings, or null where it
 * prints none. fping reads ICMPv6 types through its ICMPv4 tables (so an
 * ICMPv6 time exceeded, type 3, reads as an unreachable, and an ICMPv6
 * unreachable, type 1, is not counted at all): kept, for scripts that
 * parse it.
 */
export function icmpText(icmpType: number, icmpCode: number, from: string, host: string): string | null {
  switch (icmpType) {
    case 3: {
      const what = icmpCode < ICMP_UNREACH_STR.length ? ICMP_UNREACH_STR[icmpCode] : 'ICMP Unreachable (Invalid Code)';
      return `${what} from ${from} for ICMP Echo sent to ${host}\n`;
    }
    case 4:
    case 5:
    case 11:
    case 12:
      return `${ICMP_TYPE_STR[icmpType]} from ${from} for ICMP Echo sent to ${host}\n`;
    default:
      return null;
  }
}

/** The -s block (print_global_stats). */
export interface GlobalStats {
  targets: number;
  alive: number;
  unreachable: number;
  noaddress: number;
  timeouts: number;
  sent: number;
  received: number;
  otherIcmp: number;
  minNs: number;
  avgNs: number;
  maxNs: number;
  elapsedNs: number;
}

export function globalStatsText(g: GlobalStats): string {
  const n = (x: number) => String(x).padStart(7);
  return [
    '',
    ` ${n(g.targets)} targets`,
    ` ${n(g.alive)} alive`,
    ` ${n(g.unreachable)} unreachable`,
    ` ${n(g.noaddress)} unknown addresses`,
    '',
    ` ${n(g.timeouts)} timeouts (waiting for response)`,
    ` ${n(g.sent)} ICMP Echos sent`,
    ` ${n(g.received)} ICMP Echo Replies received`,
    ` ${n(g.otherIcmp)} other ICMP received`,
    '',
    ` ${sprintTm(g.minNs)} ms (min round trip time)`,
    ` ${sprintTm(g.avgNs)} ms (avg round trip time)`,
    ` ${sprintTm(g.maxNs)} ms (max round trip time)`,
    ` ${cFixed(g.elapsedNs / 1e9, 3).padStart(12)} sec (elapsed real time)`,
    '',
    '',
  ].join('\n');
}
