// sockit fping: fping 5.1 on the core's fleet engine (src/stack/ping/
// fleet.ts). This file reads like fping's main(): options (options.ts) ->
// the target list (targets.ts) -> the fleet -> fping's accounting
// (stats.ts) -> its events rendered as fping's text (text.ts) or JSON lines.
import { type Clock, systemClock } from '../../stack/clock.js';
import { PermissionError, isSystemError, strerror } from '../../stack/errors.js';
import { parseIPv4, parseIPv6 } from '../../stack/packet/addr.js';
import { Fleet, type FleetEvent, type FleetOptions } from '../../stack/ping/index.js';
import type { JsonRecord } from '../../output/index.js';
import { render } from '../../output/openmetrics.js';
import { writeFileAtomic } from '../../output/textfile.js';
import { Failure, UsageError, dieOf, jsonLine, onTerminate, runMain } from '../common.js';
import { EXIT_USAGE, type Opts, parse } from './options.js';
import { fpingFamilies, rttHistograms } from './metrics.js';
import { GlobalCounters, HostStats } from './stats.js';
import { EXIT_SYSTEM, type Host, resolveTargets, targetNames } from './targets.js';
import { NAME, avgLoss, globalStatsText, icmpText, pad, sprintTm, stampText } from './text.js';

/** What the run shows: fping's moments, each one record and its text. */
type Shown =
  | { type: 'noaddress'; name: string; message: string }
  | { type: 'start' }
  | { type: 'reply'; h: number; index: number; bytes: number; rttNs: number; from: string; ttl?: number; dup: boolean; late: boolean; first: boolean }
  | { type: 'timeout'; h: number; index: number }
  | { type: 'icmp'; h: number; index: number; from: string; icmpType: number; icmpCode: number; notice: boolean }
  | { type: 'send-error'; h: number; index: number; code: string; errno: number }
  | { type: 'local-error'; h: number; index: number; code: string }
  | { type: 'splits' }
  | { type: 'finish'; exitCode: number; elapsedNs: number };

/** Text for stdout and stderr (fping writes a reply's "[<- from]" to stderr, the rest of its line to stdout). */
type TextOut = { stdout?: string; stderr?: string } | null;

const ms = (ns: number | null): number | null => (ns === null ? null : Math.round(ns / 1e3) / 1e3);

/** One fping run: the fleet's events through fping's accounting, to text or records. */
class FpingRun {
  readonly stats: HostStats[];
  readonly global = new GlobalCounters();
  /** per target, the counted round trips (seconds), for --openmetrics */
  readonly rtts;
  private readonly width: number;
  fleet?: Fleet;

  /** startNs: when the run began (fping's start_time: before the names are looked up) */
  constructor(
    readonly o: Opts,
    readonly hosts: Host[],
    readonly noaddress: number,
    private readonly startNs: bigint,
    private readonly clock: Clock = systemClock,
  ) {
    const trials = Math.max(o.count ?? 0, o.retries + 1);
    this.stats = hosts.map(() => new HostStats(trials, o.loop));
    this.rtts = rttHistograms(o.openmetrics !== undefined ? hosts.length : 0);
    this.width = Math.max(0, ...hosts.map((h) => h.host.length));
  }

  private stamp(): string {
    return this.o.timestamp ? stampText(this.clock.realNs()) : '';
  }

  /** A fleet event, counted as fping counts it; what to show, if anything. */
  account(e: FleetEvent): Shown | null {
    const g = this.global;
    switch (e.type) {
      case 'sent':
        g.pingsSent++;
        return null;
      case 'timeout':
        this.stats[e.target]!.add(e.index, false);
        g.timeouts++;
        return { type: 'timeout', h: e.target, index: e.index };
      case 'reply': {
        const s = this.stats[e.target]!;
        s.numRecvTotal++;
        g.pingsReceived++;
        // fping: a second answer to a count run's ping is a duplicate; a loop run keeps no such record
        const dup = !this.o.loop && (e.dup || s.answered(e.index));
        const shown = {
          type: 'reply' as const,
          h: e.target,
          index: e.index,
          bytes: e.bytes,
          rttNs: e.rttNs,
          from: e.from,
          ttl: e.ttl,
          dup,
          late: false,
          first: false,
        };
        if (dup) return shown;
        if (e.late) return { ...shown, late: true };
        s.add(e.index, true, e.rttNs);
        g.reply(e.rttNs);
        this.rtts[e.target]?.observe(e.rttNs / 1e9);
        if (s.numRecv === 1) {
          g.alive++;
          shown.first = true;
        }
        return shown;
      }
      case 'error': {
        if (e.kind === 'send') {
          this.stats[e.target]!.sendError(e.index);
          return { type: 'send-error', h: e.target, index: e.index, code: e.code ?? 'EIO', errno: e.error?.errno ?? 0 };
        }
        if (e.kind === 'local') return { type: 'local-error', h: e.target, index: e.index, code: e.code ?? 'EIO' };
        // fping counts the ICMP messages it words (icmpText)
        if (icmpText(e.icmpType!, e.icmpCode!, '', '') !== null) g.otherIcmp++;
        return { type: 'icmp', h: e.target, index: e.index, from: e.from!, icmpType: e.icmpType!, icmpCode: e.icmpCode!, notice: e.kind === 'notice' };
      }
      case 'done':
        return null;
    }
  }

