// sockit exporter against the real thing, in a namespace lab: the same
// requests to prometheus-blackbox-exporter and to sockit exporter with the
// same module file give the same metric names, types and labels (and the
// same values where they do not depend on timing); and a real prometheus,
// scraping with the relabelling blackbox_exporter's README gives, sees
// probe_success 1 for a host that answers, 0 for one behind a drop rule,
// and a continuous histogram whose _count grows.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, startSockitIn } from '../helpers/cli.js';
import { promtoolCheckMetrics } from '../helpers/promtool.js';
import { Lab, isRoot, needsRootReason } from '../lab/index.js';

const BLACKBOX = '127.0.0.1:9115';
const SOCKIT = '127.0.0.1:9116';
const PROMETHEUS = '127.0.0.1:9090';
const DROPPED = '192.0.2.9';
const SSH_PORT = 2222;

const MODULES = `
modules:
  icmp:
    prober: icmp
    timeout: 1s
  icmp_v4:
    prober: icmp
    timeout: 1s
    icmp:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      ttl: 7
      payload_size: 64
      dont_fragment: true
  tcp_connect:
    prober: tcp
    timeout: 1s
  ssh_banner:
    prober: tcp
    timeout: 1s
    tcp:
      query_response:
        - expect: "^SSH-2.0-"
  ssh_wrong:
    prober: tcp
    timeout: 1s
    tcp:
      query_response:
        - expect: "^HTTP/"
`;

/** What a Prometheus client sees of an exposition apart from the values: names, types, help, label names (and label values that are words, e.g. phase). */
export function shape(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# HELP') || line.startsWith('# TYPE')) out.push(line);
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? /.exec(line);
    if (m) out.push(`${m[1]}{${(m[2] ?? '').replace(/="([^"]*)"/g, (_a, v: string) => (/^[a-z]+$/.test(v) ? `="${v}"` : '=*'))}}`);
  }
  return out.sort();
}

/** The values that do not depend on timing. */
function stable(text: string): Record<string, number> {
  const keep = /^(probe_success|probe_ip_protocol|probe_ip_addr_hash|probe_icmp_reply_hop_limit|probe_failed_due_to_regex) (\S+)$/;
  return Object.fromEntries(text.split('\n').flatMap((l) => { const m = keep.exec(l); return m ? [[m[1]!, Number(m[2])]] : []; }));
}

