// The resource records of a DNS reply (RFC 1035 3.2, 4.1.3, names with
// 4.1.4 compression), each written as miekg/dns's RR.String() writes it
// (the text blackbox_exporter's validate_*_rrs regexps are matched against):
// "name.\tTTL\tCLASS\tTYPE\trdata", rdata in zone-file form (RFC 1035 5.1),
// types sockit does not decode as RFC 3597's "\# LEN HEX" (an EDNS OPT
// record too, which miekg writes as a pseudo-section: sockit sends no EDNS).
import { formatIPv4, formatIPv6 } from '../packet/addr.js';

export const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  43: 'DS',
  48: 'DNSKEY',
  257: 'CAA',
  255: 'ANY',
  41: 'OPT',
};
const CLASS_NAMES: Readonly<Record<number, string>> = { 1: 'IN', 3: 'CH', 4: 'HS', 254: 'NONE', 255: 'ANY' };

export interface Sections {
  /** miekg's Question.String(): ";name.\tCLASS\t TYPE" */
  question: string[];
  answer: string[];
  authority: string[];
  additional: string[];
}

class Malformed extends Error {}

/** A label's bytes as miekg writes them: the zone-file specials backslash-escaped, the unprintable as \DDD. */
function label(b: Buffer): string {
  let s = '';
  for (const c of b) {
    if ('.;() @"\\\''.includes(String.fromCharCode(c))) s += `\\${String.fromCharCode(c)}`;
    else if (c < 0x21 || c > 0x7e) s += `\\${String(c).padStart(3, '0')}`;
    else s += String.fromCharCode(c);
  }
  return s;
}

/** A (possibly compressed) domain name at `off`: its text and the offset after it in place. */
function readName(msg: Buffer, off: number): { name: string; next: number } {
  const labels: string[] = [];
  let next = -1;
  let hops = 0;
  for (;;) {
    if (off >= msg.length) throw new Malformed('name past the end');
    const len = msg[off]!;
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= msg.length || ++hops > 64) throw new Malformed('bad compression pointer');
      if (next < 0) next = off + 2;
      off = ((len & 0x3f) << 8) | msg[off + 1]!;
      continue;
    }
    if (len & 0xc0) throw new Malformed('bad label type');
    if (len === 0) {
      if (next < 0) next = off + 1;
      break;
    }
    if (off + 1 + len > msg.length) throw new Malformed('label past the end');
    labels.push(label(msg.subarray(off + 1, off + 1 + len)));
    off += 1 + len;
  }
  return { name: labels.length ? `${labels.join('.')}.` : '.', next };
}

/** TXT's character-strings, each quoted as miekg quotes them. */
function txt(rd: Buffer): string {
  const out: string[] = [];
  for (let i = 0; i < rd.length; ) {
    const n = rd[i]!;
    const s = rd.subarray(i + 1, i + 1 + n);
    let q = '';
    for (const c of s) {
      if (c === 0x22 || c === 0x5c) q += `\\${String.fromCharCode(c)}`;
      else if (c < 0x20 || c > 0x7e) q += `\\${String(c).padStart(3, '0')}`;
      else q += String.fromCharCode(c);
    }
    out.push(`"${q}"`);
    i += 1 + n;
  }
  return out.join(' ');
}

function rdata(msg: Buffer, type: number, start: number, len: number): string {
  const rd = msg.subarray(start, start + len);
  const name = (at: number) => readName(msg, start + at);
  switch (type) {
    case 1:
      if (len === 4) return formatIPv4(rd, 0);
      break;
    case 28:
      if (len === 16) {
        // Go's net.IP prints a v4-mapped address dotted; miekg puts ::ffff: back in front
        const mapped = rd.subarray(0, 10).every((x) => x === 0) && rd[10] === 0xff && rd[11] === 0xff;
        return mapped ? `::ffff:${formatIPv4(rd, 12)}` : formatIPv6(rd, 0);
      }
      break;
    case 2:
    case 5:
    case 12:
      return name(0).name;
    case 15:
      if (len >= 3) return `${rd.readUInt16BE(0)} ${name(2).name}`;
      break;
    case 16:
      return txt(rd);
    case 33:
      if (len >= 7) return `${rd.readUInt16BE(0)} ${rd.readUInt16BE(2)} ${rd.readUInt16BE(4)} ${name(6).name}`;
      break;
    case 6: {
      const ns = name(0);
      const mbox = readName(msg, ns.next);
      const at = mbox.next;
      if (at + 20 <= start + len) {
        const n = [0, 4, 8, 12, 16].map((k) => msg.readUInt32BE(at + k));
        return `${ns.name} ${mbox.name} ${n.join(' ')}`;
      }
      break;
    }
  }
  return `\\# ${len}${len ? ` ${rd.toString('hex')}` : ''}`;
}