  /** fping's finish(): the unreachable count and the exit status. */
  finish(): Extract<Shown, { type: 'finish' }> {
    const o = this.o;
    const unreachable = this.stats.filter((s) => !s.numRecv).length;
    let exitCode: number;
    if (o.reachable) exitCode = this.hosts.length - unreachable >= o.reachable ? 0 : 1;
    else if (this.noaddress) exitCode = 2;
    else exitCode = this.global.alive !== this.hosts.length ? 1 : 0;
    return { type: 'finish', exitCode, elapsedNs: Number(this.clock.realNs() - this.startNs) };
  }

  /** --openmetrics: the result as an exposition (Prometheus text for a .prom file, else OpenMetrics 1.0) */
  metricsText(end: Extract<Shown, { type: 'finish' }>): string {
    const file = this.o.openmetrics;
    const format = typeof file === 'string' && file.endsWith('.prom') ? 'prometheus' : 'openmetrics';
    return render(
      fpingFamilies({ hosts: this.hosts, stats: this.stats, rtts: this.rtts, noaddress: this.noaddress, elapsedNs: end.elapsedNs, exitCode: end.exitCode }),
      format,
    );
  }

  // ---- fping's text ----

  private fromNote(h: number, from: string): string | undefined {
    return from !== this.hosts[h]!.address ? ` [<- ${from}]` : undefined;
  }

  toText(e: Shown): TextOut {
    const o = this.o;
    switch (e.type) {
      case 'noaddress':
        return o.quiet ? null : { stderr: `${e.message}\n` };
      case 'start':
        return null;
      case 'reply':
        return this.replyText(e);
      case 'timeout': {
        if (!o.perRecv) return null;
        const s = this.stats[e.h]!;
        return {
          stdout: `${this.stamp()}${pad(this.hosts[e.h]!.host, this.width)} : [${e.index}], timed out ${avgLoss(s.avgNs, s.numSent, s.numRecv, s.numRecvTotal)}\n`,
        };
      }
      case 'icmp': {
        if (o.quiet) return null;
        const text = icmpText(e.icmpType, e.icmpCode, e.from, this.hosts[e.h]!.host);
        return text ? { stderr: text } : null;
      }
      case 'send-error':
        return o.verbose ? { stderr: `${this.hosts[e.h]!.host}: error while sending ping: ${strerror(e.errno)}\n` } : null;
      case 'local-error':
        return null;
      case 'splits':
        return { stderr: this.splitsText() };
      case 'finish':
        return this.finishText(e);
    }
  }

  private replyText(e: Extract<Shown, { type: 'reply' }>): TextOut {
    const o = this.o;
    const host = this.hosts[e.h]!.host;
    const note = this.fromNote(e.h, e.from);
    if (e.dup) {
      if (o.perRecv) return null;
      return { stderr: `${host} : duplicate for [${e.index}], ${e.bytes} bytes, ${sprintTm(e.rttNs)} ms${note ?? ''}\n` };
    }
    if (e.late) return null;
    let stdout = '';
    let stderr = '';
    if (e.first && (o.verbose || o.alive)) {
      stdout += `${host}${o.verbose ? ' is alive' : ''}${o.elapsed ? ` (${sprintTm(e.rttNs)} ms)` : ''}\n`;
      if (note) stderr += note;
    }
    if (o.perRecv) {
      const s = this.stats[e.h]!;
      stdout += `${this.stamp()}${pad(host, this.width)} : [${e.index}], ${e.bytes} bytes, ${sprintTm(e.rttNs)} ms ${avgLoss(s.avgNs, s.numSent, s.numRecv, s.numRecvTotal)}\n`;
      if (note) stderr += note;
    }
    return stdout || stderr ? { stdout: stdout || undefined, stderr: stderr || undefined } : null;
  }

