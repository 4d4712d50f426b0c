// The prober core's pure parts: blackbox.yml as blackbox_exporter reads it,
// the probe timeout, the address hash, query_response expansion, the history.
import { describe, expect, it } from 'vitest';
import { ConfigError, goRegexp, parseConfig, parseGoDuration } from '../../src/stack/prober/config.js';
import { validRRs } from '../../src/stack/prober/dns.js';
import { decodeSections } from '../../src/stack/prober/dnsrr.js';
import { ProbeLog } from '../../src/stack/prober/log.js';
import { probeTimeoutS, ResultHistory } from '../../src/stack/prober/index.js';
import { logfmtValue } from '../../src/stack/prober/log.js';
import { expand } from '../../src/stack/prober/query.js';
import { ipHash } from '../../src/stack/prober/resolve.js';
import { splitHostPort } from '../../src/stack/prober/types.js';

const sample = `
modules:
  icmp:
    prober: icmp
  icmp_v4_df:
    prober: icmp
    timeout: 1500ms
    icmp:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      source_ip_address: 192.0.2.1
      payload_size: 100
      dont_fragment: true
      ttl: 12
  ssh_banner:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
        - expect: "^SSH-2.0-"
        - send: "SSH-2.0-blackbox-ssh-check"
  web:
    prober: http
    http:
      valid_status_codes: []
targets:
  - hosts: [192.0.2.1, 2001:db8::1]
    interval: 2s
    network: ip
    size: 32
`;

describe('parseConfig (blackbox.yml)', () => {
  const c = parseConfig(sample);

  it("takes blackbox_exporter's defaults: ip6 preferred, fallback on, TTL 64, no timeout", () => {
    const m = c.modules.get('icmp')!;
    expect(m.prober).toBe('icmp');
    expect(m.timeoutS).toBe(0);
    expect(m.icmp).toEqual({ preferredIpProtocol: 'ip6', ipProtocolFallback: true, sourceIpAddress: undefined, payloadSize: 0, dontFragment: false, ttl: 64 });
  });

  it('reads every icmp key', () => {
    const m = c.modules.get('icmp_v4_df')!;
    expect(m.timeoutS).toBe(1.5);
    expect(m.icmp).toEqual({
      preferredIpProtocol: 'ip4',
      ipProtocolFallback: false,
      sourceIpAddress: '192.0.2.1',
      payloadSize: 100,
      dontFragment: true,
      ttl: 12,
    });
  });

  it('reads query_response and keeps foreign probers (http) unchecked', () => {
    const q = c.modules.get('ssh_banner')!.tcp.queryResponse;
    expect(q.map((x) => [x.expectText, x.send])).toEqual([
      ['^SSH-2.0-', undefined],
      [undefined, 'SSH-2.0-blackbox-ssh-check'],
    ]);
    expect(q[0]!.expect!.test('SSH-2.0-OpenSSH_9.2')).toBe(true);
    expect(c.modules.get('web')!.prober).toBe('http');
  });

  it("reads smokeping_prober's target groups", () => {
    expect(c.targets).toEqual([{ hosts: ['192.0.2.1', '2001:db8::1'], intervalMs: 2000, network: 'ip', size: 32, source: undefined }]);
  });

  it('names an unknown key, with its line', () => {
    const bad = 'modules:\n  icmp:\n    prober: icmp\n    icmp:\n      preferred_ip_protocol: ip4\n      tll: 3\n';
    expect(() => parseConfig(bad)).toThrow(ConfigError);
    expect(() => parseConfig(bad)).toThrow('line 6: field tll not found in module "icmp".icmp');
    expect(() => parseConfig('modules:\n  x:\n    probr: icmp\n')).toThrow('line 3: field probr not found in module "x"');
    expect(() => parseConfig('modulez: {}\n')).toThrow('field modulez not found');
    expect(() => parseConfig('targets:\n  - hosts: [a]\n    labels: {}\n')).toThrow('field labels not found in targets[0]');
  });

  it('refuses what blackbox_exporter refuses, in its words', () => {
    expect(() => parseConfig('modules:\n  x:\n    prober: icmp\n    icmp:\n      ttl: 256\n')).toThrow('"ttl" cannot exceed 255');
    expect(() => parseConfig('modules:\n  x:\n    prober: icmp\n    icmp:\n      ttl: -1\n')).toThrow('"ttl" cannot be negative');
    expect(() => parseConfig('modules:\n  x:\n    prober: dns\n')).toThrow('query name must be set for DNS module');
    expect(() => parseConfig('modules:\n  x:\n    prober: tcp\n    timeout: 5 s\n')).toThrow('time: invalid duration "5 s"');
    expect(() => parseConfig('modules:\n  x:\n    prober: tcp\n    tcp:\n      query_response:\n        - expect: "("\n')).toThrow(
      'Could not compile regular expression',
    );
    expect(() => parseConfig('modules:\n  x:\n    prober: tcp\n    tcp:\n      tls: true\n')).toThrow(/tls.*not supported/);
    expect(() => parseConfig('modules: [\n')).toThrow(ConfigError);
  });

  it('an empty file has no modules', () => {
    expect(parseConfig('').modules.size).toBe(0);
  });
});

