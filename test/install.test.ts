// Install anywhere: `npm pack` of this checkout, `npm install -g` of the
// tarball into a temporary prefix with no registry (--offline: what it needs
// is in the tarball, the addon builds from its C file), then sockit run from
// that prefix as a user would, and man finding its pages there.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const checkout = fileURLToPath(new URL('..', import.meta.url));
const have = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

function run(argv: string[], env: Record<string, string> = {}, cwd = checkout) {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm pack, then npm install -g of the tarball into a temporary prefix, offline', () => {
  let tmp: string;
  let prefix: string;
  let env: Record<string, string>;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sockit-install-'));
    prefix = join(tmp, 'prefix');
    // the package as it is built (npm test built dist/bundle): no prepare run again
    const pack = run(['npm', 'pack', '--ignore-scripts', '--pack-destination', tmp]);
    expect(pack.code, pack.stderr).toBe(0);
    const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'))!;
    const install = run(['npm', 'install', '-g', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, join(tmp, tarball)], {}, tmp);
    expect(install.code, install.stderr).toBe(0);
    // a user's shell: the prefix's bin first; node itself from where it is
    env = { PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`, MANPATH: '' };
  }, 600_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('the tarball holds the launcher, the bundles, the man pages and the addon source; not src/ nor the tests', () => {
    const files = run(['tar', 'tzf', join(tmp, readdirSync(tmp).find((f) => f.endsWith('.tgz'))!)]).stdout.split('\n');
    expect(files).toEqual(
      expect.arrayContaining([
        'package/bin/sockit',
        'package/dist/bundle/ping.cjs',
        'package/dist/bundle/commands.json',
        'package/man/sockit-ping.1',
        'package/src/stack/native/sockit.c',
        'package/binding.gyp',
      ]),
    );
    expect(files.filter((f) => /^package\/(test|src\/(cli|commands)|node_modules)\//.test(f))).toEqual([]);
  });

  it('sockit runs from the prefix: --version, and a ping on loopback with the addon it built', () => {
    const v = run(['sockit', '--version'], env, tmp);
    expect(v).toEqual({ code: 0, stdout: `${run(['node', '-p', 'require("./package.json").version']).stdout}`, stderr: '' });
    const ping = run(['sockit', 'ping', '-c', '1', '127.0.0.1'], env, tmp);
    expect(ping.stderr).toBe('');
    expect(ping.code).toBe(0);
    expect(ping.stdout).toMatch(/^PING 127\.0\.0\.1 \(127\.0\.0\.1\) 56\(84\) bytes of data\.\n64 bytes from 127\.0\.0\.1: icmp_seq=1 /);
    const real = run(['readlink', '-f', join(prefix, 'bin', 'sockit')]).stdout.trim();
    expect(real).toBe(join(prefix, 'lib', 'node_modules', 'sockit', 'bin', 'sockit'));
  });

  it.skipIf(!have('man'))('man sockit-ping finds the page the install put in the prefix (man-db: the man path from PATH)', () => {
    const where = run(['man', '-w', 'sockit-ping'], env, tmp);
    expect(where).toMatchObject({ code: 0, stderr: '' });
    // npm links the page into <prefix>/share/man/man1; man names the file the link leads to
    const page1 = join(prefix, 'share', 'man', 'man1', 'sockit-ping.1');
    expect(realpathSync(page1)).toBe(join(prefix, 'lib', 'node_modules', 'sockit', 'man', 'sockit-ping.1'));
    expect([page1, realpathSync(page1)]).toContain(where.stdout.trim());
    const page = run(['man', '-P', 'cat', 'sockit-ping'], { ...env, MANWIDTH: '80' }, tmp);
    expect(page.code).toBe(0);
    expect(page.stdout).toMatch(/^SOCKIT-PING\(1\)/);
  });
});
