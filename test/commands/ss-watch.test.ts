// sockit ss --watch in a lab namespace: sockets opened and closed while it
// watches (a python3 holder does it step by step on its stdin), reported as
// opened (+), state changed (~) and closed (-) lines on a pipe, as
// socket_event records with --json, and redrawn screens on a terminal
// (script(1) gives sockit a pty).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { Lab, isRoot } from '../lab/index.js';
import { sockitBin } from '../helpers/cli.js';
import { until } from '../helpers/until.js';
import { vocabularyProblems } from '../helpers/vocabulary.js';

const HOLDER = `
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(("127.0.0.1", 7001)); l.listen()
print("ready", flush=True)
for step in sys.stdin:
    step = step.strip()
    if step == "open":
        c = socket.create_connection(("127.0.0.1", 7001)); a, _ = l.accept()
    elif step == "half":
        c.close()
    elif step == "close":
        a.close()
    print(step, flush=True)
`;

describe.skipIf(!isRoot)('ss --watch', () => {
  let lab: Lab;
  let holder: ChildProcess;
  let said = '';

  beforeAll(async () => {
    lab = await Lab.chain({ routers: 0, name: 'sswatch' });
    holder = lab.spawn(lab.src, ['python3', '-c', HOLDER], { stdio: ['pipe', 'pipe', 'inherit'] });
    holder.stdout!.on('data', (d: Buffer) => {
      said += d.toString();
    });
    await until(() => said.includes('ready'));
  }, 30_000);

  afterAll(async () => {
    holder?.stdin?.end();
    await lab?.close();
  });

  /** sockit ss ARGS --watch 0.2 while the holder opens, half-closes and closes a connection */
  async function watched(argv: string[]): Promise<{ out: string; code: number | null }> {
    const child = lab.spawn(lab.src, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    await until(() => out.length > 0);
    for (const [step, seen] of [
      ['open', /ESTAB/],
      ['half', /CLOSE-WAIT|FIN-WAIT/],
      ['close', /TIME-WAIT|closed|^- /m],
    ] as const) {
      const mark = out.length;
      holder.stdin!.write(`${step}\n`);
      await until(() => said.includes(`${step}\n`));
      await until(() => seen.test(out.slice(mark)));
    }
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGTERM');
    const code = await exited; // before reading out: the summary comes after the signal
    return { out, code };
  }

  it("on a pipe: the first sweep, then + ~ - lines in ss's columns", async () => {
    const { out, code } = await watched([process.execPath, sockitBin, 'ss', '-tan', '--watch', '0.2']);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^State +Recv-Q +Send-Q +Local Address:Port +Peer Address:Port$/);
    expect(lines[1]).toMatch(/^LISTEN +0 +\d+ +127\.0\.0\.1:7001 +0\.0\.0\.0:\*/);
    const rest = lines.slice(2);
    expect(rest.filter((l) => /^\+ ESTAB .*127\.0\.0\.1:7001/.test(l))).toHaveLength(2);
    expect(rest).toContainEqual(expect.stringMatching(/^~ CLOSE-WAIT .*127\.0\.0\.1:7001 +127\.0\.0\.1:\d+/));
    expect(rest).toContainEqual(expect.stringMatching(/^~ FIN-WAIT-2 .*127\.0\.0\.1:\d+ +127\.0\.0\.1:7001/));
    // the client's side ends in TIME-WAIT (a state change), the server's goes away
    expect(rest).toContainEqual(expect.stringMatching(/^~ TIME-WAIT .*127\.0\.0\.1:7001\b/));
    expect(rest).toContainEqual(expect.stringMatching(/^- (CLOSE-WAIT|LAST-ACK) .*127\.0\.0\.1:7001 /));
    // nothing but changes after the first sweep: the listener is never repeated
    expect(rest.some((l) => /LISTEN/.test(l))).toBe(false);
  }, 30_000);

  it('--json: the sockets, then socket_event records, then a summary on SIGTERM', async () => {
    const { out, code } = await watched([process.execPath, sockitBin, 'ss', '-tan', '--watch', '0.2', '--json']);
    expect(code).toBe(0);
    expect(vocabularyProblems(out, code)).toEqual([]);

    const recs = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    const ev = recs.filter((r) => r.type === 'socket_event');
    expect(ev.filter((e) => e.event === 'opened' && e.state === 'ESTAB')).toHaveLength(2);
    expect(ev).toContainEqual(
      expect.objectContaining({ event: 'state_changed', state: 'CLOSE-WAIT', previous_state: 'ESTAB', local: expect.objectContaining({ port: 7001 }) }),
    );
    expect(ev.filter((e) => e.event === 'closed').length).toBeGreaterThanOrEqual(1);
    expect(ev).toContainEqual(expect.objectContaining({ event: 'state_changed', state: 'TIME-WAIT' }));
    expect(recs.at(-1)).toMatchObject({ type: 'summary', exit_code: 0, events: ev.length });
  }, 30_000);

  it('on a terminal: the screen is cleared and the whole table drawn again each sweep', async () => {
    const cmd = `stty cols 100 rows 40; timeout -s TERM 1.5 ${process.execPath} ${sockitBin} ss -tan --watch 0.2`;
    const r = await lab.exec(lab.src, ['script', '-qec', cmd, '/dev/null']);
    const screens = r.stdout.split('\x1b[H\x1b[2J').slice(1);
    expect(screens.length).toBeGreaterThanOrEqual(3);
    for (const s of screens) expect(s).toMatch(/^State .*\r?\nLISTEN .*127\.0\.0\.1:7001/);
  }, 30_000);
});
