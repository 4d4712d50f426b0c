// The gauges one probe reports, gathered as blackbox_exporter's per-probe
// registry gathers them: families sorted by name, series by label values.
import type { MetricFamily, Sample } from '../../output/openmetrics.js';

interface Gauge {
  help: string;
  series: Map<string, Sample>;
}

export class ProbeMetrics {
  private readonly gauges = new Map<string, Gauge>();

  private register(name: string, help: string): void {
    if (!this.gauges.has(name)) this.gauges.set(name, { help, series: new Map() });
  }

  /** Set a series (registering the gauge); labels in the order given. */
  set(name: string, help: string, value: number, labels?: Record<string, string>): void {
    this.register(name, help);
    const key = labels ? JSON.stringify(Object.values(labels)) : '';
    this.gauges.get(name)!.series.set(key, { labels, value });
  }

  /** Add to a series (0 when new), as Gauge.Add. */
  add(name: string, help: string, delta: number, labels?: Record<string, string>): void {
    this.set(name, help, this.get(name, labels) + delta, labels);
  }

  get(name: string, labels?: Record<string, string>): number {
    const key = labels ? JSON.stringify(Object.values(labels)) : '';
    return this.gauges.get(name)?.series.get(key)?.value ?? 0;
  }

  /** The families, sorted by name; a gauge with no series (registered, never set) reports nothing. */
  families(): MetricFamily[] {
    return [...this.gauges.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([name, g]) => {
        const series = [...g.series.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
        if (series.length === 0) return [];
        return [{ name, help: g.help, type: 'gauge' as const, samples: series }];
      });
  }
}