  /** xmt/rcv/%loss (or %return), the outage, min/avg/max: one target's summary after its name */
  private summaryLine(sent: number, recv: number, min: number, avg: number | null, max: number): string {
    let s =
      recv <= sent
        ? ` xmt/rcv/%loss = ${sent}/${recv}/${sent > 0 ? Math.trunc(((sent - recv) * 100) / sent) : 0}%`
        : ` xmt/rcv/%return = ${sent}/${recv}/${sent > 0 ? Math.trunc((recv * 100) / sent) : 0}%`;
    if (recv <= sent && this.o.outage) s += `, outage(ms) = ${Math.trunc((sent - recv) * this.o.periodMs)}`;
    if (recv) s += `, min/avg/max = ${sprintTm(min)}/${sprintTm(avg!)}/${sprintTm(max)}`;
    return s;
  }

  /** print_per_system_splits (-Q, SIGQUIT): the interval's counters, then reset */
  private splitsText(): string {
    const o = this.o;
    const d = new Date(Number(this.clock.realNs() / 1_000_000n));
    const two = (n: number) => String(n).padStart(2, '0');
    let s = o.verbose || o.perRecv ? '\n' : '';
    s += `[${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}]\n`;
    this.hosts.forEach((h, i) => {
      const st = this.stats[i]!;
      s += `${pad(h.host, this.width)} :${this.summaryLine(st.numSentI, st.numRecvI, st.minReplyI, st.avgNsI, st.maxReplyI)}\n`;
      st.resetInterval();
    });
    return s;
  }

  private finishText(e: Extract<Shown, { type: 'finish' }>): TextOut {
    const o = this.o;
    let stdout = '';
    let stderr = '';
    this.hosts.forEach((h, i) => {
      if (!this.stats[i]!.numRecv && (o.verbose || o.unreach)) stdout += `${h.host}${o.verbose ? ' is unreachable' : ''}\n`;
    });
    if (o.count !== undefined || o.loop) stderr += this.perSystemText();
    if (o.stats) {
      const g = this.global;
      const rtt = g.rtt();
      const unreachable = this.stats.filter((s) => !s.numRecv).length;
      stderr += globalStatsText({
        targets: this.hosts.length,
        alive: g.alive,
        unreachable,
        noaddress: this.noaddress,
        timeouts: g.timeouts,
        sent: g.pingsSent,
        received: g.pingsReceived,
        otherIcmp: g.otherIcmp,
        minNs: rtt.min,
        avgNs: rtt.avg,
        maxNs: rtt.max,
        elapsedNs: e.elapsedNs,
      });
    }
    if (o.reachable) {
      const reachable = this.hosts.length - this.stats.filter((s) => !s.numRecv).length;
      stdout += `${e.exitCode === 0 ? 'Enough' : 'Not enough'} hosts reachable (required: ${o.reachable}, reachable: ${reachable})\n`;
    }
    return { stdout: stdout || undefined, stderr: stderr || undefined };
  }

  /** print_per_system_stats: every target's summary, or with -C every ping's time */
  private perSystemText(): string {
    const o = this.o;
    let s = o.verbose || o.perRecv ? '\n' : '';
    this.hosts.forEach((h, i) => {
      const st = this.stats[i]!;
      s += `${pad(h.host, this.width)} :`;
      if (o.vcount) {
        for (let j = 0; j < st.numSent; j++) {
          const t = st.respTimes![j]!;
          s += t >= 0 ? ` ${sprintTm(t)}` : ' -';
        }
      } else {
        s += this.summaryLine(st.numSent, st.numRecv, st.minReply, st.avgNs, st.maxReply);
      }
      s += '\n';
    });
    return s;
  }

  // ---- the vocabulary ----

  private hostFields(h: number): { host: string; address: string; family: 4 | 6 } {
    const t = this.hosts[h]!;
    return { host: t.host, address: t.address, family: t.family };
  }

