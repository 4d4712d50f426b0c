// relaunch: the same command line in a child Node started with more flags,
// on the same descriptors, its status and its death by a signal passed on.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const relaunchJs = join(process.cwd(), 'dist', 'cli', 'relaunch.js');
const dir = mkdtempSync(join(tmpdir(), 'sockit-relaunch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// the child part runs when the flag is there; the parent relaunches
const script = join(dir, 'prog.mjs');
writeFileSync(
  script,
  `import { relaunch, startedWith } from ${JSON.stringify(relaunchJs)};
const FLAGS = ['--max-semi-space-size=4'];
if (startedWith(FLAGS)) {
  const what = process.argv[2];
  if (what === 'status') { process.stdout.write(JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(2) }) + '\\n'); process.exit(3); }
  if (what === 'die') process.kill(process.pid, 'SIGTERM');
  if (what === 'wait') { process.on('SIGTERM', () => { process.stdout.write('child got SIGTERM\\n'); process.exit(0); }); process.stdout.write('ready\\n'); setInterval(() => {}, 1000); }
} else {
  process.exitCode = await relaunch(FLAGS);
}
`,
);

describe('relaunch', () => {
  it("runs the same arguments under the flags, on the same stdout, and exits with the child's status", () => {
    const r = spawnSync(process.execPath, [script, 'status', 'two words'], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual({ execArgv: ['--max-semi-space-size=4'], argv: ['status', 'two words'] });
  });

  it('dies of the signal that killed the child', () => {
    const r = spawnSync(process.execPath, [script, 'die'], { encoding: 'utf8' });
    expect(r.signal).toBe('SIGTERM');
  });

  it('passes a signal sent to it on to the child', async () => {
    const p = spawn(process.execPath, [script, 'wait'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    while (!out.includes('ready')) await once(p.stdout, 'data');
    p.kill('SIGTERM');
    const [code] = (await once(p, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(out).toContain('child got SIGTERM');
  });
});
