// sockit lookup against glibc's getent(1) on the same keys: ahosts for
// getaddrinfo, hosts for an address's name, services for /etc/services.
// Names of our own live in a lab namespace's /etc/hosts (ip netns exec
// bind-mounts /etc/netns/<ns>/hosts over the shared one).
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sockit, sockitIn } from '../helpers/cli.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';
import { Lab, isRoot, needsRootReason } from '../lab/index.js';

function getent(...args: string[]): { code: number | null; stdout: string } {
  const r = spawnSync('getent', args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout };
}

describe('sockit lookup on this host, against getent', () => {
  // [sockit arguments, getent arguments]
  const cases: [string[], string[]][] = [
    [['localhost'], ['ahosts', 'localhost']],
    [
      ['-4', 'localhost'],
      ['ahostsv4', 'localhost'],
    ],
    [
      ['-6', 'localhost'],
      ['ahostsv6', 'localhost'],
    ],
    [['127.0.0.1'], ['ahosts', '127.0.0.1']],
    [['::1'], ['ahosts', '::1']],
    [['fe80::1%lo'], ['ahosts', 'fe80::1%lo']],
    [
      ['-x', '127.0.0.1'],
      ['hosts', '127.0.0.1'],
    ],
  ];
  for (const [args, anchor] of cases) {
    it(`sockit lookup ${args.join(' ')} prints what getent ${anchor.join(' ')} prints`, async () => {
      const want = getent(...anchor);
      expect(want.code).toBe(0);
      const r = await sockit(['lookup', ...args]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(want.stdout);
    });
  }

  for (const key of ['echo', '7', '7/udp', 'smtp', 'mail', '25/tcp', 'domain/udp', 'http']) {
    it(`--services ${key} prints what getent services ${key} prints`, async () => {
      const want = getent('services', key);
      expect(want.code).toBe(0);
      const r = await sockit(['lookup', '--services', key]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(want.stdout);
    });
  }

  it('a name that does not resolve: one line with the EAI text, exit 2 as getent', async () => {
    expect(getent('ahosts', 'no-such-host.invalid').code).toBe(2);
    const r = await sockit(['lookup', 'no-such-host.invalid']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('sockit lookup: no-such-host.invalid: Name or service not known\n');
  });

  it('a service that is not in /etc/services: exit 2 as getent', async () => {
    expect(getent('services', 'no-such-service').code).toBe(2);
    const r = await sockit(['lookup', '--services', 'no-such-service']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('sockit lookup: no-such-service: service not found in /etc/services\n');
  });

  it('with a service every row has its port and protocol, one row per socket type', async () => {
    const r = await sockit(['lookup', '-4', 'localhost', 'echo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('127.0.0.1       STREAM 7/tcp localhost\n127.0.0.1       DGRAM  7/udp \n');
    const s = await sockit(['lookup', '-4', '--socktype', 'dgram', '127.0.0.1', '53']);
    expect(s.stdout).toBe('127.0.0.1       DGRAM  53/udp 127.0.0.1\n');
  });

  it('--passive without a host gives the wildcard addresses; --numeric-service refuses a name', async () => {
    const r = await sockit(['lookup', '--passive', '--socktype', 'stream', '*', '8080']);
    expect(r.code).toBe(0);
    // AI_ADDRCONFIG: :: only where IPv6 is configured (loopback is not counted)
    expect(r.stdout.split('\n')[0]).toBe('0.0.0.0         STREAM 8080/tcp ');
    const n = await sockit(['lookup', '--numeric-service', 'localhost', 'echo']);
    expect(n.code).toBe(2);
    expect(n.stderr).toMatch(/^sockit lookup: localhost echo: .+\n$/);
  });

  it('-x with a port gives the service; --dgram the UDP one; --name-required fails on a nameless address', async () => {
    const tcp = await sockit(['lookup', '-x', '127.0.0.1', '514']);
    const udp = await sockit(['lookup', '-x', '--dgram', '127.0.0.1', '514']);
    // /etc/services: 514/tcp shell, 514/udp syslog
    expect(getent('services', '514/tcp').stdout).toMatch(/^shell /);
    expect(tcp.stdout).toBe('127.0.0.1       localhost shell\n');
    expect(udp.stdout).toBe('127.0.0.1       localhost syslog\n');
    const nameless = await sockit(['lookup', '-x', '192.0.2.1']);
    expect(nameless.stdout).toBe('192.0.2.1       192.0.2.1\n');
    const req = await sockit(['lookup', '-x', '--name-required', '192.0.2.1']);
    expect(req.code).toBe(2);
    expect(req.stderr).toBe('sockit lookup: 192.0.2.1: Name or service not known\n');
  });

  it('bad input is one line and exit 2', async () => {
    for (const args of [['--socktype', 'bogus', 'localhost'], ['-4', '-6', 'localhost'], [], ['-x', 'nohost'], ['-x', '127.0.0.1', '70000']]) {
      const r = await sockit(['lookup', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^sockit lookup: [^\n]+\n$/);
    }
  });

  it('--json: address, name and service records in the vocabulary', async () => {
    const a = await sockit(['lookup', '--json', '-4', 'localhost', 'echo']);
    expect(vocabularyProblems(a.stdout, a.code)).toEqual([]);
    expect(
      a.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { type: 'address', family: 4, address: '127.0.0.1', port: 7, socktype: 'stream', protocol: 'tcp', canonname: 'localhost' },
      { type: 'address', family: 4, address: '127.0.0.1', port: 7, socktype: 'dgram', protocol: 'udp' },
      { type: 'summary', found: 2, exit_code: 0 },
    ]);
    const n = await sockit(['lookup', '--json', '-x', '127.0.0.1', '22']);
    expect(vocabularyProblems(n.stdout, n.code)).toEqual([]);
    expect(JSON.parse(n.stdout.split('\n')[0]!)).toEqual({ type: 'name', family: 4, address: '127.0.0.1', port: 22, host: 'localhost', service: 'ssh' });
    const s = await sockit(['lookup', '--json', '--services', 'smtp']);
    expect(vocabularyProblems(s.stdout, s.code)).toEqual([]);
    expect(JSON.parse(s.stdout.split('\n')[0]!)).toEqual({ type: 'service', name: 'smtp', port: 25, protocol: 'tcp', aliases: ['mail'] });
    const e = await sockit(['lookup', '--json', 'no-such-host.invalid']);
    expect(e.code).toBe(2);
    expect(vocabularyProblems(e.stdout, e.code)).toEqual([]);
    expect(JSON.parse(e.stdout.split('\n')[0]!)).toEqual({
      type: 'error',
      kind: 'resolve',
      code: 'EAI_NONAME',
      message: 'no-such-host.invalid: Name or service not known',
    });
  });
});

describe.skipIf(!isRoot)(`sockit lookup on names of a lab's /etc/hosts (${isRoot ? 'namespaces' : needsRootReason})`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.chain({ routers: 0, ipv6: true, name: 'lookup' });
    lab.hosts(lab.src, [
      `${lab.dst.v4} dst.lab.example dst`,
      `${lab.dst.v6} dst.lab.example dst`,
      '198.51.100.7 beta.lab.example beta b2',
      '2001:db8:77::7 six.lab.example six',
    ]);
  }, 30_000);
  afterAll(async () => {
    await lab?.close();
  });

  const keys: [string[], string[]][] = [
    [['dst'], ['ahosts', 'dst']],
    [['dst.lab.example'], ['ahosts', 'dst.lab.example']],
    [
      ['-4', 'dst'],
      ['ahostsv4', 'dst'],
    ],
    [
      ['-6', 'dst'],
      ['ahostsv6', 'dst'],
    ],
    [['b2'], ['ahosts', 'b2']],
    [
      ['-6', 'beta'],
      ['ahostsv6', 'beta'],
    ],
    [['six'], ['ahosts', 'six']],
  ];
  for (const [args, anchor] of keys) {
    it(`sockit lookup ${args.join(' ')} prints what getent ${anchor.join(' ')} prints`, async () => {
      const want = await lab.exec(lab.src, ['getent', ...anchor]);
      expect(want.code).toBe(0);
      const r = await sockitIn(lab, lab.src, ['lookup', ...args]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(want.stdout);
    });
  }

  // getnameinfo has the official name only; getent hosts (gethostbyaddr) adds the aliases after it
  for (const address of ['198.51.100.7', '2001:db8:77::7']) {
    it(`sockit lookup -x ${address} prints getent hosts' line without the aliases`, async () => {
      const want = await lab.exec(lab.src, ['getent', 'hosts', address]);
      expect(want.code).toBe(0);
      const r = await sockitIn(lab, lab.src, ['lookup', '-x', address]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${/^\S+\s+\S+/.exec(want.stdout)![0]}\n`);
    });
  }

  it('-6 --all: IPv6 addresses and the IPv4 ones mapped (AI_V4MAPPED | AI_ALL); without it, only IPv6', async () => {
    const all = await sockitIn(lab, lab.src, ['lookup', '-6', '--all', '--socktype', 'stream', 'dst']);
    expect(all.code).toBe(0);
    expect(
      all.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[0])
        .sort(),
    ).toEqual([`::ffff:${lab.dst.v4}`, lab.dst.v6].sort());
    const six = await sockitIn(lab, lab.src, ['lookup', '-6', '--socktype', 'stream', 'dst']);
    expect(six.stdout).toBe(`${lab.dst.v6.padEnd(15)} STREAM dst.lab.example\n`);
    const passive = await sockitIn(lab, lab.src, ['lookup', '--passive', '--socktype', 'dgram', '*', 'ntp']);
    expect(passive.stdout).toBe('0.0.0.0         DGRAM  123/udp \n::              DGRAM  123/udp \n');
  });

  it('--no-fqdn keeps the first label of a local name; an alias resolves to its canonical name', async () => {
    const r = await sockitIn(lab, lab.src, ['lookup', '-x', '--no-fqdn', '198.51.100.7']);
    expect(r.code).toBe(0);
    // NI_NOFQDN cuts at the first dot only for names in the host's own domain; hostname here has none
    expect(r.stdout).toMatch(/^198\.51\.100\.7\s+beta(\.lab\.example)?\n$/);
    const j = await sockitIn(lab, lab.src, ['lookup', '--json', '--socktype', 'stream', 'b2']);
    expect(vocabularyProblems(j.stdout, j.code)).toEqual([]);
    expect(JSON.parse(j.stdout.split('\n')[0]!)).toMatchObject({ type: 'address', family: 4, address: '198.51.100.7', canonname: 'beta.lab.example' });
  });
});
