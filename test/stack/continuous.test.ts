// Continuous probing's reload on loopback (root: a raw ICMP socket, as the
// host's ping_group_range is closed): update() starts pingers for added
// targets, stops those removed, keeps the series of those that stay, and
// moves a target to a new fleet when its group's settings change.
import { afterEach, describe, expect, it } from 'vitest';
import { ContinuousProber, type ResolvedGroup } from '../../src/stack/prober/continuous.js';
import { isRoot } from '../helpers/root.js';

const group = (addresses: string[], intervalMs = 50): ResolvedGroup => ({
  group: { hosts: addresses, intervalMs, network: 'ip', size: 56 },
  targets: addresses.map((a) => ({ host: a, address: a, family: 4, source: '' })),
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** smokeping_requests_total per ip */
function requests(c: ContinuousProber): Map<string, number> {
  const f = c.families().find((x) => x.name === 'smokeping_requests_total');
  return new Map((f?.samples ?? []).map((s) => [s.labels!.ip!, 'value' in s ? s.value : Number.NaN]));
}

describe.skipIf(!isRoot)('ContinuousProber.update (loopback)', () => {
  let c: ContinuousProber | undefined;
  afterEach(() => c?.stop());

  it('adds, removes and keeps targets; a changed interval moves a target to a new fleet', async () => {
    c = new ContinuousProber([group(['127.0.0.1'])]);
    c.start();
    await sleep(300);
    const first = requests(c).get('127.0.0.1')!;
    expect(first).toBeGreaterThanOrEqual(3);

    expect(c.update([group(['127.0.0.1', '127.0.0.2'])])).toEqual({ added: 1, removed: 0 });
    await sleep(300);
    const both = requests(c);
    expect([...both.keys()].sort()).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(both.get('127.0.0.1')!).toBeGreaterThan(first + 2); // kept counting
    expect(both.get('127.0.0.2')!).toBeGreaterThanOrEqual(3);

    expect(c.update([group(['127.0.0.2'])])).toEqual({ added: 0, removed: 1 });
    expect([...requests(c).keys()]).toEqual(['127.0.0.2']);
    expect(c.targetCount).toBe(1);

    // the same host at another interval: another fleet, a fresh series
    expect(c.update([group(['127.0.0.2'], 100)])).toEqual({ added: 1, removed: 1 });
    await sleep(250);
    const moved = requests(c).get('127.0.0.2')!;
    expect(moved).toBeGreaterThanOrEqual(2);
    expect(moved).toBeLessThanOrEqual(4); // 100 ms apart, not the old 50
    const h = c.families().find((x) => x.name === 'smokeping_response_duration_seconds')!;
    expect(h.samples.length).toBe(1);

    expect(c.update([])).toEqual({ added: 0, removed: 1 });
    expect(c.targetCount).toBe(0);
    expect(c.families().find((x) => x.name === 'smokeping_requests_total')).toBeUndefined();
  });
});
