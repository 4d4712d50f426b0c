// print-domain.c (tcpdump 4.99): ns_print's summary of a query or a
// response, with a response's question at -vv, its answers' names at -v
// and their TTLs at -vvv. Facts copied, not code.
import type { DnsLayer } from '../../../stack/dissect/index.js';
import type { TextOptions } from './netdissect.js';

const DNS_TYPES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  13: 'HINFO',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  35: 'NAPTR',
  41: 'OPT',
  43: 'DS',
  46: 'RRSIG',
  47: 'NSEC',
  48: 'DNSKEY',
  64: 'SVCB',
  65: 'HTTPS',
  255: 'ANY',
  257: 'CAA',
};
const DNS_RCODES = ['', ' FormErr', ' ServFail', ' NXDomain', ' NotImp', ' Refused', ' YXDomain', ' YXRRSet', ' NXRRSet', ' NotAuth', ' NotZone'];
const DNS_OPS = [
  '',
  ' inv_q',
  ' stat',
  ' op3',
  ' notify',
  ' update',
  ' op6',
  ' op7',
  ' op8',
  ' updateA',
  ' updateD',
  ' updateDA',
  ' updateM',
  ' updateMA',
  ' zoneInit',
  ' zoneRef',
];

const dnsType = (t: number) => DNS_TYPES[t] ?? `Type${t}`;

/** print-domain.c ns_print, non-verbose: " 1234+ A? example.com. (29)". */
export function dnsText(d: DnsLayer, _o: TextOptions): string {
  let s = ' ';
  // print-domain.c: a cut header prints nothing of it; any cut ends the line at " [|domain]", no length
  if (d.short) return `  [|domain]`;
  if (d.qr) {
    s += `${d.id}${DNS_OPS[d.opcode]}${DNS_RCODES[d.rcode] ?? ` Resp${d.rcode}`}${d.aa ? '*' : ''}${d.ra ? '' : '-'}${d.tc ? '|' : ''}`;
    if (d.qdcount !== 1) s += ` [${d.qdcount}q]`;
    if (!d.questionsRead) return `${s} [|domain]`;
    // -vv: the question section of a response too
    if (_o.verbose > 1) s += d.questions.map((q) => ` q: ${dnsType(q.type)}${q.class !== 1 ? ` ${q.class}` : ''}? ${q.name}`).join(',');
    s += ` ${d.ancount}/${d.nscount}/${d.arcount}`;
    s += d.answers
      .map((a) =>
        a.cut && a.type === 0
          ? ''
          : ` ${_o.verbose ? `${a.name} ${_o.verbose > 2 ? `[${relativeTime(a.ttl)}] ` : ''}` : ''}${a.class !== 1 ? `${a.class} ` : ''}${dnsType(a.type)}${a.data ? ` ${a.data}` : ''}`,
      )
      .join(',');
    if (d.truncated) return `${s} [|domain]`;
  } else {
    s += `${d.id}${DNS_OPS[d.opcode]}${d.rd ? '+' : ''}${d.cd ? '%' : ''}`;
    if (d.ancount) s += ` [${d.ancount}a]`;
    if (d.nscount) s += ` [${d.nscount}n]`;
    if (d.arcount) s += ` [${d.arcount}au]`;
    if (d.qdcount !== 1) s += ` [${d.qdcount}q]`;
    const q = d.questions[0];
    if (q) s += ` ${dnsType(q.type)}${q.class !== 1 ? ` ${q.class}` : ''}? ${q.name}`;
    else if (d.qdcount) return `${s} [|domain]`;
  }
  return s + ` (${d.length})`;
}

// print-domain.c unsigned_relts_print: 3725 -> "1h2m5s"
const RELTS: [number, string][] = [
  [31536000, 'y'],
  [604800, 'w'],
  [86400, 'd'],
  [3600, 'h'],
  [60, 'm'],
  [1, 's'],
];
function relativeTime(secs: number): string {
  if (secs === 0) return '0s';
  let s = '';
  for (const [unit, name] of RELTS) {
    if (secs >= unit) {
      s += `${Math.floor(secs / unit)}${name}`;
      secs %= unit;
    }
  }
  return s;
}