describe('Go durations', () => {
  it('parses what time.ParseDuration takes', () => {
    expect(parseGoDuration('5s')).toBe(5);
    expect(parseGoDuration('1m30s')).toBe(90);
    expect(parseGoDuration('250ms')).toBe(0.25);
    expect(parseGoDuration('1.5h')).toBe(5400);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('5')).toBeUndefined();
    expect(parseGoDuration('')).toBeUndefined();
    expect(parseGoDuration('s')).toBeUndefined();
  });
});

describe('probeTimeoutS (getTimeout)', () => {
  const mod = (timeoutS: number) => ({ ...parseConfig('modules:\n  x:\n    prober: icmp\n').modules.get('x')!, timeoutS });
  it("takes the scrape's timeout minus the offset, or the module's when shorter", () => {
    expect(probeTimeoutS('10', mod(0), 0.5)).toBe(9.5);
    expect(probeTimeoutS('10', mod(5), 0.5)).toBe(5);
    expect(probeTimeoutS('10', mod(20), 0.5)).toBe(9.5);
    expect(probeTimeoutS(undefined, mod(0), 0.5)).toBe(119.5);
    expect(probeTimeoutS('0.2', mod(3), 0.5)).toBe(3);
    expect(probeTimeoutS('abc', mod(3), 0.5)).toBeUndefined();
  });
});