  toRecords(e: Shown): JsonRecord[] {
    switch (e.type) {
      case 'noaddress':
        return [{ type: 'error', kind: 'resolve', host: e.name, message: e.message.slice(e.name.length + 2) }];
      case 'start': {
        const f = this.fleet!;
        return [
          {
            type: 'start',
            targets: this.hosts.length,
            count: this.o.count ?? null,
            loop: this.o.loop,
            interval_ms: this.o.intervalMs,
            period_ms: this.o.periodMs,
            timeout_ms: this.o.timeoutMs,
            retries: this.o.retries,
            data_bytes: this.o.size,
            mechanism_ipv4: f.mechanism(4) ?? null,
            mechanism_ipv6: f.mechanism(6) ?? null,
          },
        ];
      }
      case 'reply':
        return [
          {
            type: 'reply',
            ...this.hostFields(e.h),
            index: e.index,
            from: e.from,
            bytes: e.bytes,
            ttl: e.ttl ?? null,
            rtt_ms: ms(e.rttNs),
            dup: e.dup,
            late: e.late,
            timestamp_ms: Number(this.clock.realNs() / 1000n) / 1000,
          },
        ];
      case 'timeout':
        return [{ type: 'timeout', ...this.hostFields(e.h), index: e.index }];
      case 'icmp':
        return [
          {
            type: e.notice ? 'warning' : 'error',
            kind: 'icmp',
            ...this.hostFields(e.h),
            index: e.index,
            from: e.from,
            icmp_type: e.icmpType,
            icmp_code: e.icmpCode,
            message: icmpText(e.icmpType, e.icmpCode, e.from, this.hosts[e.h]!.host)?.trimEnd() ?? null,
          },
        ];
      case 'send-error':
        return [{ type: 'error', kind: 'send', ...this.hostFields(e.h), index: e.index, code: e.code, message: strerror(e.errno) }];
      case 'local-error':
        return [{ type: 'error', kind: 'local', ...this.hostFields(e.h), index: e.index, code: e.code }];
      case 'splits':
        return this.hosts.map((_, i) => {
          const st = this.stats[i]!;
          const r = {
            type: 'status',
            ...this.hostFields(i),
            sent: st.numSentI,
            received: st.numRecvI,
            rtt_min_ms: st.numRecvI ? ms(st.minReplyI) : null,
            rtt_avg_ms: ms(st.avgNsI),
            rtt_max_ms: st.numRecvI ? ms(st.maxReplyI) : null,
          };
          st.resetInterval();
          return r;
        });
      case 'finish':
        return [...this.hosts.map((_, i) => this.hostRecord(i)), this.summaryRecord(e)];
    }
  }

  /** a target's result: what its summary line (or -C columns) says */
  private hostRecord(i: number): JsonRecord {
    const st = this.stats[i]!;
    const sent = st.numSent;
    return {
      type: 'host',
      ...this.hostFields(i),
      alive: st.numRecv > 0,
      sent,
      received: st.numRecv,
      loss_percent: sent > 0 && st.numRecv <= sent ? Math.trunc(((sent - st.numRecv) * 100) / sent) : 0,
      rtt_min_ms: st.numRecv ? ms(st.minReply) : null,
      rtt_avg_ms: ms(st.avgNs),
      rtt_max_ms: st.numRecv ? ms(st.maxReply) : null,
      ...(this.o.vcount ? { pings: st.respTimes!.slice(0, sent).map((t, index) => ({ index, rtt_ms: t >= 0 ? ms(t) : null })) } : {}),
      ...(this.o.outage ? { outage_ms: Math.trunc((sent - st.numRecv) * this.o.periodMs) } : {}),
    };
  }

  private summaryRecord(e: Extract<Shown, { type: 'finish' }>): JsonRecord {
    const g = this.global;
    const rtt = g.rtt();
    const alive = this.stats.filter((s) => s.numRecv > 0).length;
    return {
      type: 'summary',
      targets: this.hosts.length,
      alive,
      unreachable: this.hosts.length - alive,
      unknown_addresses: this.noaddress,
      timeouts: g.timeouts,
      sent: g.pingsSent,
      received: g.pingsReceived,
      other_icmp: g.otherIcmp,
      rtt_min_ms: g.totalReplies ? ms(rtt.min) : null,
      rtt_avg_ms: g.totalReplies ? ms(rtt.avg) : null,
      rtt_max_ms: g.totalReplies ? ms(rtt.max) : null,
      elapsed_ms: ms(e.elapsedNs),
      reachable_required: this.o.reachable || null,
      exit_code: e.exitCode,
    };
  }
}

