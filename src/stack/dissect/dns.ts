// DNS messages (RFC 1035 4.1), enough for tcpdump's one-line summary:
// header, questions and answers, names with compression pointers. Never throws.
import { formatIPv4, formatIPv6 } from '../packet/addr.js';
import type { DnsLayer, DnsRecord } from './layers.js';

export const T_A = 1,
  T_NS = 2,
  T_CNAME = 5,
  T_SOA = 6,
  T_PTR = 12,
  T_MX = 15,
  T_TXT = 16,
  T_AAAA = 28,
  T_SRV = 33,
  T_OPT = 41;

/** A name at `p`: its text (with the trailing dot) and where the record continues; null when malformed. */
export function readName(buf: Buffer, p: number, end: number): { name: string; next: number } | null {
  const labels: string[] = [];
  let next = -1,
    jumps = 0;
  for (;;) {
    if (p >= end) return null;
    const len = buf[p]!;
    if (len === 0) {
      p++;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (p + 1 >= end || ++jumps > 64) return null;
      if (next < 0) next = p + 2;
      p = ((len & 0x3f) << 8) | buf[p + 1]!;
      continue;
    }
    if (len & 0xc0) return null; // EDNS0 extended label types are not decoded
    if (p + 1 + len > end) return null;
    labels.push(buf.toString('latin1', p + 1, p + 1 + len));
    p += 1 + len;
  }
  return { name: labels.length ? labels.join('.') + '.' : '.', next: next < 0 ? p : next };
}

function rdata(buf: Buffer, type: number, p: number, rdlen: number, end: number): string {
  if (type === T_A && rdlen === 4) return formatIPv4(buf, p);
  if (type === T_AAAA && rdlen === 16) return formatIPv6(buf, p);
  if (type === T_CNAME || type === T_NS || type === T_PTR) return readName(buf, p, end)?.name ?? '';
  if (type === T_MX && rdlen >= 3) return `${readName(buf, p + 2, end)?.name ?? ''} ${buf.readUInt16BE(p)}`;
  return '';
}

/** tcpdump's ns_nskip: past a name in the capture, or null where the capture (or the name) ends. */
function skipName(buf: Buffer, p: number): number | null {
  for (;;) {
    if (p >= buf.length) return null;
    const len = buf[p]!;
    if ((len & 0xc0) === 0xc0) return p + 2 <= buf.length ? p + 2 : null;
    if (len & 0xc0) return null;
    p += 1 + len;
    if (len === 0) return p;
  }
}

/** `wire`: the message's length by its UDP header, what tcpdump prints, when the capture holds less. */
export function decodeDns(buf: Buffer, p: number, end: number, wire = end - p): DnsLayer {
  const length = wire;
  const base = buf.subarray(p, end);
  const l: DnsLayer = {
    layer: 'dns',
    id: 0,
    qr: false,
    opcode: 0,
    aa: false,
    tc: false,
    rd: false,
    ra: false,
    ad: false,
    cd: false,
    rcode: 0,
    qdcount: 0,
    ancount: 0,
    nscount: 0,
    arcount: 0,
    questions: [],
    answers: [],
    length,
    truncated: true,
  };
  if (base.length < 12) {
    l.short = true;
    return l;
  }
  const f = base.readUInt16BE(2);
  Object.assign(l, {
    id: base.readUInt16BE(0),
    qr: (f & 0x8000) !== 0,
    opcode: (f >> 11) & 0xf,
    aa: (f & 0x400) !== 0,
    tc: (f & 0x200) !== 0,
    rd: (f & 0x100) !== 0,
    ra: (f & 0x80) !== 0,
    ad: (f & 0x20) !== 0,
    cd: (f & 0x10) !== 0,
    rcode: f & 0xf,
    qdcount: base.readUInt16BE(4),
    ancount: base.readUInt16BE(6),
    nscount: base.readUInt16BE(8),
    arcount: base.readUInt16BE(10),
  });
  let q = 12;
  for (let i = 0; i < l.qdcount; i++) {
    const n = readName(base, q, base.length);
    if (!n || n.next + 4 > base.length) {
      // print-domain.c skips a response's questions by their names alone
      if (!l.qr) return l;
      const past = skipName(base, q);
      if (past === null) return l;
      q = past + 4;
      continue;
    }
    l.questions.push({ name: n.name, type: base.readUInt16BE(n.next), class: base.readUInt16BE(n.next + 2) });
    q = n.next + 4;
  }
  l.questionsRead = true;
  for (let i = 0; i < l.ancount; i++) {
    // ns_rprint: a record whose name or fixed part the capture cut prints nothing and ends the walk
    if (i > 0 && q >= base.length) return l;
    const n = readName(base, q, base.length);
    if (!n || n.next + 10 > base.length) {
      l.answers.push({ name: '', type: 0, class: 1, ttl: 0, data: '', cut: true });
      q = base.length;
      continue;
    }
    const type = base.readUInt16BE(n.next),
      rdlen = base.readUInt16BE(n.next + 8);
    if (n.next + 10 + rdlen > base.length) {
      // its type printed, then the mark
      l.answers.push({ name: n.name, type, class: base.readUInt16BE(n.next + 2), ttl: base.readUInt32BE(n.next + 4), data: '', cut: true });
      return l;
    }
    const rec: DnsRecord = {
      name: n.name,
      type,
      class: base.readUInt16BE(n.next + 2),
      ttl: base.readUInt32BE(n.next + 4),
      data: rdata(base, type, n.next + 10, rdlen, base.length),
    };
    l.answers.push(rec);
    q = n.next + 10 + rdlen;
  }
  l.truncated = false;
  return l;
}
