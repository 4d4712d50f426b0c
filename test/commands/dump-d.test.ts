// sockit dump -d against tcpdump -d (issue 14): the optimised program, byte
// for byte, for every expression of the selection list and more; and the
// optimiser's soundness: the unoptimised and the optimised program give the
// same verdict on every packet of the lab's captures and on seeded random
// frames built to hit the expressions' addresses, ports and protocols (as
// libpcap's does, where no load falls past the captured bytes).
import { spawnSync } from 'node:child_process';
import { createReadStream, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/stack/capture/reader.js';
import { compileFilter, filterFunction, filterImage, runFilter, type Insn } from '../../src/stack/filter/index.js';
import { sockit } from '../helpers/cli.js';
import { mulberry32 } from '../helpers/fuzz.js';
import { Lab, isRoot, needsRootReason } from '../lab/index.js';
import { type Captures, makeCaptures } from './dump-captures.js';
import { MORE_EXPRESSIONS, REJECT_ALL } from './dump-d-expressions.js';
import { EXPRESSIONS } from './dump-expressions.js';

const ALL = [...EXPRESSIONS, ...MORE_EXPRESSIONS];
const ETHERNET = 1;
const SNAPLEN = 262144;

/** tcpdump -d for Ethernet (-y EN10MB: no device, no "assuming Ethernet" warning). */
function tcpdumpD(e: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('tcpdump', ['-y', 'EN10MB', '-d', e], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run f over items, n at a time. */
async function pool<T, R>(items: T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]!);
      }
    }),
  );
  return out;
}

