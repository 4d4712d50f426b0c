// blackbox_exporter's HTTP side (main.go, prober/handler.go) on node:http:
// /probe, /metrics, /-/reload, /-/healthy, /logs, /config and the / page.
// Texts and status codes are blackbox_exporter's, so scrape configs and
// scripts that read them keep working.
import http from 'node:http';
import { stringify } from 'yaml';
import { CONTENT_TYPE, counter, gauge, negotiate, render, type MetricFamily } from '../../output/openmetrics.js';
import { debugOutput, DEFAULT_TIMEOUT_OFFSET_S, PROBER_FNS, probeTimeoutS, type ResultHistory, runProbe, type ProberConfig } from '../../stack/prober/index.js';
import type { ContinuousProber } from '../../stack/prober/continuous.js';

export interface ExporterState {
  config: ProberConfig;
  /** re-read the config file; throws its error */
  reload: () => Promise<void>;
  continuous?: ContinuousProber;
  timeoutOffsetS: number;
  history: ResultHistory;
  /** for /metrics */
  lastReloadOk: boolean;
  lastReloadS: number;
  unknownModules: number;
  /** logfmt lines for stderr */
  log: (level: string, msg: string, pairs?: Record<string, unknown>) => void;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Go's http.Error: the text and a newline, as plain text. */
function httpError(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(`${text}\n`);
}

function sendMetrics(req: http.IncomingMessage, res: http.ServerResponse, families: MetricFamily[]): void {
  const format = negotiate(req.headers.accept);
  res.writeHead(200, { 'Content-Type': CONTENT_TYPE[format] });
  res.end(render(families, format));
}

async function probe(state: ExporterState, req: http.IncomingMessage, res: http.ServerResponse, params: URLSearchParams): Promise<void> {
  const moduleName = params.get('module') || 'http_2xx';
  const module = state.config.modules.get(moduleName);
  if (!module) {
    state.unknownModules++;
    state.log('debug', 'Unknown module', { module: moduleName });
    return httpError(res, 400, `Unknown module ${JSON.stringify(moduleName)}`);
  }
  const header = req.headers['x-prometheus-scrape-timeout-seconds'];
  const timeoutS = probeTimeoutS(Array.isArray(header) ? header[0] : header, module, state.timeoutOffsetS);
  if (timeoutS === undefined) {
    return httpError(res, 500, `Failed to parse timeout from Prometheus header: strconv.ParseFloat: parsing ${JSON.stringify(header)}: invalid syntax`);
  }
  const target = params.get('target') ?? '';
  if (target === '') return httpError(res, 400, 'Target parameter is missing');
  if (!PROBER_FNS[module.prober]) return httpError(res, 400, `Unknown prober ${JSON.stringify(module.prober)}`);
  const r = await runProbe(moduleName, module, target, timeoutS);
  const debug = debugOutput(module, r);
  state.history.add(moduleName, target, debug, r.success);
  if (params.get('debug') === 'true') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(debug);
    return;
  }
  sendMetrics(req, res, r.families);
}

/** The exporter's own metrics, with the continuous probes' when there are any. */
export function ownMetrics(state: ExporterState): MetricFamily[] {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return [
    gauge('blackbox_exporter_config_last_reload_success_timestamp_seconds', 'Timestamp of the last successful configuration reload.', state.lastReloadS),
    gauge('blackbox_exporter_config_last_reload_successful', 'Blackbox exporter config loaded successfully.', state.lastReloadOk ? 1 : 0),
    counter('blackbox_module_unknown_total', 'Count of unknown modules requested by probes', state.unknownModules),
    counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', (cpu.user + cpu.system) / 1e6),
    gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', mem.rss),
    gauge(
      'process_start_time_seconds',
      'Start time of the process since unix epoch in seconds.',
      Math.round((Date.now() - process.uptime() * 1000) / 10) / 100,
    ),
    ...(state.continuous?.families() ?? []),
  ];
}

function indexPage(state: ExporterState): string {
  const modules = [...state.config.modules.entries()]
    .map(([name, m]) => `<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(m.prober)}</td><td>${m.timeoutS ? `${m.timeoutS}s` : ''}</td></tr>`)
    .join('');
  const recent = state.history
    .list()
    .reverse()
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.module)}</td><td>${escapeHtml(r.target)}</td><td>${r.success ? 'Success' : '<strong>Failure</strong>'}</td>` +
        `<td><a href='logs?id=${r.id}'>Logs</a></td></tr>`,
    )
    .join('');
  return `<html>
    <head><title>sockit exporter</title></head>
    <body>
    <h1>sockit exporter</h1>
    <p>A blackbox_exporter-compatible prober: <a href="probe?target=127.0.0.1&module=icmp">probe?target=...&amp;module=...</a> (add &amp;debug=true for the log)</p>
    <p><a href="metrics">Metrics</a></p>
    <p><a href="config">Configuration</a></p>
    <h2>Modules</h2>
    <table border='1'><tr><th>Module</th><th>Prober</th><th>Timeout</th></tr>${modules}</table>
    <h2>Recent Probes</h2>
    <table border='1'><tr><th>Module</th><th>Target</th><th>Result</th><th>Debug</th></tr>${recent}</table>
    </body>
    </html>`;
}

async function route(state: ExporterState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://exporter');
  switch (url.pathname) {
    case '/probe':
      return probe(state, req, res, url.searchParams);
    case '/metrics':
      return sendMetrics(req, res, ownMetrics(state));
    case '/-/reload':
      if (req.method !== 'POST') {
        res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('This endpoint requires a POST request.\n');
        return;
      }
      try {
        await state.reload();
        res.writeHead(200);
        res.end();
      } catch (e) {
        httpError(res, 500, `failed to reload config: ${(e as Error).message}`);
      }
      return;
    case '/-/healthy':
      res.writeHead(200);
      res.end('Healthy');
      return;
    case '/logs': {
      const id = url.searchParams.get('id') ?? '';
      if (!/^-?\d+$/.test(id)) return httpError(res, 500, 'Invalid probe id');
      const r = state.history.get(Number(id));
      if (!r) return httpError(res, 404, 'Probe id not found');
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(r.debug);
      return;
    }
    case '/config': {
      const modules = Object.fromEntries([...state.config.modules].map(([k, m]) => [k, m.source]));
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(stringify({ modules, ...(state.config.targets.length ? { targets: state.config.targets } : {}) }));
      return;
    }
    case '/':
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(indexPage(state));
      return;
    default:
      return httpError(res, 404, '404 page not found');
  }
}

export function createServer(state: ExporterState): http.Server {
  return http.createServer((req, res) => {
    route(state, req, res).catch((e) => {
      state.log('error', 'Request failed', { err: e as Error });
      if (!res.headersSent) httpError(res, 500, (e as Error).message);
      else res.destroy();
    });
  });
}

export { DEFAULT_TIMEOUT_OFFSET_S };
