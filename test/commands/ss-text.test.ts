// ss's number formats against C's printf (through Python's %-formatting,
// which is C's): %g for times, %.3g with a unit for rates.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { scanOwners } from '../../src/stack/inventory/index.js';
import { users, usersLength } from '../../src/commands/ss/text.js';
import { bw, g } from '../../src/commands/ss/tcpinfo.js';
import { lcg } from '../helpers/fuzz.js';
import { sockit } from '../helpers/cli.js';

function printf(fmt: string, values: number[]): string[] {
  const py = `import sys\nfor v in sys.argv[2:]: print(sys.argv[1] % float(v))`;
  return execFileSync('python3', ['-c', py, fmt, ...values.map((v) => v.toPrecision(17))], { encoding: 'utf8' })
    .trim()
    .split('\n');
}

describe('C number formats', () => {
  const rand = lcg(7);
  const values = [0.001, 0.0001, 0.00001234, 1, 10, 123456, 1234567, 0.5, 2.5, 1e21, 208, 0.038, 5.256, 10.452, 99999.95, 1e-7];
  for (let k = 0; k < 200; k++) values.push((rand() / 2 ** 32) * 10 ** ((rand() % 16) - 6));

  it("%g and %.3g are printf's", () => {
    expect(values.map((v) => g(v))).toEqual(printf('%g', values));
    expect(values.map((v) => g(v, 3))).toEqual(printf('%.3g', values));
  });

  it("sprint_bw's units", () => {
    const rates = [999, 1000, 64000, 1.5e6, 25288892839 * 8, 3.2e12];
    const c = printf(
      '%.3g',
      rates.map((r) => (r >= 1e12 ? r / 1e12 : r >= 1e9 ? r / 1e9 : r >= 1e6 ? r / 1e6 : r >= 1e3 ? r / 1e3 : r)),
    );
    const units = rates.map((r) => (r >= 1e12 ? 'T' : r >= 1e9 ? 'G' : r >= 1e6 ? 'M' : r >= 1e3 ? 'k' : ''));
    expect(rates.map((r) => bw(r, false))).toEqual(rates.map((r, i) => (r < 1e3 ? printf('%g', [r])[0] : c[i] + units[i])));
    expect(bw(1234.6, true)).toBe(printf('%.0f', [1234.6])[0]);
  });
});

describe('users:(...) measured without being made', () => {
  it("usersLength is users()'s length for every socket on the machine, one held at four descriptors among them", async () => {
    // a socket at its own descriptor and at 9, 10 and 100 of a process apart from this one
    const holder = spawn(
      'python3',
      [
        '-c',
        'import os,socket,sys\ns=socket.socket()\nfor t in (9,10,100): os.dup2(s.fileno(),t)\nprint(os.fstat(s.fileno()).st_ino, flush=True)\nsys.stdin.read()',
      ],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    try {
      const [line] = (await once(holder.stdout!, 'data')) as [Buffer];
      const inode = Number(line.toString().trim());
      const owners = scanOwners();
      expect(
        owners
          .get(inode)
          ?.map((o) => o.fd)
          .slice(0, 3),
      ).toEqual([100, 10, 9]);
      const inodes = readFileSync('/proc/net/tcp', 'latin1')
        .split('\n')
        .slice(1)
        .map((l) => Number(l.trim().split(/\s+/)[9]))
        .filter((n) => n > 0);
      for (const n of [inode, ...inodes, 1]) expect(usersLength(owners, n), String(n)).toBe(users(owners.get(n)).length);
      expect(usersLength(undefined, inode)).toBe(0);
    } finally {
      holder.stdin!.end();
      holder.kill();
    }
  });

  /**
   * A python3 `script` holds a listener on 127.0.0.1 (it prints the port,
   * then waits on stdin): the lines of `ss -tlnpH` and `netstat -tlnp`
   * naming it, one each, which sockit's equal; `check` looks at ss's.
   */
  async function ownersAsTheToolsName(script: string, check: (ssLine: string) => void): Promise<void> {
    const holder = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(holder.stdout!, 'data')) as [Buffer];
      const port = `127.0.0.1:${line.toString().trim()} `;
      const mine = (out: string) => out.split('\n').filter((l) => l.includes(port));
      const ss = mine(execFileSync('ss', ['-tlnpH'], { encoding: 'latin1' }));
      expect(ss).toHaveLength(1);
      check(ss[0]!);
      expect(mine((await sockit(['ss', '-tlnpH'])).stdout)).toEqual(ss);
      const netstat = mine(execFileSync('netstat', ['-tlnp'], { encoding: 'latin1' }));
      expect(netstat).toHaveLength(1);
      expect(mine((await sockit(['netstat', '-tlnp'])).stdout)).toEqual(netstat);
    } finally {
      holder.stdin!.end();
      holder.kill();
    }
  }

  it('a listener shared by a process and its child: ss -tlnp and netstat -tlnp name both as the real tools do', async () => {
    // the parent holds it at its own descriptor and at 50; the forked child inherits both
    await ownersAsTheToolsName(
      "import os,socket,sys\nl=socket.socket()\nl.bind(('127.0.0.1',0))\nl.listen()\nos.dup2(l.fileno(),50)\nif os.fork()==0:\n  sys.stdin.read()\n  os._exit(0)\nprint(l.getsockname()[1], flush=True)\nsys.stdin.read()",
      (ss) => expect(ss.match(/pid=/g)).toHaveLength(4), // two processes, two descriptors each
    );
  });

  it("a process whose name holds a ')': ss -tlnp names it as ss reads /proc/PID/stat (up to the first ')'), netstat -tlnp as netstat does", async () => {
    await ownersAsTheToolsName(
      "import socket,sys\nopen('/proc/self/comm','w').write('odd) name')\nl=socket.socket()\nl.bind(('127.0.0.1',0))\nl.listen()\nprint(l.getsockname()[1], flush=True)\nsys.stdin.read()",
      (ss) => expect(ss).toContain('users:(("odd",pid='),
    );
  });
});
