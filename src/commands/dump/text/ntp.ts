// print-ntp.c (tcpdump 4.99): the version and mode, and at -v the header
// field by field with its timestamps (p_ntp_time, p_ntp_delta). Facts
// copied, not code.
import type { NtpLayer } from '../../../stack/dissect/index.js';
import type { TextOptions } from './netdissect.js';

/** ntp_print: "NTPv4, Client, length 48", and at -v the header. */
export function ntpText(n: NtpLayer, o: TextOptions): string {
  return `NTPv${n.version}, ${NTP_MODES[n.mode]}, length ${n.length}` + (o.verbose ? ntpVerbose(n) : '');
}

/** print-ntp.c ntp_time_print at -v: leap, stratum, poll, precision, delays, reference and the four timestamps. */
function ntpVerbose(n: NtpLayer): string {
  const b = n.header;
  let s = '';
  // print-ntp.c prints field by field: a capture cut inside the header ends at the first field it lacks
  const need = (k: number) => {
    if (b.length < k) throw NTP_CUT;
  };
  try {
    s = ntpFields(n, b, need);
  } catch (e) {
    if (e !== NTP_CUT) throw e;
    return ntpPartial + ' [|ntp]';
  }
  return s;
}

const NTP_CUT = new Error('cut');
let ntpPartial = '';

function ntpFields(n: NtpLayer, b: Buffer, need: (k: number) => void): string {
  const leap = b[0]! & 0xc0;
  let s = `\n\tLeap indicator: ${['', '+1s', '-1s', 'clock unsynchronized'][leap >> 6]} (${leap})`;
  const add = (k: number, t: () => string) => {
    ntpPartial = s;
    need(k);
    s += t();
  };
  if (n.mode === 0 || n.mode > 5) return s;
  const stratum = b[1] ?? 0;
  add(
    2,
    () => `, Stratum ${stratum} (${stratum === 0 ? 'unspecified' : stratum === 1 ? 'primary reference' : stratum <= 15 ? 'secondary reference' : 'reserved'})`,
  );
  add(3, () => {
    const poll = b.readInt8(2);
    return `, poll ${poll}${poll <= -32 || poll >= 32 ? '' : poll >= 0 ? ` (${2 ** poll}s)` : ` (1/${2 ** -poll}s)`}`;
  });
  add(4, () => `, precision ${b.readInt8(3)}`);
  const sfix = (at: number) => `${b.readUInt16BE(at)}.${String(Math.trunc((b.readUInt16BE(at + 2) / 65536) * 1000000)).padStart(6, '0')}`;
  add(8, () => `\n\tRoot Delay: ${sfix(4)}`);
  add(12, () => `, Root dispersion: ${sfix(8)}`);
  add(16, () => {
    if (stratum === 0) return ', Reference-ID: (unspec)';
    if (stratum === 1)
      return `, Reference-ID: ${[...b.subarray(12, 16)].map((c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : c ? `\\${c.toString(8).padStart(3, '0')}` : '')).join('')}`;
    return `, Reference-ID: 0x${b.readUInt32BE(12).toString(16).padStart(8, '0')}`;
  });
  add(24, () => `\n\t  Reference Timestamp:  ${ntpTime(b, 16)}`);
  add(32, () => `\n\t  Originator Timestamp: ${ntpTime(b, 24)}`);
  add(40, () => `\n\t  Receive Timestamp:    ${ntpTime(b, 32)}`);
  add(48, () => `\n\t  Transmit Timestamp:   ${ntpTime(b, 40)}`);
  s += `\n\t    Originator - Receive Timestamp:  ${ntpDelta(b, 24, 32)}\n\t    Originator - Transmit Timestamp: ${ntpDelta(b, 24, 40)}`;
  const extra = n.length - 48;
  if ((extra === 4 || extra === 20 || extra === 24) && b.length >= n.length) {
    s += `\n\tKey id: ${b.readUInt32BE(48)}`;
    if (extra > 4) s += `\n\tAuthentication: ${b.toString('hex', 52, n.length)}`;
  } else if (extra > 0) s += `\n\t(${extra} more bytes after the header)`;
  return s;
}

const ntpFraction = (f: number) => String(Math.trunc((f / 4294967296) * 1000000000)).padStart(9, '0');

/** p_ntp_time: "4005209883.704999923 (2026-12-02T14:18:03Z)". */
function ntpTime(b: Buffer, at: number): string {
  const i = b.readUInt32BE(at);
  let s = `${i}.${ntpFraction(b.readUInt32BE(at + 4))}`;
  if (i) s += ` (${new Date((i - 2208988800) * 1000).toISOString().replace(/\.\d+Z$/, 'Z')})`;
  return s;
}

/** p_ntp_delta: the second timestamp less the first, signed; the second itself when the first is zero. */
function ntpDelta(b: Buffer, from: number, to: number): string {
  const ou = b.readUInt32BE(from),
    ouf = b.readUInt32BE(from + 4),
    u = b.readUInt32BE(to),
    uf = b.readUInt32BE(to + 4);
  if (ou === 0 && ouf === 0) return ntpTime(b, to);
  let neg: boolean, i: number, f: number;
  if (u > ou) {
    neg = false;
    i = u - ou - (ouf > uf ? 1 : 0);
    f = (uf - ouf) >>> 0;
  } else if (u < ou) {
    neg = true;
    i = ou - u - (uf > ouf ? 1 : 0);
    f = (ouf - uf) >>> 0;
  } else {
    i = 0;
    neg = !(uf > ouf);
    f = neg ? ouf - uf : uf - ouf;
  }
  return `${neg ? '-' : '+'}${i}.${ntpFraction(f)}`;
}

const NTP_MODES = ['Reserved', 'Symmetric Active', 'Symmetric Passive', 'Client', 'Server', 'Broadcast', 'Control Message', 'Reserved'];
