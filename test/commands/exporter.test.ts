// sockit exporter on loopback: blackbox_exporter's /probe API (its 400
// texts, probe_success 0 on failure, the debug output), tcp and udp probes
// against servers this test runs, /metrics, reload by POST and SIGHUP, the
// config checks, and promtool on every exposition in both formats.
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Running, sockit, sockitBin, startSockit } from '../helpers/cli.js';
import { promtoolCheckMetrics, promtoolParseOpenMetrics } from '../helpers/promtool.js';
import { isRoot } from '../helpers/root.js';

const OM_ACCEPT = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** metric name → value, from a text exposition (no labels) */
export function values(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const r = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (r) m.set(r[1]! + (r[2] ?? ''), Number(r[3]));
  }
  return m;
}

const config = (extra = '') => `
modules:
  icmp:
    prober: icmp
    timeout: 2s
    icmp:
      preferred_ip_protocol: ip4
  tcp_connect:
    prober: tcp
    timeout: 2s
  banner:
    prober: tcp
    timeout: 2s
    tcp:
      query_response:
        - expect: "^HELLO (\\\\w+)"
          send: "HI \${1}"
        - expect: "^OK$"
  udp_echo:
    prober: udp
    timeout: 1s
    udp:
      preferred_ip_protocol: ip4
      query_response:
        - send: "ping"
        - expect: "^pong ping$"
  dns_tcp:
    prober: dns
    timeout: 1s
    dns:
      preferred_ip_protocol: ip4
      transport_protocol: tcp
      query_name: www.example
      query_type: A
  http_2xx:
    prober: http
${extra}`;

/** A DNS-over-TCP responder (RFC 1035 4.2.2): every query answered with one A record, 192.0.2.99. */
function dnsTcpServer(): net.Server {
  return net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const q = Buffer.from(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      q.writeUInt16BE(0x8580, 2); // QR, AA, RD, RA; NOERROR
      q.writeUInt16BE(1, 6); // ANCOUNT
      const rr = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 192, 0, 2, 99]);
      const reply = Buffer.concat([q, rr]);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(reply.length);
      s.end(Buffer.concat([len, reply]));
    });
    s.on('error', () => {});
  });
}