describe('sockit dump -d prints what tcpdump -d prints', () => {
  it(`for ${ALL.length} expressions, every one`, async () => {
    expect(ALL.length).toBeGreaterThanOrEqual(200);
    const results = await pool(ALL, 4, async (e) => {
      const want = tcpdumpD(e);
      const got = await sockit(['dump', '-d', e]);
      return { e, want, got };
    });
    const differ = results.filter((r) => r.got.stdout !== r.want.stdout || r.got.code !== 0 || r.want.code !== 0).map((r) => r.e);
    expect(differ).toEqual([]);
    for (const r of results) expect(r.got.stdout, r.e).toBe(r.want.stdout);
  }, 300_000);

  it('the whole program through, for expressions the optimiser reshapes most', async () => {
    // spot checks that the comparison above is about optimised code: a few
    // instructions where the unoptimised program has many
    for (const [e, most] of [
      ['tcp[tcpflags] & tcp-syn != 0', 12],
      ['udp and len - 42 > 10', 15],
      ['ip[2:2] / 4 < 30', 8],
    ] as const) {
      const got = await sockit(['dump', '-d', e]);
      const lines = got.stdout.trim().split('\n');
      expect(lines.length, e).toBeLessThanOrEqual(most);
      expect(compileFilter(e, ETHERNET, SNAPLEN, false).length, e).toBeGreaterThan(lines.length);
      expect(got.stdout).toBe(tcpdumpD(e).stdout);
    }
  });

  it('for 300 seeded random nestings of primitives with and, or, not and parentheses', () => {
    const r = rng(12345);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    // primitives of every kind, short enough to nest
    const prims = ALL.filter((e) => !/ (and|or) |^not |^!|^\(/.test(e) && e.length < 40);
    expect(prims.length).toBeGreaterThan(100);
    const wrap = (e: string) => (/ (and|or) /.test(e) && r() < 0.7 ? `(${e})` : e);
    const expr = (depth: number): string => {
      const x = r();
      if (depth <= 0 || x < 0.3) return pick(prims);
      if (x < 0.4) return `not ${wrap(expr(depth - 1))}`;
      return `${wrap(expr(depth - 1))} ${r() < 0.5 ? 'and' : 'or'} ${wrap(expr(depth - 1))}`;
    };
    const seen = new Set<string>();
    while (seen.size < 300) seen.add(expr(4));
    const differ: string[] = [];
    let rejected = 0;
    for (const e of seen) {
      const want = tcpdumpD(e);
      let got: string;
      try {
        got = filterImage(compileFilter(e, ETHERNET, SNAPLEN));
      } catch (err) {
        got = `sockit: ${(err as Error).message}`;
      }
      if (want.code !== 0) {
        // both refuse it, for the same reason
        if (!(want.stderr.includes('rejects all packets') && got.endsWith('rejects all packets'))) differ.push(e);
        rejected++;
      } else if (got !== want.stdout) differ.push(e);
    }
    expect(differ).toEqual([]);
    expect(rejected).toBeLessThan(150);
  }, 120_000);

  it('refuses what rejects every packet, as pcap_compile does, in one line, exit 2', async () => {
    for (const e of REJECT_ALL) {
      const want = tcpdumpD(e);
      expect(want.stderr.trim()).toBe('tcpdump: expression rejects all packets');
      const got = await sockit(['dump', '-d', e]);
      expect(got.stdout, e).toBe('');
      expect(got.stderr, e).toBe('sockit dump: expression rejects all packets\n');
      expect(got.code, e).toBe(2);
    }
  });

  it('keeps a bad expression one line, exit 2', async () => {
    for (const e of ['tcp and', 'ip[2:2] / 0 = 1', 'ip[0] % 0 = 1', 'ip[0] << 40 = 0', 'vlan 5000', 'tcp port domain-x', 'ether', 'link and ip']) {
      const got = await sockit(['dump', '-d', e]);
      expect(got.code, e).toBe(2);
      expect(got.stdout, e).toBe('');
      expect(got.stderr.split('\n').filter(Boolean), e).toHaveLength(1);
      expect(got.stderr, e).toMatch(/^sockit dump: /);
      expect(tcpdumpD(e).code, e).not.toBe(0);
    }
  });
});

// ---------- soundness: the same verdicts, optimised or not ----------

/** The same frames on every run. */
const rng = mulberry32;

/** Ethernet frames that the expressions' tests can go either way on: their addresses, ports, protocols, VLANs, fragments, truncation. */
function randomFrames(count: number, seed: number): { data: Uint8Array; len: number }[] {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytes = (n: number) => Array.from({ length: n }, () => int(256));
  const v4 = () =>
    r() < 0.85
      ? pick([
          [192, 0, 2, 1],
          [192, 0, 2, 2],
          [192, 0, 2, 3],
          [192, 0, 2, 17],
          [192, 0, 2, 33],
          [192, 0, 2, 40],
          [198, 51, 100, 1],
          [198, 51, 100, 2],
          [203, 0, 113, 5],
          [10, 1, 2, 3],
          [172, 16, 0, 1],
          [224, 0, 0, 1],
          [192, 0, 2, 201],
        ])
      : bytes(4);
  const v6 = () => {
    const p = pick([
      '20010db8000000000000000000000001',
      '20010db8000000000000000000000002',
      '20010db8000000010000000000000001',
      '20010db8000100020003000000000005',
      'ff020000000000000000000000000001',
      'fe800000000000000000000000000001',
    ]);
    return r() < 0.85 ? [...Buffer.from(p, 'hex')] : bytes(16);
  };
  const port = () => (r() < 0.85 ? pick([22, 53, 80, 123, 443, 1023, 1024, 5000, 5001, 5002, 8080, 9, 9999, 33434, 33500, 65535, 3, 50, 100]) : int(65536));
  const u16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
  const transport = (proto: number): number[] => {
    if (proto === 6)
      return [
        ...u16(port()),
        ...u16(port()),
        ...bytes(8),
        r() < 0.5 ? 0x50 : int(256),
        r() < 0.6 ? pick([0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0xc2]) : int(256),
        ...bytes(6),
        ...(r() < 0.3
          ? pick([
              [0x68, 0x65],
              [0x47, 0x45, 0x54, 0x20],
            ])
          : bytes(int(8))),
      ];
    if (proto === 17 || proto === 132) {
      const payload = r() < 0.3 ? pick([[0x10, 0x92], [0x01], [0x1b, 0x00], [0, 0, 0, 0]]) : [];
      return [...u16(port()), ...u16(port()), ...u16(8 + int(100)), 0, 0, ...payload, ...bytes(int(12))];
    }
    if (proto === 1 || proto === 58)
      return [r() < 0.8 ? pick(proto === 1 ? [0, 3, 8, 11, 5] : [128, 129, 133, 134, 135, 136, 1]) : int(256), pick([0, 1, 3]), 0, 0, ...bytes(int(12))];
    return bytes(int(20));
  };
  const frames: { data: Uint8Array; len: number }[] = [];
  for (let i = 0; i < count; i++) {
    const dst = r() < 0.2 ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] : r() < 0.2 ? [0x01, 0x00, 0x5e, 0, 0, 1] : r() < 0.3 ? [2, 0, 0, 0, 0, 1] : bytes(6);
    const src = r() < 0.4 ? [2, 0, 0, 0, 0, 1] : bytes(6);
    const f: number[] = [...dst, ...src];
    for (let tags = r() < 0.15 ? 1 + int(2) : 0; tags > 0; tags--)
      f.push(...u16(pick([0x8100, 0x8100, 0x88a8, 0x9100])), ...u16(((int(8) << 13) | pick([10, 20, 30, 100, int(4096)])) & 0xffff));
    const kind = r();
    if (kind < 0.45) {
      const proto = r() < 0.9 ? pick([6, 17, 1, 132, 2, 50]) : int(256);
      const ihl = r() < 0.8 ? 5 : 5 + int(11);
      const frag = r() < 0.7 ? (r() < 0.5 ? 0x4000 : 0) : r() < 0.5 ? 0x2000 : int(0x2000);
      const body = transport(proto);
      const total = 4 * ihl + body.length;
      f.push(
        0x08,
        0x00,
        r() < 0.9 ? 0x40 | ihl : int(256),
        int(256),
        ...u16(r() < 0.8 ? total : int(3000)),
        ...bytes(2),
        ...u16(frag),
        r() < 0.7 ? pick([1, 2, 64, 255]) : int(256),
        proto,
        0,
        0,
        ...v4(),
        ...v4(),
      );
      f.push(...bytes(4 * ihl - 20), ...body);
    } else if (kind < 0.75) {
      let nh = r() < 0.9 ? pick([6, 17, 58, 44, 0, 132]) : int(256);
      const ext: number[] = [];
      if (nh === 44) {
        const inner = pick([6, 17, 58, 132]);
        ext.push(inner, 0, ...bytes(6));
        nh = 44;
        const body = transport(inner);
        f.push(0x86, 0xdd, 0x60, 0, 0, 0, ...u16(8 + body.length), nh, pick([1, 64, 255]), ...v6(), ...v6(), ...ext, ...body);
      } else {
        const body = transport(nh);
        f.push(0x86, 0xdd, 0x60, 0, 0, 0, ...u16(body.length), nh, pick([1, 64, 255]), ...v6(), ...v6(), ...body);
      }
    } else if (kind < 0.87) {
      f.push(...u16(r() < 0.8 ? 0x0806 : 0x8035), 0, 1, 8, 0, 6, 4, 0, pick([1, 2, 3, 4]), ...src, ...v4(), ...bytes(6), ...v4());
    } else if (kind < 0.93) {
      f.push(...u16(int(1501)), ...bytes(int(40)));
    } else {
      f.push(...u16(r() < 0.5 ? pick([0x88cc, 0x86dd, 0x0800, 0x8100]) : int(65536)), ...bytes(int(60)));
    }
    const wire = f.length + (r() < 0.2 ? int(1500) : 0);
    const cut = r() < 0.1 ? int(f.length) : f.length;
    frames.push({ data: Uint8Array.from(f.slice(0, cut)), len: wire });
  }
  return frames;
}