function waitFor(child: ChildProcess, re: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const t = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms:\n${seen}`)), ms);
    const on = (d: Buffer) => {
      seen += d.toString();
      if (re.test(seen)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
  });
}

describe.skipIf(!isRoot)('sockit exporter in a lab, against blackbox_exporter and prometheus', () => {
  let lab: Lab;
  let dir: string;
  let sockitExporter: Running;

  const curl = async (url: string, headers: string[] = []) => {
    const r = await lab.exec(lab.src, ['curl', '-s', '-w', '\n%{http_code}', ...headers.flatMap((h) => ['-H', h]), url]);
    const nl = r.stdout.lastIndexOf('\n');
    return { body: r.stdout.slice(0, nl), status: Number(r.stdout.slice(nl + 1)) };
  };

  beforeAll(async () => {
    lab = await Lab.chain({ routers: 0, name: 'exporter' });
    dir = mkdtempSync(join(tmpdir(), 'sockit-exporter-lab-'));
    writeFileSync(join(dir, 'blackbox.yml'), MODULES);
    // a second address on the destination, silent behind a drop rule
    await lab.addAddress(lab.dst, `${DROPPED}/32`);
    await lab.nft(lab.dst, `add rule inet lab input ip daddr ${DROPPED} drop`);
    lab.spawn(lab.dst, ['socat', `TCP-LISTEN:${SSH_PORT},fork,reuseaddr`, 'SYSTEM:echo SSH-2.0-lab_1.0']);
    const bb = lab.spawn(lab.src, ['prometheus-blackbox-exporter', '--config.file', join(dir, 'blackbox.yml'), '--web.listen-address', BLACKBOX]);
    const ready = waitFor(bb, /Listening on/, 20_000);
    sockitExporter = startSockitIn(lab, lab.src, ['exporter', '--config.file', join(dir, 'blackbox.yml'), '--listen', SOCKIT, '--ping', lab.dst.v4,
      '--ping.interval', '250ms']);
    await Promise.all([ready, sockitExporter.line(/msg="Listening on"/, 20_000, 'stderr')]);
  }, 60_000);

  afterAll(async () => {
    await lab?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const requests = () => [
    `probe?module=icmp&target=${lab.dst.v4}`,
    `probe?module=icmp_v4&target=${lab.dst.v4}`,
    `probe?module=icmp&target=${DROPPED}`,
    `probe?module=tcp_connect&target=${lab.dst.v4}:${SSH_PORT}`,
    `probe?module=tcp_connect&target=${lab.dst.v4}:1`,
    `probe?module=ssh_banner&target=${lab.dst.v4}:${SSH_PORT}`,
    `probe?module=ssh_wrong&target=${lab.dst.v4}:${SSH_PORT}`,
  ];

  it('the same /probe requests give the same names, types, help and labels, and the same timing-free values', async () => {
    const seen: string[] = [];
    for (const path of requests()) {
      const [theirs, ours] = await Promise.all([curl(`http://${BLACKBOX}/${path}`), curl(`http://${SOCKIT}/${path}`)]);
      expect({ path, status: ours.status }).toEqual({ path, status: theirs.status });
      expect({ path, shape: shape(ours.body) }).toEqual({ path, shape: shape(theirs.body) });
      expect({ path, values: stable(ours.body) }).toEqual({ path, values: stable(theirs.body) });
      expect(promtoolCheckMetrics(ours.body)).toEqual({ status: 0, output: '' });
      seen.push(...shape(ours.body));
    }
    // the comparison covered the families the issue names
    for (const name of ['probe_success', 'probe_duration_seconds', 'probe_dns_lookup_time_seconds', 'probe_ip_protocol', 'probe_ip_addr_hash',
      'probe_icmp_reply_hop_limit', 'probe_failed_due_to_regex']) expect(seen).toContain(`# TYPE ${name} gauge`);
    for (const phase of ['resolve', 'setup', 'rtt']) expect(seen).toContain(`probe_icmp_duration_seconds{phase="${phase}"}`);
    const ok = stable((await curl(`http://${SOCKIT}/probe?module=icmp&target=${lab.dst.v4}`)).body);
    expect(ok.probe_success).toBe(1);
    expect(stable((await curl(`http://${SOCKIT}/probe?module=icmp&target=${DROPPED}`)).body).probe_success).toBe(0);
  });

  it("the same 400s, word for word", async () => {
    for (const path of ['probe?module=nope&target=x', 'probe?module=icmp', 'probe?target=x&module=']) {
      const [theirs, ours] = await Promise.all([curl(`http://${BLACKBOX}/${path}`), curl(`http://${SOCKIT}/${path}`)]);
      // blackbox_exporter has an http prober, sockit not: its default module (http_2xx) is unknown to both here
      expect({ path, ...ours }).toEqual({ path, ...theirs });
    }
  });

  it('prometheus scraping /probe (the README relabelling) and /metrics: probe_success 1 and 0, a growing continuous histogram', async () => {
    const prom = join(dir, 'prometheus');
    writeFileSync(join(dir, 'prometheus.yml'), `
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: blackbox
    metrics_path: /probe
    params:
      module: [icmp]
    static_configs:
      - targets: [${lab.dst.v4}, ${DROPPED}]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: ${SOCKIT}
  - job_name: sockit_exporter
    static_configs:
      - targets: ['${SOCKIT}']
`);
    const p = lab.spawn(lab.src, ['prometheus', '--config.file', join(dir, 'prometheus.yml'), '--storage.tsdb.path', prom, '--web.listen-address', PROMETHEUS]);
    await waitFor(p, /Server is ready to receive web requests/, 30_000);
    const query = async (q: string) => {
      const r = await curl(`http://${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(q)}`);
      return (JSON.parse(r.body) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
    };
    const scrapes = async (n: number) => {
      for (let i = 0; i < 60; i++) {
        const up = await query('count_over_time(up[1m])');
        if (up.length >= 3 && up.every((r) => Number(r.value[1]) >= n)) return;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error('prometheus did not scrape twice');
    };
    await scrapes(2);
    const success = Object.fromEntries((await query('probe_success')).map((r) => [r.metric.instance, r.value[1]]));
    expect(success).toEqual({ [lab.dst.v4]: '1', [DROPPED]: '0' });
    const up = Object.fromEntries((await query('up')).map((r) => [`${r.metric.job}/${r.metric.instance}`, r.value[1]]));
    expect(up[`sockit_exporter/${SOCKIT}`]).toBe('1');
    const count = async () => {
      const r = await query(`smokeping_response_duration_seconds_count{ip="${lab.dst.v4}"}`);
      expect(r).toHaveLength(1);
      // source="" is there in the exposition; Prometheus stores an empty label as none
      expect(r[0]!.metric).toMatchObject({ host: lab.dst.v4, ip: lab.dst.v4, job: 'sockit_exporter' });
      return Number(r[0]!.value[1]);
    };
    const first = await count();
    const buckets = await query(`smokeping_response_duration_seconds_bucket{ip="${lab.dst.v4}"}`);
    expect(buckets.map((b) => b.metric.le)).toContain('5e-05');
    await scrapes(4);
    expect(await count()).toBeGreaterThan(first);
  }, 90_000);
});