describe('sockit exporter on loopback', () => {
  let dir: string;
  let cfg: string;
  let exporter: Running;
  let base: string;
  let tcpServer: net.Server;
  let tcpPort: number;
  let closedPort: number;
  let udpServer: dgram.Socket;
  let udpPort: number;
  let dnsServer: net.Server;
  let dnsPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sockit-exporter-'));
    cfg = join(dir, 'blackbox.yml');
    writeFileSync(cfg, config());
    tcpServer = net.createServer((s) => {
      s.write('HELLO world\r\n');
      s.on('data', (d) => {
        if (d.toString() === 'HI world\n') s.end('OK\n');
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => tcpServer.listen(0, '127.0.0.1', r));
    tcpPort = (tcpServer.address() as net.AddressInfo).port;
    // a port nobody listens on: take one and give it back
    const tmp = net.createServer();
    await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
    closedPort = (tmp.address() as net.AddressInfo).port;
    await new Promise<void>((r) => tmp.close(() => r()));
    udpServer = dgram.createSocket('udp4');
    udpServer.on('message', (msg, rinfo) => udpServer.send(`pong ${msg.toString()}\n`, rinfo.port, rinfo.address));
    await new Promise<void>((r) => udpServer.bind(0, '127.0.0.1', r));
    udpPort = udpServer.address().port;
    dnsServer = dnsTcpServer();
    await new Promise<void>((r) => dnsServer.listen(0, '127.0.0.1', r));
    dnsPort = (dnsServer.address() as net.AddressInfo).port;
    // blackbox_exporter's own flag, in its --flag=value form (--listen is the same; the test below uses it)
    exporter = startSockit(['exporter', '--config.file', cfg, '--web.listen-address=127.0.0.1:0']);
    const line = await exporter.line(/msg="Listening on"/, 20_000, 'stderr');
    base = `http://${/address=(\S+)/.exec(line)![1]}`;
  });

  afterAll(async () => {
    await exporter?.stop();
    tcpServer?.close();
    udpServer?.close();
    dnsServer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const r = await fetch(base + path, { headers });
    return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
  };

  it("answers 400 with blackbox_exporter's texts for an unknown module, a missing target, a prober it lacks", async () => {
    expect(await get('/probe?target=127.0.0.1&module=nope')).toMatchObject({ status: 400, body: 'Unknown module "nope"\n' });
    expect(await get('/probe?module=icmp')).toMatchObject({ status: 400, body: 'Target parameter is missing\n' });
    expect(await get('/probe?target=127.0.0.1')).toMatchObject({ status: 400, body: 'Unknown prober "http"\n' });
    const t = await get('/probe?target=127.0.0.1&module=icmp', { 'X-Prometheus-Scrape-Timeout-Seconds': 'ten' });
    expect(t.status).toBe(500);
    expect(t.body).toMatch(/^Failed to parse timeout from Prometheus header: /);
  });

  it.skipIf(!isRoot)('icmp: probe_success 1 with the phases and the hop limit', async () => {
    const r = await get('/probe?target=127.0.0.1&module=icmp');
    expect(r.status).toBe(200);
    expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const v = values(r.body);
    expect(v.get('probe_success')).toBe(1);
    expect(v.get('probe_ip_protocol')).toBe(4);
    expect(v.get('probe_icmp_reply_hop_limit')).toBe(64);
    for (const phase of ['resolve', 'setup', 'rtt']) expect(v.get(`probe_icmp_duration_seconds{phase="${phase}"}`)).toBeGreaterThan(0);
    expect(promtoolCheckMetrics(r.body)).toEqual({ status: 0, output: '' });
  });

  it('tcp: connects, and runs the query_response dialogue with ${1} expanded', async () => {
    const ok = values((await get(`/probe?target=127.0.0.1:${tcpPort}&module=banner`)).body);
    expect(ok.get('probe_success')).toBe(1);
    expect(ok.get('probe_failed_due_to_regex')).toBe(0);
    const refused = await get(`/probe?target=127.0.0.1:${closedPort}&module=tcp_connect&debug=true`);
    expect(refused.status).toBe(200);
    expect(refused.body).toMatch(/^Logs for the probe:\n/);
    expect(refused.body).toMatch(/msg="Error dialing TCP" err=.*ECONNREFUSED/);
    expect(refused.body).toContain('\n\n\nMetrics that would have been returned:\n');
    expect(refused.body).toContain('probe_success 0\n');
    expect(refused.body).toMatch(/\n\n\nModule configuration:\nprober: tcp\ntimeout: 2s\n/);
  });

  it('tcp: a banner that does not match fails with probe_failed_due_to_regex 1 (at EOF; a read timeout is not a mismatch)', async () => {
    const closing = net.createServer((s) => s.end('HELLO world\n'));
    await new Promise<void>((r) => closing.listen(0, '127.0.0.1', r));
    const closingPort = (closing.address() as net.AddressInfo).port;
    writeFileSync(cfg, config(`  wrong_banner:\n    prober: tcp\n    timeout: 1s\n    tcp:\n      query_response:\n        - expect: "^SSH-"\n`));
    expect((await fetch(`${base}/-/reload`, { method: 'POST' })).status).toBe(200);
    const v = values((await get(`/probe?target=127.0.0.1:${closingPort}&module=wrong_banner`)).body);
    closing.close();
    expect(v.get('probe_success')).toBe(0);
    expect(v.get('probe_failed_due_to_regex')).toBe(1);
    // the banner server keeps the connection open: the read times out, as bufio.Scanner's does
    const t = await get(`/probe?target=127.0.0.1:${tcpPort}&module=wrong_banner&debug=true`);
    expect(t.body).toMatch(/msg="Error reading from connection" err=".*i\/o timeout"/);
    expect(t.body).toContain('probe_failed_due_to_regex 0\n');
  });

  it('udp (sockit): send/expect over a connected socket; port unreachable fails at once via IP_RECVERR', async () => {
    const ok = values((await get(`/probe?target=127.0.0.1:${udpPort}&module=udp_echo`)).body);
    expect(ok.get('probe_success')).toBe(1);
    expect(ok.get('probe_udp_icmp_error_type')).toBe(-1);
    const t0 = performance.now();
    const dead = await get(`/probe?target=127.0.0.1:${closedPort}&module=udp_echo&debug=true`);
    expect(performance.now() - t0).toBeLessThan(900); // well before the module's 1 s timeout
    expect(dead.body).toContain('probe_success 0\n');
    expect(dead.body).toContain('probe_udp_icmp_error_type 3\n');
    expect(dead.body).toMatch(/err="Destination Port Unreachable from 127.0.0.1"/);
  });

  it('dns over tcp: the length-prefixed exchange, the section counts, the phases', async () => {
    const r = await get(`/probe?target=127.0.0.1:${dnsPort}&module=dns_tcp&debug=true`);
    expect(r.body).toMatch(/msg="Making DNS query" target=127.0.0.1:\d+ dial_protocol=tcp4 query=www.example type=1 class=1/);
    const v = values(r.body.slice(r.body.indexOf('Metrics that would have been returned:')));
    expect(v.get('probe_success')).toBe(1);
    expect(v.get('probe_dns_answer_rrs')).toBe(1);
    expect(v.get('probe_dns_authority_rrs')).toBe(0);
    expect(v.get('probe_dns_query_succeeded')).toBe(1);
    expect(v.get('probe_dns_duration_seconds{phase="request"}')).toBeGreaterThan(0);
    const refused = values((await get(`/probe?target=127.0.0.1:${closedPort}&module=dns_tcp`)).body);
    expect(refused.get('probe_success')).toBe(0);
    expect(refused.get('probe_dns_query_succeeded')).toBe(0);
  });

  it('serves OpenMetrics when the scraper asks, and both formats pass promtool', async () => {
    for (const path of [`/probe?target=127.0.0.1:${tcpPort}&module=banner`, `/probe?target=127.0.0.1:${closedPort}&module=tcp_connect`, '/metrics']) {
      const text = await get(path);
      expect(promtoolCheckMetrics(text.body)).toEqual({ status: 0, output: '' });
      const om = await get(path, { Accept: OM_ACCEPT });
      expect(om.type).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
      expect(om.body.endsWith('# EOF\n')).toBe(true);
      expect(promtoolParseOpenMetrics(om.body).status).toBe(0);
    }
  });

  it("/metrics: the exporter's own metrics; / lists modules and recent probes with links to their logs", async () => {
    const v = values((await get('/metrics')).body);
    expect(v.get('blackbox_exporter_config_last_reload_successful')).toBe(1);
    expect(v.get('blackbox_module_unknown_total')).toBeGreaterThanOrEqual(1);
    const page = await get('/');
    expect(page.type).toBe('text/html');
    expect(page.body).toContain('<td>banner</td><td>tcp</td><td>2s</td>');
    const id = /<a href='logs\?id=(\d+)'>Logs<\/a>/.exec(page.body)![1];
    const logs = await get(`/logs?id=${id}`);
    expect(logs.body).toMatch(/^Logs for the probe:\n/);
    expect((await get('/logs?id=99999')).status).toBe(404);
    expect((await get('/-/reload')).body).toBe('This endpoint requires a POST request.\n');
  });

  it('a bad config on reload keeps the old one and says so; SIGHUP reloads a good one', async () => {
    writeFileSync(cfg, config('  broken:\n    prober: icmp\n    icmp:\n      tll: 1\n'));
    const r = await fetch(`${base}/-/reload`, { method: 'POST' });
    expect(r.status).toBe(500);
    expect(await r.text()).toMatch(/^failed to reload config: .*field tll not found/);
    expect(values((await get('/metrics')).body).get('blackbox_exporter_config_last_reload_successful')).toBe(0);
    expect((await get(`/probe?target=127.0.0.1:${tcpPort}&module=banner`)).status).toBe(200);
    writeFileSync(cfg, config(`  late:\n    prober: tcp\n    timeout: 1s\n`));
    const reloads = () => exporter.stderr.split('\n').filter((l) => l.includes('msg="Reloaded config file"')).length;
    const before = reloads();
    exporter.kill('SIGHUP');
    await exporter.line(() => reloads() > before, 10_000, 'stderr');
    expect(values((await get(`/probe?target=127.0.0.1:${tcpPort}&module=late`)).body).get('probe_success')).toBe(1);
    expect(values((await get('/metrics')).body).get('blackbox_exporter_config_last_reload_successful')).toBe(1);
  });
});

describe('sockit exporter with no config file', () => {
  it("no --config.file and no ./blackbox.yml: the modules of blackbox_exporter's example that sockit serves, probing at once", async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sockit-exporter-'));
    const server = net.createServer((c) => c.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const exporter = new Running(
      spawn(process.execPath, [sockitBin, 'exporter', '--listen', '127.0.0.1:0'], {
        cwd: empty,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    try {
      const line = await exporter.line(/msg="Listening on"/, 20_000, 'stderr');
      const base = `http://${/address=(\S+)/.exec(line)![1]}`;
      expect(exporter.stderr).toMatch(
        /level=info msg="No config file: the built-in modules" file=blackbox\.yml modules=tcp_connect,ssh_banner,irc_banner,icmp,icmp_ttl5\n/,
      );
      const probe = async (q: string) => values(await (await fetch(`${base}/probe?${q}`)).text()).get('probe_success');
      expect(await probe(`target=127.0.0.1:${port}&module=tcp_connect`)).toBe(1);
      // the ssh banner the example expects is not there: the peer closes at once
      expect(await probe(`target=127.0.0.1:${port}&module=ssh_banner`)).toBe(0);
      if (isRoot) expect(await probe('target=127.0.0.1&module=icmp')).toBe(1);
      const r = await fetch(`${base}/probe?target=127.0.0.1&module=http_2xx`);
      expect(r.status).toBe(400);
      expect(await r.text()).toBe('Unknown module "http_2xx"\n');
    } finally {
      await exporter.stop();
      server.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('sockit exporter: bad input', () => {
  it('a config with an unknown key: one line naming it, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockit-exporter-'));
    try {
      writeFileSync(join(dir, 'b.yml'), 'modules:\n  icmp:\n    prober: icmp\n    icmp:\n      payload: 3\n');
      const r = await sockit(['exporter', '--config.file', join(dir, 'b.yml'), '--config.check']);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`sockit exporter: error parsing config file ${join(dir, 'b.yml')}: line 5: field payload not found in module "icmp".icmp\n`);
      writeFileSync(join(dir, 'g.yml'), config());
      const ok = await sockit(['exporter', '--config.file', join(dir, 'g.yml'), '--config.check']);
      expect(ok.code).toBe(0);
      expect(ok.stderr).toMatch(/msg="Config file is ok exiting..."/);
      const missing = await sockit(['exporter', '--config.file', join(dir, 'none.yml')]);
      expect(missing.code).toBe(1);
      // blackbox_exporter's words, the real one run on the same path: err="error reading config file: open ...: no such file or directory"
      const theirs = spawnSync('prometheus-blackbox-exporter', ['--config.file', join(dir, 'none.yml')], { encoding: 'utf8', timeout: 10_000 });
      const want = /err="(error reading config file: [^"]+)"/.exec(theirs.stderr)?.[1];
      expect(want).toBe(`error reading config file: open ${join(dir, 'none.yml')}: no such file or directory`);
      expect(missing.stderr).toBe(`sockit exporter: ${want}\n`);
      const isDir = await sockit(['exporter', '--config.file', dir]);
      expect([isDir.code, isDir.stderr]).toEqual([1, `sockit exporter: error reading config file: read ${dir}: is a directory\n`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("unknown keys at every level: the line and field blackbox_exporter's --config.check names (the real one run on the same files)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockit-exporter-'));
    const files = [
      'modulesx: {}\n',
      'modules:\n  a:\n    prober: icmp\n    timeoutx: 1s\n',
      'modules:\n  a:\n    prober: icmp\n    icmp:\n      bogus: 1\n',
      'modules:\n  a:\n    prober: tcp\n    tcp:\n      query_response:\n        - expect: "^x"\n          sendx: y\n',
      'modules:\n  a:\n    prober: dns\n    dns:\n      query_name: x\n      validate_answer_rrs:\n        fail_if_bogus: [a]\n',
      'modules:\n  a:\n    prober: dns\n    dns:\n      query_name: x\n      validate_additional_rrs:\n        fail_if_none_matches_regexp: [a]\n      bogus_rrs: {}\n',
    ];
    try {
      for (const [i, text] of files.entries()) {
        const file = join(dir, `b${i}.yml`);
        writeFileSync(file, text);
        const ours = await sockit(['exporter', '--config.file', file, '--config.check']);
        const theirs = spawnSync('prometheus-blackbox-exporter', ['--config.check', '--config.file', file], { encoding: 'utf8' });
        // theirs: err="error parsing config file: yaml: unmarshal errors:\n  line 5: field bogus not found in type config.plain"
        const want = /(line \d+: field \w+ not found in) type config\.plain/.exec(theirs.stderr)?.[1];
        expect({ text, want }).toEqual({ text, want: expect.any(String) });
        // blackbox_exporter exits 1; sockit keeps its rule for bad input (exit 2)
        expect(theirs.status).toBe(1);
        expect(ours.code).toBe(2);
        expect(ours.stderr.split('\n').length).toBe(2);
        expect(ours.stderr).toContain(`: ${want} `);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a bad listen address or interval: exit 2', async () => {
    const a = await sockit(['exporter', '--listen', 'nowhere', '--config.file', '/dev/null']);
    expect(a.code).toBe(2);
    expect(a.stderr).toBe("sockit exporter: invalid listen address: 'nowhere' (ADDR:PORT, e.g. :9115 or 127.0.0.1:9115)\n");
    const web = await sockit(['exporter', '--web.listen-address', 'nowhere', '--config.file', '/dev/null']);
    expect([web.code, web.stderr]).toEqual([2, a.stderr]);
    const b = await sockit(['exporter', '--ping', '127.0.0.1', '--ping.interval', '1', '--config.file', '/dev/null']);
    expect(b.code).toBe(2);
    expect(b.stderr).toBe("sockit exporter: invalid ping interval: '1'\n");
    const c = await sockit(['exporter', '--log.level', 'loud']);
    expect(c.code).toBe(2);
    expect(c.stderr).toBe("sockit exporter: invalid log level: 'loud' (debug, info, warn or error)\n");
  });
});
