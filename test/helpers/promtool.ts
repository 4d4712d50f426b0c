// promtool, Prometheus's own checker, run on an exposition.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ToolResult {
  status: number | null;
  output: string;
}

/** `promtool check metrics` (the text-format parser and its lint) on `text`. */
export function promtoolCheckMetrics(text: string): ToolResult {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/**
 * Prometheus's OpenMetrics parser on `text`, through `promtool tsdb
 * create-blocks-from openmetrics` (promtool 2.42's `check metrics` reads the
 * text format only). That command wants a timestamp on every sample, so one
 * is appended to each sample line; everything else is parsed as given.
 */
export function promtoolParseOpenMetrics(text: string): ToolResult {
  const dir = mkdtempSync(join(tmpdir(), 'sockit-om-'));
  try {
    const stamped = text.replace(/^([^#\n].*)$/gm, '$1 1700000000');
    writeFileSync(join(dir, 'in.om'), stamped);
    const r = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'in.om'), join(dir, 'out')], {
      encoding: 'utf8',
    });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
