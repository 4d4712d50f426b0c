import { describe, expect, it } from 'vitest';
import {
  CONTENT_TYPE,
  counter,
  DEFAULT_BUCKETS,
  escapeHelp,
  escapeLabelValue,
  exponentialBuckets,
  formatValue,
  gauge,
  histogram,
  Histogram,
  negotiate,
  render,
  type MetricFamily,
} from '../../src/output/openmetrics.js';
import { promtoolCheckMetrics, promtoolParseOpenMetrics } from '../helpers/promtool.js';

function families(): MetricFamily[] {
  const h = new Histogram(exponentialBuckets(0.00005, 2, 4));
  for (const v of [0.00001, 0.0001, 0.00015, 0.0003, 5]) h.observe(v);
  return [
    gauge('probe_success', 'Displays whether or not the probe was a success', 1),
    gauge('probe_duration_seconds', 'Returns how long the probe took to complete in seconds', 0.000123),
    counter('smokeping_requests_total', 'Counter of pings sent.', [
      { labels: { host: 'a "quoted"\\host\nx', ip: '192.0.2.1', source: '' }, value: 3 },
      { labels: { host: 'b', ip: '2001:db8::1', source: '' }, value: 7 },
    ]),
    histogram('smokeping_response_duration_seconds', 'A histogram of latencies for ping responses.', [h.sample({ host: 'a', ip: '192.0.2.1', source: '' })]),
    gauge('odd_values', 'Help with a backslash \\ a "quote" and a\nnewline.', [
      { labels: { k: 'inf' }, value: Infinity },
      { labels: { k: 'ninf' }, value: -Infinity },
      { labels: { k: 'nan' }, value: NaN },
    ]),
  ];
}

describe('render (Prometheus text 0.0.4)', () => {
  const text = render(families(), 'prometheus');

  it('writes HELP, TYPE and samples as the text format spells them', () => {
    const lines = text.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      '# HELP probe_success Displays whether or not the probe was a success',
      '# TYPE probe_success gauge',
      'probe_success 1',
    ]);
    expect(lines).toContain('# TYPE smokeping_requests_total counter');
    expect(lines).toContain('smokeping_requests_total{host="a \\"quoted\\"\\\\host\\nx",ip="192.0.2.1",source=""} 3');
    expect(lines).toContain('# HELP odd_values Help with a backslash \\\\ a "quote" and a\\nnewline.');
    expect(lines).toContain('odd_values{k="inf"} +Inf');
    expect(lines).toContain('odd_values{k="ninf"} -Inf');
    expect(lines).toContain('odd_values{k="nan"} NaN');
    expect(text.endsWith('\n')).toBe(true);
    expect(text).not.toContain('# EOF');
  });

  it('makes histogram buckets cumulative, with +Inf, _sum and _count', () => {
    const h = text.split('\n').filter((l) => l.startsWith('smokeping_response_duration_seconds'));
    const lab = 'host="a",ip="192.0.2.1",source=""';
    expect(h).toEqual([
      `smokeping_response_duration_seconds_bucket{${lab},le="5e-05"} 1`,
      `smokeping_response_duration_seconds_bucket{${lab},le="0.0001"} 2`,
      `smokeping_response_duration_seconds_bucket{${lab},le="0.0002"} 3`,
      `smokeping_response_duration_seconds_bucket{${lab},le="0.0004"} 4`,
      `smokeping_response_duration_seconds_bucket{${lab},le="+Inf"} 5`,
      `smokeping_response_duration_seconds_sum{${lab}} ${0.00001 + 0.0001 + 0.00015 + 0.0003 + 5}`,
      `smokeping_response_duration_seconds_count{${lab}} 5`,
    ]);
  });

  it('is accepted by promtool check metrics, lint clean', () => {
    const r = promtoolCheckMetrics(text);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('promtool flags what lint should flag (the check is live)', () => {
    const bad = render([counter('requests', 'no total suffix', 1), gauge('x_seconds', '', 1)], 'prometheus');
    const r = promtoolCheckMetrics(bad);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/requests.*_total/);
    expect(r.output).toMatch(/x_seconds no help text/);
  });
});

