// blackbox_exporter's dns prober (prober/dns.go): one query (RFC 1035 4.1)
// to the target server over UDP or TCP (a two-byte length first, 4.2.2),
// the counts of the answer's sections and its rcode checked against
// valid_rcodes, then each section's records (as text, dnsrr.ts) against
// the module's validate_*_rrs regexps; probe_dns_serial for SOA queries.
// DNS over TLS is not done.
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import net from 'node:net';
import { goRegexp, type RRValidator } from './config.js';
import { decodeSections, messageText } from './dnsrr.js';
import type { ProbeLog } from './log.js';
import { chooseProtocol } from './resolve.js';
import { aborted, splitHostPort, type ProbeContext } from './types.js';

const TYPES: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, DS: 43, DNSKEY: 48, CAA: 257, ANY: 255 };
const CLASSES: Record<string, number> = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 };
export const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

const DURATION = 'probe_dns_duration_seconds';
const HELP = {
  duration: 'Duration of DNS request by phase',
  answer: 'Returns number of entries in the answer resource record list',
  authority: 'Returns number of entries in the authority resource record list',
  additional: 'Returns number of entries in the additional resource record list',
  succeeded: 'Displays whether or not the query was executed successfully',
};

/** A query message: header (RD as asked), one question. */
export function encodeQuery(id: number, name: string, type: string, klass: string, rd: boolean): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(rd ? 0x0100 : 0, 2);
  head.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(TYPES[type] ?? 255, 0);
  tail.writeUInt16BE(CLASSES[klass] ?? 1, 2);
  return Buffer.concat([head, qname, tail]);
}

/** The header of a reply: id, rcode and the section counts; null when it is too short or not a response. */
export function decodeHeader(b: Buffer): { id: number; rcode: number; answer: number; authority: number; additional: number } | null {
  if (b.length < 12 || !(b[2]! & 0x80)) return null;
  return { id: b.readUInt16BE(0), rcode: b[3]! & 0x0f, answer: b.readUInt16BE(6), authority: b.readUInt16BE(8), additional: b.readUInt16BE(10) };
}

function exchangeUdp(
  family: 4 | 6,
  host: string,
  port: number,
  source: string | undefined,
  query: Buffer,
  signal: AbortSignal,
): Promise<{ reply: Buffer; rttS: number }> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
    const done = (e: Error | null, r?: { reply: Buffer; rttS: number }) => {
      s.close();
      if (e) reject(e);
      else resolve(r!);
    };
    let sent = 0;
    s.on('error', (e) => done(e));
    s.on('message', (msg, rinfo) => {
      if (rinfo.address !== host || rinfo.port !== port || msg.readUInt16BE(0) !== query.readUInt16BE(0)) return;
      done(null, { reply: msg, rttS: (performance.now() - sent) / 1000 });
    });
    aborted(signal).then(() => done(new Error(`read udp ${host}:${port}: i/o timeout`)));
    s.bind({ address: source, port: 0 }, () => {
      s.connect(port, host, () => {
        sent = performance.now();
        s.send(query);
      });
    });
  });
}

function exchangeTcp(host: string, port: number, source: string | undefined, query: Buffer, signal: AbortSignal): Promise<{ reply: Buffer; rttS: number }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, localAddress: source });
    let buf = Buffer.alloc(0);
    let sent = 0;
    const done = (e: Error | null, r?: { reply: Buffer; rttS: number }) => {
      s.destroy();
      if (e) reject(e);
      else resolve(r!);
    };
    s.on('error', (e) => done(e));
    s.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sent = performance.now();
      s.write(Buffer.concat([len, query]));
    });
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0))
        done(null, { reply: buf.subarray(2, 2 + buf.readUInt16BE(0)), rttS: (performance.now() - sent) / 1000 });
    });
    s.on('end', () => done(new Error('EOF')));
    aborted(signal).then(() => done(new Error(`read tcp ${host}:${port}: i/o timeout`)));
  });
}

/** validRRs of blackbox_exporter's dns.go: the four rules over one section's records, its log lines. */
export function validRRs(rrs: readonly string[], v: RRValidator, log: ProbeLog): boolean {
  let anyMatch = false;
  let allMatch = true;
  if (rrs.length === 0 && v.failIfNotMatchesRegexp.length > 0) {
    log.error('fail_if_not_matches_regexp specified but no RRs returned');
    return false;
  }
  if (rrs.length === 0 && v.failIfNoneMatchesRegexp.length > 0) {
    log.error('fail_if_none_matches_regexp specified but no RRs returned');
    return false;
  }
  const test = (re: string, rr: string): boolean | undefined => {
    try {
      return goRegexp(re).test(rr);
    } catch (e) {
      log.error('Error matching regexp', { regexp: re, err: e as Error });
      return undefined;
    }
  };
  for (const rr of rrs) {
    log.info('Validating RR', { rr });
    for (const re of v.failIfMatchesRegexp) {
      const m = test(re, rr);
      if (m === undefined) return false;
      if (m) {
        log.error('At least one RR matched regexp', { regexp: re, rr });
        return false;
      }
    }
    for (const re of v.failIfAllMatchRegexp) {
      const m = test(re, rr);
      if (m === undefined) return false;
      if (!m) allMatch = false;
    }
    for (const re of v.failIfNotMatchesRegexp) {
      const m = test(re, rr);
      if (m === undefined) return false;
      if (!m) {
        log.error('At least one RR did not match regexp', { regexp: re, rr });
        return false;
      }
    }
    for (const re of v.failIfNoneMatchesRegexp) {
      const m = test(re, rr);
      if (m === undefined) return false;
      if (m) anyMatch = true;
    }
  }
  if (v.failIfAllMatchRegexp.length > 0 && !allMatch) {
    log.error('Not all RRs matched regexp');
    return false;
  }
  if (v.failIfNoneMatchesRegexp.length > 0 && !anyMatch) {
    log.error('None of the RRs did matched any regexp');
    return false;
  }
  return true;
}

