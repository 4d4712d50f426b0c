// --openmetrics on ping, traceroute and connect: the file a textfile
// collector reads, written atomically, with the numbers of the same run's
// --json summary, accepted by promtool's text parser (lint clean) and by its
// OpenMetrics parser.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFamilies } from '../../src/output/textfile.js';
import { render } from '../../src/output/openmetrics.js';
import { sockit } from '../helpers/cli.js';
import { promtoolCheckMetrics, promtoolParseOpenMetrics } from '../helpers/promtool.js';
import { isRoot } from '../helpers/root.js';

function samples(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const r = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (r) m.set(r[1]!, Number(r[3]));
  }
  return m;
}

function summaryOf(stdout: string): Record<string, unknown> {
  return JSON.parse(
    stdout
      .trim()
      .split('\n')
      .find((l) => l.includes('"type":"summary"'))!,
  ) as Record<string, unknown>;
}

describe('recordFamilies', () => {
  it('turns a summary into gauges: _ms to _seconds, _percent to _ratio, labels from host/address/port', () => {
    const f = recordFamilies(
      'ping',
      [{ type: 'summary', host: 'h', address: '192.0.2.1', transmitted: 3, loss_percent: 50, rtt_avg_ms: 1.5, pipe: null, exit_code: 1 }],
      1700000000,
    );
    const text = render(f, 'prometheus');
    expect(text).toContain('sockit_ping_transmitted{host="h",address="192.0.2.1"} 3\n');
    expect(text).toContain('sockit_ping_loss_ratio{host="h",address="192.0.2.1"} 0.5\n');
    expect(text).toContain('sockit_ping_rtt_avg_seconds{host="h",address="192.0.2.1"} 0.0015\n');
    expect(text).toContain('sockit_ping_success{host="h",address="192.0.2.1"} 0\n');
    expect(text).toContain('sockit_ping_last_run_timestamp_seconds{host="h",address="192.0.2.1"} 1.7e+09\n');
    expect(text).not.toContain('pipe');
    expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: '' });
  });
});

describe('--openmetrics and -o', () => {
  let dir: string;
  let server: net.Server;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sockit-textfile-'));
    server = net.createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** OpenMetrics (ends in # EOF; both parsers take it), or for a .prom file the text format */
  const check = (text: string, format: 'openmetrics' | 'prometheus' = 'openmetrics') => {
    expect(text.endsWith('# EOF\n')).toBe(format === 'openmetrics');
    expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: '' });
    if (format === 'openmetrics') expect(promtoolParseOpenMetrics(text).status).toBe(0);
  };

  it.skipIf(!isRoot)("ping: the file (.prom: the text format) has the numbers of the same run's --json summary", async () => {
    const file = join(dir, 'ping.prom');
    writeFileSync(file, 'old contents\n');
    const r = await sockit(['ping', '-c', '3', '-i', '0.2', '--json', '--openmetrics', '-o', file, '127.0.0.1']);
    expect(r.code).toBe(0);
    const s = summaryOf(r.stdout);
    const text = readFileSync(file, 'utf8');
    check(text, 'prometheus');
    const m = samples(text);
    expect(m.get('sockit_ping_transmitted')).toBe(s.transmitted);
    expect(m.get('sockit_ping_received')).toBe(s.received);
    expect(m.get('sockit_ping_loss_ratio')).toBe((s.loss_percent as number) / 100);
    expect(m.get('sockit_ping_rtt_avg_seconds')).toBeCloseTo((s.rtt_avg_ms as number) / 1000, 9);
    expect(m.get('sockit_ping_success')).toBe(1);
    // renamed into place: no temporary file left beside it
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('traceroute: hops and summary, on standard output in place of the text', async () => {
    const r = await sockit(['traceroute', '-n', '-q', '1', '--openmetrics', '127.0.0.1']);
    expect(r.code).toBe(0);
    check(r.stdout);
    const m = samples(r.stdout);
    expect(m.get('sockit_traceroute_reached')).toBe(1);
    expect(m.get('sockit_traceroute_hops')).toBe(1);
    expect(r.stdout).toMatch(/^sockit_traceroute_hop_rtt_seconds\{host="127.0.0.1",hop="1",address="127.0.0.1"\} \S+$/m);
    expect(r.stdout).not.toContain('traceroute to');
  });

  it('connect: the summary of -c 2, and the text still on standard output with -o', async () => {
    const file = join(dir, 'connect.om');
    const r = await sockit(['connect', '-c', '2', '-i', '0.1', '--openmetrics', '-o', file, '127.0.0.1', String(port)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/connected/i);
    const text = readFileSync(file, 'utf8');
    check(text);
    const m = samples(text);
    expect(m.get('sockit_connect_attempts')).toBe(2);
    expect(m.get('sockit_connect_connected')).toBe(2);
    expect(text).toContain(`{host="127.0.0.1",port="${port}"}`);
  });

  it('bad combinations are usage errors; an unwritable -o is one line and exit 1', async () => {
    const a = await sockit(['connect', '-o', join(dir, 'x'), '127.0.0.1', String(port)]);
    expect(a.code).toBe(2);
    expect(a.stderr).toBe('sockit connect: -o FILE needs --openmetrics\n');
    const b = await sockit(['traceroute', '--json', '--openmetrics', '127.0.0.1']);
    expect(b.code).toBe(2);
    expect(b.stderr).toBe('sockit traceroute: --openmetrics with --json needs -o FILE (standard output has the JSON lines)\n');
    const c = await sockit(['connect', '--openmetrics', '-o', join(dir, 'no', 'such', 'dir.prom'), '127.0.0.1', String(port)]);
    expect(c.code).toBe(1);
    expect(c.stderr).toBe(`sockit connect: ${join(dir, 'no', 'such', 'dir.prom')}: No such file or directory\n`);
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });
});