/** Both programs for each expression, and each compiled to a function (what dump runs). */
function programs(): { e: string; plain: Insn[]; opt: Insn[]; fplain: (d: Uint8Array, l: number) => number; fopt: (d: Uint8Array, l: number) => number }[] {
  return ALL.map((e) => {
    const plain = compileFilter(e, ETHERNET, SNAPLEN, false),
      opt = compileFilter(e, ETHERNET, SNAPLEN);
    return { e, plain, opt, fplain: filterFunction(plain), fopt: filterFunction(opt) };
  });
}

/** The frame with zeros after its bytes: no load of any of these programs can fall outside it. */
function padded(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.max(2048, data.length));
  out.set(data);
  return out;
}

/**
 * Where the two programs disagree. libpcap's optimiser keeps a program's
 * meaning for the bytes it reads, not the points where a read past the
 * captured bytes ends the run (it drops loads whose value it knows, hoists
 * others): so the verdicts must agree on every frame made long enough for
 * every load, and on a frame as captured they may differ only where one of
 * the programs read past its end (its verdict changes when the frame is
 * padded).
 */
function compare(progs: ReturnType<typeof programs>, frames: { data: Uint8Array; len: number }[]) {
  const differ: string[] = [];
  const unexplained: string[] = [];
  // the compiled functions against the interpreter: the same verdict on every frame, padded or not
  const compiled: string[] = [];
  let accepted = 0,
    verdicts = 0,
    pastTheEnd = 0;
  for (const { e, plain, opt, fplain, fopt } of progs) {
    for (let i = 0; i < frames.length; i++) {
      const { data, len } = frames[i]!;
      const long = padded(data);
      const pa = runFilter(plain, long, len),
        pb = runFilter(opt, long, len);
      verdicts++;
      if (pa) accepted++;
      if (pa !== pb) differ.push(`${e} on frame ${i}: ${pa} unoptimised, ${pb} optimised (padded)`);
      const a = runFilter(plain, data, len),
        b = runFilter(opt, data, len);
      for (const [what, want, got] of [
        ['unoptimised', a, fplain(data, len)],
        ['optimised', b, fopt(data, len)],
        ['unoptimised, padded', pa, fplain(long, len)],
        ['optimised, padded', pb, fopt(long, len)],
      ] as const)
        if (got !== want) compiled.push(`${e} on frame ${i} (${what}): ${want} interpreted, ${got} compiled`);
      if (a !== b) {
        if (a !== pa || b !== pb) pastTheEnd++;
        else unexplained.push(`${e} on frame ${i}: ${a} unoptimised, ${b} optimised`);
      }
    }
  }
  return { differ, unexplained, compiled, accepted, verdicts, pastTheEnd };
}

