// sockit links and busybox-style names: a link to bin/sockit named after a
// command runs that command. The links are made by `sockit links`, then run
// by path and through PATH as a user's shell would find them.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sockit, sockitBin } from '../helpers/cli.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';

/** The commands and aliases `sockit --help` lists (links are for the tools, not for sockit's own links and completion). */
async function tools(): Promise<string[]> {
  const help = (await sockit(['--help'])).stdout;
  const names = [...help.slice(help.indexOf('Commands:')).matchAll(/^ {2}([a-z][\w|]*)/gm)].flatMap((m) => m[1]!.split('|'));
  return names.filter((n) => !['help', 'links', 'completion'].includes(n));
}

/** Run a program by path (or name, through PATH) as a shell would: env has only PATH and NO_COLOR. */
function exec(file: string, args: string[], path: string) {
  const r = spawnSync(file, args, { encoding: 'utf8', env: { PATH: path, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sockit links DIR', () => {
  let dir: string;
  const path = () => `${dir}:${dirname(process.execPath)}:/usr/bin:/bin`;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sockit-links-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('links every command and alias to bin/sockit, one line each', async () => {
    const r = await sockit(['links', dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const names = await tools();
    expect(names).toEqual(expect.arrayContaining(['ping', 'traceroute', 'tracert', 'ss', 'netstat']));
    expect(readdirSync(dir).sort()).toEqual([...names].sort());
    const target = realpathSync(sockitBin);
    expect(r.stdout).toBe(names.map((n) => `${join(dir, n)} -> ${target}\n`).join(''));
    for (const n of names) {
      expect(lstatSync(join(dir, n)).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(dir, n))).toBe(target);
    }
  });

  it('a link runs its command: the same output as sockit <command>, by path and through PATH', async () => {
    await sockit(['links', dir]);
    for (const [name, args] of [
      ['lookup', ['localhost']],
      ['ping', ['--help']],
      ['tracert', ['--help']],
      ['checkopts', ['--tcp']],
    ] as const) {
      const ours = await sockit([name, ...args]);
      expect(ours.code).toBe(0);
      expect(exec(join(dir, name), [...args], path()), name).toEqual({ code: 0, stdout: ours.stdout, stderr: ours.stderr });
      expect(exec(name, [...args], path()), `${name} through PATH`).toEqual({ code: 0, stdout: ours.stdout, stderr: ours.stderr });
    }
    // a real round trip through the link found first in PATH: sockit's ping (iputils' has no --json)
    const ping = exec('ping', ['-c', '1', '--json', '127.0.0.1'], path());
    expect(ping).toMatchObject({ code: 0, stderr: '' });
    expect(vocabularyProblems(ping.stdout, ping.code)).toEqual([]);
    expect(ping.stdout).toMatch(/"type":"reply"/);
  });

  it('only the commands named; --json gives link records and a summary', async () => {
    const r = await sockit(['links', '--json', dir, 'ping', 'ss']);
    expect(r.code).toBe(0);
    expect(vocabularyProblems(r.stdout, r.code)).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(['ping', 'ss']);
    const recs = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs.map((x) => [x.type, x.name])).toEqual([
      ['link', 'ping'],
      ['link', 'ss'],
      ['summary', undefined],
    ]);
  });

  it('what is there already: one line and exit 1, unless -f replaces it', async () => {
    writeFileSync(join(dir, 'ping'), 'not sockit\n');
    const r = await sockit(['links', dir, 'ping']);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(new RegExp(`^sockit links: ${join(dir, 'ping')}: File (already )?exists \\(-f replaces it\\)\\n$`, 'i'));
    const f = await sockit(['links', '-f', dir, 'ping']);
    expect(f.code).toBe(0);
    expect(readlinkSync(join(dir, 'ping'))).toBe(realpathSync(sockitBin));
  });

  it('bad input: an unknown command is exit 2; a missing DIR is one line, exit 1', async () => {
    expect(await sockit(['links', dir, 'nosuch'])).toMatchObject({ code: 2, stdout: '', stderr: "sockit links: not a command to link: 'nosuch'\n" });
    expect(await sockit(['links'])).toMatchObject({ code: 2, stdout: '' });
    const gone = join(dir, 'gone');
    expect(await sockit(['links', gone])).toMatchObject({ code: 1, stdout: '', stderr: `sockit links: ${join(gone, 'ping')}: No such file or directory\n` });
  });
});