export async function probeDNS(ctx: ProbeContext): Promise<boolean> {
  const { metrics, log } = ctx;
  const m = ctx.module.dns;
  for (const phase of ['resolve', 'connect', 'request']) metrics.add(DURATION, HELP.duration, 0, { phase });
  metrics.add('probe_dns_answer_rrs', HELP.answer, 0);
  metrics.add('probe_dns_authority_rrs', HELP.authority, 0);
  metrics.add('probe_dns_additional_rrs', HELP.additional, 0);
  metrics.add('probe_dns_query_succeeded', HELP.succeeded, 0);
  const hp = splitHostPort(ctx.target) ?? { host: ctx.target, port: '53' };
  const started = performance.now();
  const dst = await chooseProtocol(hp.host, m.preferredIpProtocol, m.ipProtocolFallback, metrics, log);
  if (!dst) {
    log.error('Error resolving address');
    return false;
  }
  metrics.add(DURATION, HELP.duration, (performance.now() - started) / 1000, { phase: 'resolve' });
  const port = Number(hp.port);
  const proto = `${m.transportProtocol}${dst.family}`;
  if (m.sourceIpAddress) log.info('Using local address', { srcIP: m.sourceIpAddress });
  const query = encodeQuery(randomInt(0x10000), m.queryName, m.queryType, m.queryClass, m.recursionDesired);
  const target = dst.family === 6 ? `[${dst.address}]:${port}` : `${dst.address}:${port}`;
  log.info('Making DNS query', { target, dial_protocol: proto, query: m.queryName, type: TYPES[m.queryType], class: CLASSES[m.queryClass] });
  const requestStart = performance.now();
  let r: { reply: Buffer; rttS: number };
  try {
    r =
      m.transportProtocol === 'tcp'
        ? await exchangeTcp(dst.address, port, m.sourceIpAddress, query, ctx.signal)
        : await exchangeUdp(dst.family, dst.address, port, m.sourceIpAddress, query, ctx.signal);
  } catch (e) {
    metrics.set(DURATION, HELP.duration, (performance.now() - requestStart) / 1000, { phase: 'connect' });
    log.error('Error while sending a DNS query', { err: e as Error });
    return false;
  }
  metrics.set(DURATION, HELP.duration, (performance.now() - requestStart) / 1000 - r.rttS, { phase: 'connect' });
  metrics.set(DURATION, HELP.duration, r.rttS, { phase: 'request' });
  const h = decodeHeader(r.reply);
  if (!h) {
    log.error('Error while sending a DNS query', { err: 'dns: bad response' });
    return false;
  }
  let sections: ReturnType<typeof decodeSections>;
  try {
    sections = decodeSections(r.reply);
  } catch (e) {
    log.error('Error while sending a DNS query', { err: `dns: ${(e as Error).message}` });
    return false;
  }
  log.info('Got response', { response: messageText(r.reply, sections) });
  metrics.set('probe_dns_answer_rrs', HELP.answer, h.answer);
  metrics.set('probe_dns_authority_rrs', HELP.authority, h.authority);
  metrics.set('probe_dns_additional_rrs', HELP.additional, h.additional);
  metrics.set('probe_dns_query_succeeded', HELP.succeeded, 1);
  if (m.queryType === 'SOA') {
    // the last SOA of the answer, as dns.go's loop leaves it
    const serials = sections.answer
      .map((rr) => rr.split('\t'))
      .filter((f) => f[3] === 'SOA')
      .map((f) => Number(f[4]!.split(' ')[2]));
    metrics.add('probe_dns_serial', 'Returns the serial number of the zone', serials.at(-1) ?? 0);
  }
  const name = RCODES[h.rcode] ?? String(h.rcode);
  if (!m.validRcodes.includes(name)) {
    const codes = m.validRcodes.map((c) => RCODES.indexOf(c));
    log.error('Rcode is not one of the valid rcodes', { rcode: h.rcode, string_rcode: name, valid_rcodes: `[${codes.join(' ')}]` });
    return false;
  }
  log.info('Rcode is valid', { rcode: h.rcode, string_rcode: name });
  const checks: [string, readonly string[], RRValidator][] = [
    ['Answer', sections.answer, m.validateAnswer],
    ['Authority', sections.authority, m.validateAuthority],
    ['Additional', sections.additional, m.validateAdditional],
  ];
  for (const [what, rrs, v] of checks) {
    log.info(`Validating ${what} RRs`);
    if (!validRRs(rrs, v, log)) {
      log.error(`${what} RRs validation failed`);
      return false;
    }
  }
  return true;
}