describe('the optimised program selects what the unoptimised one does, and compiled to a function what the interpreter does', () => {
  it(`on 8000 seeded random frames, for ${ALL.length} expressions`, () => {
    const progs = programs();
    const frames = randomFrames(8000, 14);
    const { differ, unexplained, compiled, accepted, verdicts, pastTheEnd } = compare(progs, frames);
    expect(differ.slice(0, 10)).toEqual([]);
    expect(unexplained.slice(0, 10)).toEqual([]);
    expect(compiled.slice(0, 10)).toEqual([]);
    // truncated frames (a tenth of them) do meet reads past the end
    expect(pastTheEnd).toBeGreaterThan(0);
    // the frames exercise both outcomes: between 2% and 80% of verdicts accept
    expect(accepted).toBeGreaterThan(verdicts * 0.02);
    expect(accepted).toBeLessThan(verdicts * 0.8);
    // and every expression that tests packet contents is decided both ways somewhere
    const oneWay = progs.filter(({ plain }) => {
      const v = new Set(frames.map((f) => runFilter(plain, f.data, f.len) !== 0));
      return v.size < 2;
    });
    expect(oneWay.map((p) => p.e)).toEqual([]);
  });

  describe.skipIf(!isRoot)(`on the lab's captures (${isRoot ? 'namespaces' : needsRootReason})`, () => {
    let lab: Lab;
    let c: Captures;
    beforeAll(async () => {
      lab = await Lab.chain({ routers: 1, ipv6: true, name: 'dumpd' });
      c = await makeCaptures(lab);
    }, 120_000);
    afterAll(async () => {
      await lab?.close();
      if (c) rmSync(c.dir, { recursive: true, force: true });
    });

    it(`every packet of the pcap and pcapng files, for ${ALL.length} expressions`, async () => {
      const progs = programs();
      let total = 0;
      for (const file of [c.us, c.ng]) {
        const frames: { data: Uint8Array; len: number }[] = [];
        for await (const ev of readCapture(createReadStream(file))) {
          if (ev.kind === 'packet' && ev.packet.linktype === ETHERNET) frames.push({ data: ev.packet.data, len: ev.packet.len });
        }
        expect(frames.length, file).toBeGreaterThan(30);
        total += frames.length;
        const { differ, unexplained, compiled, accepted } = compare(progs, frames);
        expect(differ.slice(0, 10), file).toEqual([]);
        expect(unexplained.slice(0, 10), file).toEqual([]);
        expect(compiled.slice(0, 10), file).toEqual([]);
        expect(accepted, file).toBeGreaterThan(0);
      }
      expect(total).toBeGreaterThan(60);
    });
  });
});