describe('render (OpenMetrics 1.0)', () => {
  const om = render(families(), 'openmetrics');

  it('names counter families without _total, escapes quotes in HELP, ends in # EOF', () => {
    const lines = om.split('\n');
    expect(lines).toContain('# HELP smokeping_requests Counter of pings sent.');
    expect(lines).toContain('# TYPE smokeping_requests counter');
    expect(lines).toContain('smokeping_requests_total{host="b",ip="2001:db8::1",source=""} 7.0');
    expect(lines).toContain('# HELP odd_values Help with a backslash \\\\ a \\"quote\\" and a\\nnewline.');
    expect(lines).toContain('smokeping_response_duration_seconds_bucket{host="a",ip="192.0.2.1",source="",le="+Inf"} 5');
    expect(om.endsWith('# EOF\n')).toBe(true);
  });

  it('writes integral bucket bounds as canonical floats', () => {
    const h = new Histogram([1, 2]);
    h.observe(1.5);
    const t = render([histogram('t_seconds', 'T.', [h.sample()])], 'openmetrics');
    expect(t).toContain('t_seconds_bucket{le="1.0"} 0\nt_seconds_bucket{le="2.0"} 1\nt_seconds_bucket{le="+Inf"} 1\n');
    expect(render([histogram('t_seconds', 'T.', [h.sample()])], 'prometheus')).toContain('t_seconds_bucket{le="1"} 0');
  });

  it('units appear only in OpenMetrics', () => {
    const f = [{ ...gauge('probe_duration_seconds', 'D.', 1), unit: 'seconds' }];
    expect(render(f, 'openmetrics')).toContain('# UNIT probe_duration_seconds seconds\n');
    expect(render(f, 'prometheus')).not.toContain('UNIT');
  });

  it("is parsed by Prometheus's OpenMetrics parser (promtool)", () => {
    const r = promtoolParseOpenMetrics(om);
    expect(r.output).not.toMatch(/error|expected|invalid/i);
    expect(r.status).toBe(0);
    // and that parser is strict: the text format is not OpenMetrics
    expect(promtoolParseOpenMetrics(render(families(), 'prometheus')).status).not.toBe(0);
  });
});

describe('families and histograms', () => {
  it('rejects bad names, duplicate families and descending buckets', () => {
    expect(() => render([gauge('1bad', 'x', 1)])).toThrow(/bad metric name/);
    expect(() => render([gauge('ok', 'x', [{ labels: { 'bad-label': 'v' }, value: 1 }])])).toThrow(/bad label name/);
    expect(() => render([gauge('ok', 'x', 1), gauge('ok', 'y', 2)])).toThrow(/twice/);
    expect(() => new Histogram([2, 1])).toThrow(/ascend/);
  });

  it('counts a value equal to a bound in that bucket (le is ≤)', () => {
    const h = new Histogram([0.1, 0.2]);
    h.observe(0.1);
    h.observe(0.2);
    h.observe(0.3);
    expect(h.counts).toEqual([1, 1, 1]);
    expect(h.count).toBe(3);
  });

  it('has client_golang DefBuckets', () => {
    expect(DEFAULT_BUCKETS).toEqual([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    expect(render([])).toBe('');
    expect(render([], 'openmetrics')).toBe('# EOF\n');
  });

  it("formats floats as Go's strconv 'g' does (le values are compared as strings)", () => {
    expect(formatValue(5e-5)).toBe('5e-05');
    expect(formatValue(0.0001)).toBe('0.0001');
    expect(formatValue(123456)).toBe('123456');
    expect(formatValue(1234567)).toBe('1.234567e+06');
    expect(formatValue(1e21)).toBe('1e+21');
    expect(formatValue(-2.5e-7)).toBe('-2.5e-07');
    expect(formatValue(0)).toBe('0');
    expect(formatValue(1, 'openmetrics')).toBe('1.0');
    expect(formatValue(5e-5, 'openmetrics')).toBe('5e-05');
  });

  it('escapes label values and help as specified', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeHelp('a\\b"c\nd', 'prometheus')).toBe('a\\\\b"c\\nd');
    expect(escapeHelp('a\\b"c\nd', 'openmetrics')).toBe('a\\\\b\\"c\\nd');
  });
});

describe('negotiate', () => {
  it("picks OpenMetrics for Prometheus 2.x's scrape Accept header", () => {
    const prom = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    expect(negotiate(prom)).toBe('openmetrics');
  });

  it('picks text for curl, browsers, text/plain and unknown versions', () => {
    expect(negotiate(undefined)).toBe('prometheus');
    expect(negotiate('*/*')).toBe('prometheus');
    expect(negotiate('text/html,application/xhtml+xml,*/*;q=0.8')).toBe('prometheus');
    expect(negotiate('text/plain;version=0.0.4')).toBe('prometheus');
    expect(negotiate('application/openmetrics-text;version=2.0.0')).toBe('prometheus');
    expect(negotiate('text/plain;q=0.9, application/openmetrics-text;q=0.5')).toBe('prometheus');
    expect(negotiate('text/plain;q=0.5, application/openmetrics-text; version="1.0.0"')).toBe('openmetrics');
    expect(negotiate('application/openmetrics-text;q=0')).toBe('prometheus');
  });

  it('has the two content types', () => {
    expect(CONTENT_TYPE.prometheus).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(CONTENT_TYPE.openmetrics).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
  });
});
