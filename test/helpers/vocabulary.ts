// The JSON vocabulary of sockit(1) (JSON OUTPUT), checked mechanically: a
// command's --json stdout either conforms or this says where it does not.

const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
const ADDRESS_KEYS = new Set(['address', 'from', 'source', 'destination', 'gateway', 'offender', 'group']);

/** Every way the lines break the vocabulary; empty when they keep it. */
export function vocabularyProblems(stdout: string, exitCode: number | null): string[] {
  const problems: string[] = [];
  const lines = stdout.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) return ['no JSON lines'];
  const records: Record<string, unknown>[] = [];
  lines.forEach((line, i) => {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      problems.push(`line ${i + 1} is not JSON: ${line.slice(0, 80)}`);
      return;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      problems.push(`line ${i + 1} is not an object`);
      return;
    }
    records.push(v as Record<string, unknown>);
    const type = (v as { type?: unknown }).type;
    if (typeof type !== 'string' || !SNAKE.test(type)) problems.push(`line ${i + 1}: type is ${JSON.stringify(type)}`);
    walk(v, `line ${i + 1}`, problems);
  });
  const last = records.at(-1);
  if (last?.type !== 'summary') problems.push(`the last line is not a summary: ${JSON.stringify(last)?.slice(0, 120)}`);
  else if (last.exit_code !== exitCode) problems.push(`summary exit_code ${String(last.exit_code)} but the process exited ${String(exitCode)}`);
  const summaries = records.filter((r) => r.type === 'summary').length;
  if (summaries > 1) problems.push(`${summaries} summary records`);
  return problems;
}

function walk(v: unknown, where: string, problems: string[]): void {
  if (Array.isArray(v)) {
    v.forEach((x, i) => walk(x, `${where}[${i}]`, problems));
    return;
  }
  if (typeof v !== 'object' || v === null) return;
  for (const [k, x] of Object.entries(v)) {
    const at = `${where}.${k}`;
    if (!SNAKE.test(k)) problems.push(`${at}: key is not snake_case`);
    if ((k.endsWith('_ms') || k.endsWith('_s')) && x !== null && typeof x !== 'number') problems.push(`${at}: a duration that is not a number`);
    if (typeof x === 'number' && k.endsWith('_ms') && Math.round(x * 1e3) / 1e3 !== x) problems.push(`${at}: ${x} has more than 3 decimals`);
    if (/^(seconds|secs|duration|elapsed|time|rtt|ms|usec|us|ns)$/.test(k)) problems.push(`${at}: a duration without its unit (*_ms)`);
    if (k === 'family' && x !== 4 && x !== 6 && x !== 'unix' && x !== null) problems.push(`${at}: family ${JSON.stringify(x)} is not 4, 6 or "unix"`);
    if (k === 'port' && x !== null && typeof x !== 'number') problems.push(`${at}: port ${JSON.stringify(x)} is not a number`);
    if (ADDRESS_KEYS.has(k) && x !== null && typeof x !== 'string' && typeof x !== 'object')
      problems.push(`${at}: address ${JSON.stringify(x)} is not a string`);
    if (x === '') problems.push(`${at}: empty string (use null)`);
    walk(x, at, problems);
  }
}