/** fping's -S: an IPv4 or an IPv6 source. */
function sourceOf(text: string | undefined): FleetOptions['source'] {
  if (text === undefined) return undefined;
  if (parseIPv4(text)) return { 4: text };
  if (parseIPv6(text)) return { 6: text };
  throw new UsageError(`can't parse source address: ${text}`, EXIT_USAGE);
}

/** The fleet for these options; no ICMP socket at all is fping's exit 4, with the fix. */
function openFleet(o: Opts, hosts: Host[], onEvent: (e: FleetEvent) => void): Fleet {
  try {
    return new Fleet(
      hosts.map((h) => ({ address: h.address, family: h.family })),
      {
        count: o.count,
        loop: o.loop,
        intervalMs: o.intervalMs,
        periodMs: o.periodMs,
        timeoutMs: o.timeoutMs,
        retries: o.retries,
        backoff: o.loop ? 1 : o.backoff,
        dataLen: o.size,
        randomData: o.random,
        ttl: o.ttl,
        tos: o.tos,
        dontFragment: o.dontFrag,
        source: sourceOf(o.source),
        device: o.iface,
        mode: o.mode,
      },
      onEvent,
    );
  } catch (e) {
    if (e instanceof PermissionError) throw new UsageError(e.message, EXIT_SYSTEM);
    if (isSystemError(e)) throw new UsageError(`can't create socket: ${strerror(e.errno)}`, EXIT_SYSTEM);
    throw e;
  }
}

async function main(argv: string[]): Promise<number> {
  const parsed = parse(argv);
  if (typeof parsed === 'number') return parsed;
  const { opts: o, targets } = parsed;
  const startNs = systemClock.realNs();
  const names = targetNames(o, targets);
  const list = await resolveTargets(names, o);
  // --openmetrics without a file: standard output carries the metrics alone
  const metricsOnStdout = o.openmetrics === true;
  const emitText = (t: TextOut) => {
    if (t?.stderr) process.stderr.write(t.stderr);
    if (t?.stdout && !metricsOnStdout) process.stdout.write(t.stdout);
  };
  const run = new FpingRun(o, list.hosts, list.noaddress.length, startNs);
  const show = (e: Shown) => (o.json ? run.toRecords(e).forEach((r) => jsonLine(r)) : emitText(run.toText(e)));
  for (const n of list.noaddress) show({ type: 'noaddress', ...n });
  if (!list.hosts.length) {
    if (o.json) jsonLine({ type: 'summary', targets: 0, unknown_addresses: list.noaddress.length, exit_code: list.noaddress.length ? 2 : 1 });
    return list.noaddress.length ? 2 : 1;
  }

  let exitCode = 0;
  let metrics: string | undefined;
  await new Promise<void>((resolve) => {
    let untrap = () => {};
    let report: NodeJS.Timeout | undefined;
    const onQuit = () => show({ type: 'splits' });
    const fleet = openFleet(o, list.hosts, (e) => {
      const shown = run.account(e);
      if (shown) show(shown);
      if (shown?.type === 'reply' && shown.first && o.fastReachable && run.global.alive >= o.reachable) fleet.stop();
      if (e.type !== 'done') return;
      untrap();
      process.off('SIGQUIT', onQuit);
      if (report) clearInterval(report);
      const end = run.finish();
      show(end);
      exitCode = end.exitCode;
      if (o.openmetrics !== undefined) metrics = run.metricsText(end);
      resolve();
    });
    run.fleet = fleet;
    // fping: SIGINT ends the run with its summaries and status; SIGQUIT shows the interval's counters
    untrap = onTerminate((signal) => (signal === 'SIGINT' ? fleet.stop() : dieOf(signal)));
    process.on('SIGQUIT', onQuit);
    if (o.reportS && (o.loop || o.count !== undefined)) report = setInterval(onQuit, o.reportS * 1000);
    show({ type: 'start' });
    fleet.start();
  });
  if (metrics !== undefined) writeMetrics(o.openmetrics!, metrics);
  return exitCode;
}

/** The exposition to standard output, or atomically to the file (a failed write is one line, exit 1). */
function writeMetrics(where: true | string, text: string): void {
  if (where === true) {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileAtomic(where, text);
  } catch (e) {
    throw new Failure(
      `${where}: ${isSystemError(e) || (e as NodeJS.ErrnoException).errno ? strerror((e as NodeJS.ErrnoException).errno!) : (e as Error).message}`,
    );
  }
}

export function run(argv: string[]): Promise<number> {
  return runMain(NAME, () => main(argv));
}