/** The three record sections of a reply as text; throws on a malformed message. */
export function decodeSections(msg: Buffer): Sections {
  if (msg.length < 12) throw new Malformed('short header');
  const counts = [4, 6, 8, 10].map((o) => msg.readUInt16BE(o));
  let off = 12;
  const question: string[] = [];
  for (let q = 0; q < counts[0]!; q++) {
    const { name, next } = readName(msg, off);
    if (next + 4 > msg.length) throw new Malformed('question past the end');
    const type = msg.readUInt16BE(next);
    const klass = msg.readUInt16BE(next + 2);
    question.push(`;${name}\t${CLASS_NAMES[klass] ?? `CLASS${klass}`}\t ${TYPE_NAMES[type] ?? `TYPE${type}`}`);
    off = next + 4;
  }
  const sections: string[][] = [[], [], []];
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < counts[k + 1]!; i++) {
      const { name, next } = readName(msg, off);
      if (next + 10 > msg.length) throw new Malformed('record header past the end');
      const type = msg.readUInt16BE(next);
      const klass = msg.readUInt16BE(next + 2);
      const ttl = msg.readUInt32BE(next + 4);
      const len = msg.readUInt16BE(next + 8);
      if (next + 10 + len > msg.length) throw new Malformed('record data past the end');
      off = next + 10 + len;
      const typeName = TYPE_NAMES[type] ?? `TYPE${type}`;
      const className = CLASS_NAMES[klass] ?? `CLASS${klass}`;
      sections[k]!.push(`${name}\t${ttl}\t${className}\t${typeName}\t${rdata(msg, type, next + 10, len)}`);
    }
  }
  return { question, answer: sections[0]!, authority: sections[1]!, additional: sections[2]! };
}

const OPCODES = ['QUERY', 'IQUERY', 'STATUS', '', 'NOTIFY', 'UPDATE'];
const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

/** A whole reply as miekg's Msg.String() writes it (the "Got response" line of the debug log). */
export function messageText(msg: Buffer, s: Sections): string {
  const flags = msg.readUInt16BE(2);
  const opcode = (flags >> 11) & 0xf;
  const rcode = flags & 0xf;
  const bits: [number, string][] = [
    [0x8000, 'qr'],
    [0x0400, 'aa'],
    [0x0200, 'tc'],
    [0x0100, 'rd'],
    [0x0080, 'ra'],
    [0x0040, 'z'],
    [0x0020, 'ad'],
    [0x0010, 'cd'],
  ];
  let t = `;; opcode: ${OPCODES[opcode] || String(opcode)}, status: ${RCODE_NAMES[rcode] ?? String(rcode)}, id: ${msg.readUInt16BE(0)}\n`;
  t += `;; flags:${bits.map(([b, n]) => (flags & b ? ` ${n}` : '')).join('')}; `;
  t += `QUERY: ${s.question.length}, ANSWER: ${s.answer.length}, AUTHORITY: ${s.authority.length}, ADDITIONAL: ${s.additional.length}\n`;
  const section = (title: string, rrs: readonly string[]) => (rrs.length ? `\n;; ${title} SECTION:\n${rrs.map((r) => `${r}\n`).join('')}` : '');
  t += section('QUESTION', s.question);
  t += section('ANSWER', s.answer);
  t += section('AUTHORITY', s.authority);
  t += section('ADDITIONAL', s.additional);
  return t;
}