describe('helpers', () => {
  it('hashes addresses with FNV-1a over their bytes (probe_ip_addr_hash)', () => {
    // FNV-1a 32 of the bytes 7f 00 00 01, worked by hand from the FNV definition
    let h = 0x811c9dc5;
    for (const b of [127, 0, 0, 1]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    expect(ipHash('127.0.0.1')).toBe(h);
    expect(ipHash('::1')).not.toBe(ipHash('::2'));
  });

  it('expands $1, ${1}, ${name} and $$ as Go Regexp.Expand', () => {
    const m = /^(?<greet>\w+) (\w+)$/.exec('hello world')!;
    expect(expand('say $2 ${1} ${greet} $$ $9', m)).toBe('say world hello hello $ ');
  });

  it('splits host and port as net.SplitHostPort', () => {
    expect(splitHostPort('192.0.2.1:22')).toEqual({ host: '192.0.2.1', port: '22' });
    expect(splitHostPort('[2001:db8::1]:53')).toEqual({ host: '2001:db8::1', port: '53' });
    expect(splitHostPort('2001:db8::1')).toBeNull();
    expect(splitHostPort('host')).toBeNull();
  });

  it('quotes logfmt values that need it', () => {
    expect(logfmtValue('plain')).toBe('plain');
    expect(logfmtValue('two words')).toBe('"two words"');
    expect(logfmtValue('')).toBe('""');
    expect(logfmtValue('a="b"')).toBe('"a=\\"b\\""');
  });

  it('keeps the last results and the failures pushed out (history.go)', () => {
    const h = new ResultHistory(2);
    h.add('m', 'a', 'da', false);
    h.add('m', 'b', 'db', true);
    h.add('m', 'c', 'dc', true);
    h.add('m', 'd', 'dd', true);
    expect(h.list().map((r) => r.target)).toEqual(['a', 'c', 'd']);
    expect(h.get(0)?.debug).toBe('da');
    expect(h.get(1)).toBeUndefined();
  });
});

describe('DNS records as miekg/dns writes them (validate_*_rrs)', () => {
  /** A reply built by hand: header, one question, then the records (names compressed against the question's at offset 12). */
  function reply(records: [number, Buffer][], counts: [number, number, number]): Buffer {
    const name = (n: string) =>
      Buffer.concat([...n.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
    const head = Buffer.alloc(12);
    head.writeUInt16BE(0x8180, 2);
    head.writeUInt16BE(1, 4);
    counts.forEach((c, i) => head.writeUInt16BE(c, 6 + 2 * i));
    const q = Buffer.concat([name('zone.example'), Buffer.from([0, 1, 0, 1])]);
    const rrs = records.map(([type, data]) => {
      const h = Buffer.alloc(10);
      h.writeUInt16BE(type, 0);
      h.writeUInt16BE(1, 2);
      h.writeUInt32BE(300, 4);
      h.writeUInt16BE(data.length, 8);
      return Buffer.concat([Buffer.from([0xc0, 12]), h, data]);
    });
    return Buffer.concat([head, q, ...rrs]);
  }
  const ptr = Buffer.from([0xc0, 12]);

  it('writes each section record by record: A, AAAA (v4-mapped too), names through pointers, MX, TXT, SOA, SRV, unknown types', () => {
    const soa = Buffer.concat([
      Buffer.from([2, 0x6e, 0x73]),
      ptr,
      Buffer.from([1, 0x40]),
      ptr,
      Buffer.from([0, 0, 0, 7, 0, 0, 0, 8, 0, 0, 0, 9, 0, 0, 0, 10, 0, 0, 0, 11]),
    ]);
    const msg = reply(
      [
        [1, Buffer.from([192, 0, 2, 1])],
        [28, Buffer.from('20010db8000000000000000000000001', 'hex')],
        [28, Buffer.from('00000000000000000000ffffc0000201', 'hex')],
        [5, ptr],
        [15, Buffer.concat([Buffer.from([0, 10]), ptr])],
        [16, Buffer.from('\x05a "b"\x02\x01z', 'latin1')],
        [6, soa],
        [33, Buffer.concat([Buffer.from([0, 1, 0, 2, 0x13, 0xc4]), ptr])],
        [99, Buffer.from([0xab, 0xcd])],
      ],
      [2, 3, 4],
    );
    expect(decodeSections(msg)).toEqual({
      question: [';zone.example.\tIN\t A'],
      answer: ['zone.example.\t300\tIN\tA\t192.0.2.1', 'zone.example.\t300\tIN\tAAAA\t2001:db8::1'],
      authority: [
        'zone.example.\t300\tIN\tAAAA\t::ffff:192.0.2.1',
        'zone.example.\t300\tIN\tCNAME\tzone.example.',
        'zone.example.\t300\tIN\tMX\t10 zone.example.',
      ],
      additional: [
        'zone.example.\t300\tIN\tTXT\t"a \\"b\\"" "\\001z"',
        'zone.example.\t300\tIN\tSOA\tns.zone.example. \\@.zone.example. 7 8 9 10 11',
        'zone.example.\t300\tIN\tSRV\t1 2 5060 zone.example.',
        'zone.example.\t300\tIN\tTYPE99\t\\# 2 abcd',
      ],
    });
  });

  it('refuses a truncated record and a pointer loop', () => {
    const msg = reply([[1, Buffer.from([192, 0, 2, 1])]], [1, 0, 0]);
    expect(() => decodeSections(msg.subarray(0, msg.length - 2))).toThrow(/past the end/);
    const loop = Buffer.from(msg);
    loop.writeUInt16BE(0xc000 | (msg.length - 16), msg.length - 16);
    expect(() => decodeSections(loop)).toThrow(/compression|past the end/);
  });

  it("validRRs: blackbox_exporter's four rules (fail_if_all_match_regexp fails unless every record matches)", () => {
    const rrs = ['a.\t300\tIN\tA\t192.0.2.1', 'a.\t300\tIN\tA\t192.0.2.2'];
    const v = (o: Partial<Record<'failIfMatchesRegexp' | 'failIfAllMatchRegexp' | 'failIfNotMatchesRegexp' | 'failIfNoneMatchesRegexp', string[]>>) => ({
      failIfMatchesRegexp: [],
      failIfAllMatchRegexp: [],
      failIfNotMatchesRegexp: [],
      failIfNoneMatchesRegexp: [],
      ...o,
    });
    const run = (records: string[], o: Parameters<typeof v>[0]) => {
      const log = new ProbeLog('m', 't');
      const ok = validRRs(records, v(o), log);
      return [ok, log.lines.filter((l) => l.includes('level=error')).map((l) => /msg="([^"]+)"/.exec(l)![1])];
    };
    expect(run(rrs, {})).toEqual([true, []]);
    expect(run(rrs, { failIfMatchesRegexp: ['\\.2$'] })).toEqual([false, ['At least one RR matched regexp']]);
    expect(run(rrs, { failIfAllMatchRegexp: ['\\.2$'] })).toEqual([false, ['Not all RRs matched regexp']]);
    expect(run(rrs, { failIfAllMatchRegexp: ['192'] })).toEqual([true, []]);
    expect(run(rrs, { failIfNotMatchesRegexp: ['\\.1$'] })).toEqual([false, ['At least one RR did not match regexp']]);
    expect(run(rrs, { failIfNoneMatchesRegexp: ['\\.3$'] })).toEqual([false, ['None of the RRs did matched any regexp']]);
    expect(run(rrs, { failIfNoneMatchesRegexp: ['(?i)IN\\tA\\t192\\.0\\.2\\.2'] })).toEqual([true, []]);
    expect(run([], { failIfNotMatchesRegexp: ['x'] })).toEqual([false, ['fail_if_not_matches_regexp specified but no RRs returned']]);
    expect(run([], { failIfNoneMatchesRegexp: ['x'] })).toEqual([false, ['fail_if_none_matches_regexp specified but no RRs returned']]);
    expect(run([], { failIfAllMatchRegexp: ['x'], failIfMatchesRegexp: ['x'] })).toEqual([true, []]);
    expect(run(rrs, { failIfMatchesRegexp: ['(?<'] })).toEqual([false, ['Error matching regexp']]);
  });

  it('reads the validate_*_rrs sections; Go flag groups become JavaScript flags', () => {
    const c = parseConfig(
      'modules:\n  d:\n    prober: dns\n    dns:\n      query_name: x\n      validate_answer_rrs:\n        fail_if_matches_regexp: [a]\n        fail_if_all_match_regexp: [b]\n      validate_additional_rrs:\n        fail_if_not_matches_regexp: [c]\n        fail_if_none_matches_regexp: [d]\n',
    );
    const d = c.modules.get('d')!.dns;
    expect(d.validateAnswer).toEqual({ failIfMatchesRegexp: ['a'], failIfAllMatchRegexp: ['b'], failIfNotMatchesRegexp: [], failIfNoneMatchesRegexp: [] });
    expect(d.validateAuthority.failIfMatchesRegexp).toEqual([]);
    expect(d.validateAdditional).toMatchObject({ failIfNotMatchesRegexp: ['c'], failIfNoneMatchesRegexp: ['d'] });
    expect(() => parseConfig('modules:\n  d:\n    prober: dns\n    dns:\n      query_name: x\n      dns_over_tls: true\n')).toThrow(
      /^line 6: dns_over_tls is not supported by sockit exporter/,
    );
    expect(parseConfig('modules:\n  d:\n    prober: dns\n    dns:\n      query_name: x\n      dns_over_tls: false\n').modules.size).toBe(1);
    expect(goRegexp('(?is)^a.b').test('A\nB')).toBe(true);
    expect(goRegexp('^a').test('A')).toBe(false);
  });
});
