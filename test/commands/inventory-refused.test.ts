// Netlink refused for real: an LD_PRELOAD shim (test/fixtures/refuse-sock-diag.c)
// makes socket(AF_NETLINK, NETLINK_SOCK_DIAG) fail with EACCES, as a seccomp
// or LSM policy would, for sockit and for ss alike. Both fall back to
// /proc/net; their listings are compared in a lab namespace, as root and as
// nobody, with sockets of every family a python3 holder opens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, isRoot, type User } from '../lab/index.js';
import { sockitIn } from '../helpers/cli.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';

const HOLDER = `
import socket, sys
keep = []
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(("127.0.0.1", 4470)); l.listen()
c = socket.create_connection(("127.0.0.1", 4470)); a, _ = l.accept()
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::1", 4471))
x = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); x.bind("\\0sockit-refused"); x.listen()
p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5)); p.bind(("lo", 0x88b5))
n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0); n.bind((0, 1))
keep += [l, c, a, u, x, p, n]
print("ready", flush=True)
sys.stdin.read()
`;

describe.skipIf(!isRoot)('netlink refused (EACCES from socket()): sockit and ss both read /proc/net', () => {
  let lab: Lab;
  let holder: ChildProcess;
  let dir: string;
  let shim: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sockit-refused-'));
    chmodSync(dir, 0o755);
    shim = join(dir, 'refuse-sock-diag.so');
    const cc = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', shim, 'test/fixtures/refuse-sock-diag.c', '-ldl'], { encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    lab = await Lab.chain({ routers: 0, name: 'refused' });
    holder = await lab.spawnReady(lab.src, ['python3', '-c', HOLDER]);
  }, 30_000);

  afterAll(async () => {
    holder?.stdin?.end();
    await lab?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const sorted = (t: string) => {
    const [h, ...r] = t.split('\n');
    return [h, ...r.filter(Boolean).sort()];
  };
  // netlink sockets of processes other than the holder (each tool's own) and the timers aside
  const comparable = (t: string) =>
    sorted(t)
      .filter((l) => !/\b(tcpdiag|rtnl|genl|nft):(?!kernel\b)(?!python3\/)\S+/.test(l!) || l!.includes(`/${holder.pid}`))
      .map((l) => l!.replace(/timer:\((\w+),[^,]*,(\d+)\)/, 'timer:($1,T,$2)'));

  async function both(tool: 'ss' | 'netstat', args: string[], user: User) {
    const env = { LD_PRELOAD: shim };
    const theirs = await lab.exec(lab.src, [tool, ...args], { user, env });
    const ours = await sockitIn(lab, lab.src, [tool, ...args], { user, env: tool === 'ss' ? { ...env, SOCKIT_SS_LAYOUT: '6.1' } : env });
    return { theirs, ours };
  }

  for (const user of ['root', 'nobody'] as const) {
    for (const args of [['-tan'], ['-uan'], ['-tuln'], ['-xa'], ['-0a'], ['-0an'], ['-A', 'netlink', '-a'], ['-tanp'], ['-an']]) {
      it(`as ${user}: sockit ss ${args.join(' ')} is ss ${args.join(' ')}, and says it read /proc/net`, async () => {
        const { theirs, ours } = await both('ss', args, user);
        expect(theirs.stderr).toContain('Cannot open netlink socket: Permission denied');
        expect(ours.code).toBe(0);
        expect(comparable(ours.stdout)).toEqual(comparable(theirs.stdout));
        expect(comparable(ours.stdout).length).toBeGreaterThan(1);
        expect(ours.stderr).toBe('sockit ss: cannot open a sock_diag netlink socket: Permission denied; read /proc/net instead\n');
      });
    }
    for (const args of [['-tan'], ['-tuwanp'], ['-xa']]) {
      it(`as ${user}: sockit netstat ${args.join(' ')} is netstat ${args.join(' ')} (stderr too)`, async () => {
        const { theirs, ours } = await both('netstat', args, user);
        expect(ours.code).toBe(0);
        expect(comparable(ours.stdout)).toEqual(comparable(theirs.stdout));
        expect(ours.stderr).toBe(theirs.stderr);
      });
    }
  }

  it('the holder is there, from /proc/net; the JSON summary names the source', async () => {
    const r = await sockitIn(lab, lab.src, ['ss', '-tuxa0', '--json'], { env: { LD_PRELOAD: shim } });
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    const recs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    expect(recs.find((x) => x.netid === 'tcp' && x.state === 'LISTEN')).toMatchObject({ local: { address: '127.0.0.1', port: 4470 } });
    expect(recs.find((x) => x.netid === 'udp')).toMatchObject({ local: { address: '::1', port: 4471 } });
    expect(recs.find((x) => x.netid === 'u_str' && x.local?.path === '@sockit-refused')).toBeDefined();
    expect(recs.find((x) => x.netid === 'p_raw')).toMatchObject({ local: { protocol: 0x88b5, interface: 'lo' } });
    expect(recs.at(-1)).toMatchObject({ type: 'summary', exit_code: 0, source: 'proc' });
  });
});
