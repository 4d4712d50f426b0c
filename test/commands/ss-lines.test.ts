// ss's numeric listing in WebAssembly (src/commands/ss/lines.c, lines.ts)
// against the listing in JavaScript (fast.ts) on the same datagrams from a
// fake kernel (a socketpair): the same bytes in every column layout, the same
// reports of malformed replies, the same outcome of the dump. The listing
// against ss itself on real sockets is in inventory.test.ts (sockit ss -tan
// takes this path there); the committed module is what lines.c builds to.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '../../src/stack/native/index.js';
import * as C from '../../src/stack/constants.js';
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLM_F_MULTI, nlmsghdr } from '../../src/stack/abi/netlink.js';
import { ALL_STATES, Inventory } from '../../src/stack/inventory/index.js';
import { TCPDIAG_GETSOCK } from '../../src/stack/abi/sock_diag.js';
import { NetlinkSocket } from '../../src/stack/netlink/socket.js';
import { FastInetTable } from '../../src/commands/ss/fast.js';
import { InetLines } from '../../src/commands/netstat/fast.js';
import { WasmInetLines } from '../../src/commands/netstat/lines.js';
import type { Flags } from '../../src/commands/netstat/text.js';
import { ByteLines } from '../../src/output/bytes.js';
import { WasmInetTable } from '../../src/commands/ss/lines.js';
import { COL, type Layout } from '../../src/commands/ss/columns.js';
import { parseAddress } from '../../src/stack/packet/addr.js';

const root = join(import.meta.dirname, '..', '..');

/** a fake kernel: answers the next request with `datagrams(seq)`, sent as the reader reads them */
function fakeKernel(datagrams: (seq: number, type: number) => Buffer[]) {
  const [ours, theirs] = native.socketpair(C.AF_UNIX, C.SOCK_DGRAM, 0);
  const buf = Buffer.alloc(4096);
  const got = { type: -1 };
  const serve = (async () => {
    let n = -1;
    for (let i = 0; i < 400 && n <= 16; i++) {
      n = native.recvmsgFast(theirs, buf, 0);
      if (n <= 16) await new Promise((r) => setTimeout(r, 5));
    }
    if (n <= 16) throw new Error('no request');
    got.type = buf.readUInt16LE(4);
    for (const d of datagrams(buf.readUInt32LE(8), buf.readUInt16LE(4))) {
      // a datagram socketpair queues a few: wait for the reader when it is full
      for (;;) {
        try {
          if (native.sendto(theirs, d, 0, null) >= 0) break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        }
        await new Promise((r) => setImmediate(r));
      }
    }
  })();
  return { inv: new Inventory(undefined, NetlinkSocket.adopt(ours)), serve, got, close: () => native.close(theirs) };
}

const msg = (type: number, seq: number, payload: Buffer, flags = NLM_F_MULTI) => nlmsghdr.encode({ type, flags, seq, pid: 0 }, payload);

/** a small deterministic generator */
function random(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  };
}

const V4 = ['127.0.0.1', '0.0.0.0', '192.0.2.7', '198.51.100.200', '203.0.113.1'];
const V6 = ['::1', '::', '2001:db8::1', '2001:db8:0:1:2:3:4:5', '::ffff:192.0.2.9', 'fe80::1'];

function addressBytes(text: string): Buffer {
  const b = Buffer.alloc(16);
  parseAddress(text)!.copy(b);
  return b;
}

/** one inet_diag_msg with a v6only attribute on some IPv6 ones (of `only` family, or either) */
function socketMessage(r: (n: number) => number, only?: 2 | 10): Buffer {
  const f = r(3) ? 2 : 10;
  const family = only ?? f;
  const list = family === 2 ? V4 : V6;
  const m = Buffer.alloc(72);
  m[0] = family;
  m[1] = [1, 1, 1, 10, 6, 8, 2, 3, 4, 5, 7, 9, 11, 0, 13][r(15)]!; // states, an unknown one (13) too
  m.writeUInt16BE([0, 22, 80, 443, 8080, 65535, 1 + r(65535)][r(7)]!, 4);
  m.writeUInt16BE(r(4) ? 1 + r(65535) : 0, 6);
  addressBytes(list[r(list.length)]!).copy(m, 8);
  addressBytes(list[r(list.length)]!).copy(m, 24);
  m.writeUInt32LE(r(6) === 0 ? 1 : r(8) === 0 ? 77 : 0, 40); // lo, an index without a name, none
  m.writeUInt32LE([0, 0, 0, 5, 999999, 1000000, 4294967295][r(7)]!, 56);
  m.writeUInt32LE([0, 0, 17, 123456, 98765432][r(5)]!, 60);
  if (family === 10 && r(2)) {
    const a = Buffer.alloc(8);
    a.writeUInt16LE(5, 0);
    a.writeUInt16LE(11, 2); // INET_DIAG_SKV6ONLY
    a[4] = r(2);
    return Buffer.concat([m, a]);
  }
  return m;
}

/** replies to pack into datagrams of at most 64 KiB: sockets, and what `extra` adds at the k-th */
function dump(count: number, seed: number, extra?: (k: number, seq: number, type: number) => Buffer[], family?: 2 | 10) {
  return (seq: number, type: number): Buffer[] => {
    const r = random(seed);
    const out: Buffer[] = [];
    let cur: Buffer[] = [];
    let size = 0;
    const put = (m: Buffer) => {
      if (size + m.length > 60000) {
        out.push(Buffer.concat(cur));
        cur = [];
        size = 0;
      }
      cur.push(m);
      size += m.length;
    };
    for (let k = 0; k < count; k++) {
      for (const m of extra?.(k, seq, type) ?? []) put(m);
      put(msg(type, seq, socketMessage(r, family)));
    }
    put(msg(NLMSG_DONE, seq, Buffer.alloc(4)));
    out.push(Buffer.concat(cur));
    return out;
  };
}

interface Run {
  out: string;
  src: string | null;
  reports: string[];
  received: number;
}

interface Shape {
  layout: Layout;
  header: boolean;
  netid: boolean;
  state: boolean;
  screen: number | null;
}

const IFNAME = (i: number) => (i === 1 ? 'lo' : undefined);

async function list(how: 'js' | 'wasm', datagrams: (seq: number, type: number) => Buffer[], shape: Shape): Promise<Run> {
  const k = fakeKernel(datagrams);
  const chunks: Buffer[] = [];
  const write = (b: Buffer) => void chunks.push(Buffer.from(b));
  const disabled = new Array<boolean>(10).fill(false);
  disabled[COL.NETID] = !shape.netid;
  disabled[COL.STATE] = !shape.state;
  let src: string | null;
  try {
    if (how === 'js') {
      const t = new FastInetTable(disabled, write, shape.screen, shape.layout, { numeric: true, processes: false, ifname: IFNAME });
      if (shape.header) t.header();
      src = await k.inv.tcpRaw(ALL_STATES, (b, at, n) => t.messages(b, at, n, 'tcp'));
      t.render();
    } else {
      const t = WasmInetTable.create(disabled, write, shape.screen, shape.layout, IFNAME)!;
      expect(t).not.toBeNull();
      if (shape.header) t.headerLine();
      src = await k.inv.tcpDatagrams(ALL_STATES, t.reader);
      t.render();
    }
    await k.serve;
    expect(k.got.type).toBe(TCPDIAG_GETSOCK); // the one walk of both families
  } finally {
    k.inv.close();
    k.close();
  }
  return {
    out: Buffer.concat(chunks).toString('latin1'),
    src,
    reports: k.inv.reports.map((r) => JSON.stringify(r)),
    received: k.inv.received,
  };
}

async function same(datagrams: (seq: number, type: number) => Buffer[], shape: Shape): Promise<Run> {
  const js = await list('js', datagrams, shape);
  const wasm = await list('wasm', datagrams, shape);
  expect(wasm.out.length).toBe(js.out.length);
  expect(wasm.out).toBe(js.out);
  expect(wasm.src).toBe(js.src);
  expect(wasm.reports).toEqual(js.reports);
  expect(wasm.received).toBe(js.received);
  return js;
}

const plain: Shape = { layout: 'fixed', header: true, netid: false, state: true, screen: null };

describe('ss lines in WebAssembly against fast.ts', () => {
  it('the same bytes for every column layout, header, hidden column and screen width', async () => {
    let seed = 1;
    for (const layout of ['fixed', '6.1'] as const)
      for (const header of [true, false])
        for (const [netid, state] of [
          [false, true],
          [true, true],
          [false, false],
          [true, false],
        ] as const)
          for (const screen of [null, 80, 200, 40]) {
            const r = await same(dump(300, seed++), { layout, header, netid, state, screen });
            expect(r.src).toBe('netlink');
            expect(r.out.split('\n').length).toBe(300 + (header ? 1 : 0) + 1);
          }
  });

  it('IPv6 lines after the IPv4 ones, scoped addresses (%lo), v4-mapped and v6only addresses, unknown states, queues past six digits', async () => {
    const r = await same(dump(2000, 42), plain);
    const lines = r.out.split('\n').slice(1, -1);
    const firstV6 = lines.findIndex((l) => /\[|::/.test(l.split(/\s+/)[3] ?? ''));
    expect(firstV6).toBeGreaterThan(0);
    expect(lines.slice(firstV6).every((l) => /\[|\*:/.test(l))).toBe(true);
    expect(r.out).toContain('%lo:');
    expect(r.out).toContain('[::ffff:192.0.2.9]:');
    expect(r.out).toContain('UNKNOWN');
    expect(r.out).toContain('4294967295');
  });

  it('renders where ss renders (4 MiB of tokens) in the middle of a dump', async () => {
    const r = await same(dump(90_000, 7), { ...plain, layout: '6.1' });
    expect(r.out.split('\n').length).toBe(90_000 + 2);
  });

  it('malformed replies reported and left out, late replies, NOOP and ACK skipped, as the JavaScript walk does', async () => {
    const bad = (k: number, seq: number, type: number): Buffer[] => {
      if (k % 97 === 5) return [msg(type, seq, Buffer.alloc(40))]; // shorter than inet_diag_msg
      if (k % 97 === 6) {
        const m = Buffer.alloc(72);
        m[0] = 7; // neither AF_INET nor AF_INET6
        return [msg(type, seq, m)];
      }
      if (k % 97 === 7) {
        const m = Buffer.alloc(80);
        m[0] = 2;
        m.writeUInt16LE(40, 72); // an attribute longer than the message
        return [msg(type, seq, m)];
      }
      if (k % 97 === 8) return [msg(type, seq + 1, Buffer.alloc(72))]; // a late reply to another request
      if (k % 97 === 9) return [msg(NLMSG_NOOP, seq, Buffer.alloc(0)), msg(NLMSG_ERROR, seq, Buffer.alloc(20))]; // an ACK
      return [];
    };
    const r = await same(dump(1000, 3, bad), plain);
    expect(r.reports.length).toBe(3 * 11);
    expect(r.received).toBe(1000 + 3 * 11);
  });

  it('a dump that ends in an error, a malformed header or the peer closing ends the same way', async () => {
    const error = (seq: number, type: number) => {
      const d = dump(50, 9)(seq, type);
      const e = Buffer.alloc(20);
      e.writeInt32LE(-16, 0); // EBUSY, after replies: the dump failed there
      d[d.length - 1] = Buffer.concat([msg(type, seq, Buffer.alloc(72, 2).fill(0, 1)), msg(NLMSG_ERROR, seq, e)]);
      return d;
    };
    expect((await same(error, plain)).src).toBeNull();
    const header = (seq: number, type: number) => {
      const d = dump(50, 10)(seq, type);
      const h = Buffer.alloc(16);
      h.writeUInt32LE(9999, 0); // longer than the datagram
      d[d.length - 1] = h;
      return d;
    };
    const r = await same(header, plain);
    expect(r.src).toBe('netlink');
    expect(r.reports.length).toBe(1);
  });

  it('the committed module is what lines.c builds to (when clang is here)', (ctx) => {
    if (spawnSync('clang', ['--version']).status !== 0 || spawnSync('wasm-ld', ['--version']).status !== 0) ctx.skip();
    const out = execFileSync(process.execPath, [join(root, 'scripts', 'wasm.mjs'), '--check'], { encoding: 'utf8' });
    expect(out).toContain('matches');
  });
});

/** netstat's Internet lines from a fake kernel's dump: TCP's one walk of both families, or one table of one family */
async function netstatList(how: 'js' | 'wasm', datagrams: (seq: number, type: number) => Buffer[], f: Flags, table: 'tcp' | 'udp' | 'raw', family?: 4 | 6) {
  const k = fakeKernel(datagrams);
  const chunks: Buffer[] = [];
  const write = (b: Buffer) => void chunks.push(Buffer.from(b));
  let src: string | null;
  let count = 0;
  try {
    if (how === 'js') {
      const bytes = new ByteLines(write);
      const t = new InetLines(bytes, f, () => undefined);
      const each = (b: Buffer, at: Int32Array, n: number, label: string) => {
        for (let i = 0; i < 2 * n; i += 2) if (t.message(b, at[i]!, table, label)) count++;
      };
      if (family === undefined) src = await k.inv.tcpRaw(ALL_STATES, (b, at, n, fam) => each(b, at, n, fam === 6 ? 'tcp6' : 'tcp'));
      else src = await k.inv.inetRaw(table, family, ALL_STATES, (b, at, n) => each(b, at, n, family === 6 ? `${table}6` : table));
      bytes.flush();
    } else {
      const t = WasmInetLines.create(f, write)!;
      expect(t).not.toBeNull();
      src = family === undefined ? await k.inv.tcpDatagrams(ALL_STATES, t.reader) : await k.inv.inetDatagrams(table, family, ALL_STATES, t.reader);
      t.flush();
      count = t.count;
      t.close();
    }
    await k.serve;
  } finally {
    k.inv.close();
    k.close();
  }
  return { out: Buffer.concat(chunks).toString('latin1'), src, count, reports: k.inv.reports.map((r) => JSON.stringify(r)), received: k.inv.received };
}

describe('netstat lines in WebAssembly against fast.ts', () => {
  const flags = (o: Partial<Flags>): Flags => ({
    all: false,
    listening: false,
    numericHosts: true,
    numericPorts: true,
    numericUsers: false,
    extend: 0,
    programs: false,
    timers: false,
    wide: false,
    ...o,
  });
  const shapes: Partial<Flags>[] = [{ all: true }, { listening: true }, {}, { all: true, wide: true }, { listening: true, wide: true, extend: 1 }];

  it('the same bytes and counts for -a, -l, neither and -W, TCP over both families (IPv6 after IPv4), UDP and RAW of each family', async () => {
    let seed = 100;
    for (const o of shapes) {
      const f = flags(o);
      const runs: [table: 'tcp' | 'udp' | 'raw', family: 4 | 6 | undefined][] = [
        ['tcp', undefined],
        ['udp', 4],
        ['udp', 6],
        ['raw', 4],
        ['raw', 6],
      ];
      for (const [table, family] of runs) {
        const d = dump(1500, seed++, undefined, family === undefined ? undefined : family === 4 ? 2 : 10);
        const js = await netstatList('js', d, f, table, family);
        const wasm = await netstatList('wasm', d, f, table, family);
        const what = `${JSON.stringify(o)} ${table}${family ?? ''}`;
        expect(wasm.out, what).toBe(js.out);
        expect(wasm.count, what).toBe(js.count);
        expect(wasm.src, what).toBe(js.src);
        expect(wasm.reports, what).toEqual(js.reports);
        expect(wasm.received, what).toBe(js.received);
        expect(js.count, what).toBeGreaterThan(0);
        expect(js.out.split('\n').length - 1, what).toBe(js.count);
      }
    }
  });

  it('what the lines hold: v4-mapped addresses as IPv4, long IPv6 endpoints cut to 22 without -W, whole with it, queues past six digits', async () => {
    const cut = await netstatList('wasm', dump(2000, 42), flags({ all: true }), 'tcp');
    const whole = await netstatList('wasm', dump(2000, 42), flags({ all: true, wide: true }), 'tcp');
    const lines = cut.out.split('\n').slice(0, -1);
    const firstV6 = lines.findIndex((l) => l.startsWith('tcp6'));
    expect(firstV6).toBeGreaterThan(0);
    expect(lines.slice(firstV6).every((l) => l.startsWith('tcp6 '))).toBe(true);
    expect(cut.out).toMatch(/ 192\.0\.2\.9:/);
    expect(cut.out).not.toContain('::ffff:');
    expect(cut.out).toMatch(/ 2001:db8:0:1:2:3:4:\d*:\d+ /);
    expect(whole.out).toContain(' 2001:db8:0:1:2:3:4:5:');
    expect(cut.out).toContain(' 4294967295 ');
  });

  it('malformed replies reported and left out, and a dump that ends in an error, as the JavaScript walk does', async () => {
    const bad = (k: number, seq: number, type: number): Buffer[] => (k % 97 === 5 ? [msg(type, seq, Buffer.alloc(40))] : []);
    const f = flags({ all: true });
    const js = await netstatList('js', dump(1000, 3, bad), f, 'tcp');
    const wasm = await netstatList('wasm', dump(1000, 3, bad), f, 'tcp');
    expect(wasm).toEqual(js);
    expect(js.reports.length).toBe(11);
    const error = (seq: number, type: number) => {
      const d = dump(50, 9)(seq, type);
      const e = Buffer.alloc(20);
      e.writeInt32LE(-16, 0);
      d[d.length - 1] = Buffer.concat([msg(type, seq, Buffer.alloc(72, 2).fill(0, 1)), msg(NLMSG_ERROR, seq, e)]);
      return d;
    };
    const je = await netstatList('js', error, f, 'tcp');
    const we = await netstatList('wasm', error, f, 'tcp');
    expect(we.src).toBeNull();
    expect(we).toEqual(je);
  });
});

describe('sockit ss and netstat without WebAssembly', () => {
  it('node --jitless lists through fast.ts, the same lines', () => {
    // in a namespace of its own, with listeners and a connection that stay for both runs
    const bin = join(root, 'bin', 'sockit');
    const hold =
      'import socket,time; a=socket.create_server(("127.0.0.1",7007)); b=socket.create_server(("::1",7008),family=socket.AF_INET6); ' +
      'c=socket.create_connection(("127.0.0.1",7007)); d=a.accept(); print("up",flush=True); time.sleep(30)';
    const node = process.execPath;
    const script = `ip link set lo up && { python3 -c '${hold}' & } && sleep 0.5 && ${node} ${bin} ss -tan && echo --- && ${node} --jitless ${bin} ss -tan && echo --- && ${node} ${bin} netstat -tan && echo --- && ${node} --jitless ${bin} netstat -tan; s=$?; kill $!; exit $s`;
    const r = spawnSync('unshare', ['-n', 'bash', '-c', script], { encoding: 'latin1', env: { ...process.env, SOCKIT_NO_CODE_CACHE: '1' } });
    expect(r.status).toBe(0);
    const [a, b, c, d] = r.stdout.replace(/^up\n/m, '').split('---\n');
    expect(a).toMatch(/^State +Recv-Q Send-Q Local Address:Port +Peer Address:Port/);
    expect(a!.split('\n').filter((l) => /ESTAB|LISTEN/.test(l))).toHaveLength(4);
    expect(b).toBe(a);
    expect(c).toMatch(/^Active Internet connections \(servers and established\)\n/);
    expect(c!.split('\n').filter((l) => /ESTABLISHED|LISTEN/.test(l))).toHaveLength(4);
    expect(d).toBe(c);
  });
});
