// sockit ping: iputils ping on the socket core (UNP 28.5). Options, output
// and exit codes follow iputils 20221126. This file reads like its main():
// options (options.ts) -> the core's setup and session (src/stack/ping/) ->
// events rendered as iputils' text (text.ts) or JSON lines, through one
// Presenter so both come from the same records.
import { type Clock, systemClock } from '../../stack/clock.js';
import { strerror } from '../../stack/errors.js';
import { inetAton } from '../../stack/packet/addr.js';
import { icmpErrno } from '../../stack/packet/icmp-names.js';
import { ipOptionItems, type RouteMemory } from '../../stack/packet/ipoptions.js';
import * as ni from '../../stack/packet/nodeinfo.js';
import {
  type PingEvent,
  type PingSession,
  type PingSetup,
  PingSetupError,
  type PingStats,
  type PingWarning,
  createSession,
  setupPing,
} from '../../stack/ping/index.js';
import { AddressNamer, resolveHost } from '../../stack/resolve.js';
import { type JsonRecord, type Presenter, type Text, renderer } from '../../output/index.js';
import { withMetricsIf } from '../../output/textfile.js';
import { stdoutSink } from '../../cli/stdio.js';
import { UsageError, dieOf, jsonLine, onTerminate, OrderedOutput, runMain } from '../common.js';
import { type Opts, addressOf, nodeInfoQuery, parse } from './options.js';
import {
  NAME,
  clockBackText,
  formatG,
  icmpErrorText,
  icmpNoticeText,
  localErrorText,
  optionsText,
  replyText,
  setupErrorText,
  stampText,
  statusLoss,
  statusText,
  summaryText,
  warningText,
} from './text.js';

const INT_MAX = 2147483647;

/** What ping shows: the session's events, and the command's own (header, warnings, SIGQUIT's status). */
type Shown = PingEvent | { type: 'start' } | { type: 'clock-back'; us: number } | { type: 'status'; stats: PingStats };

/** The destination as resolved, and how iputils names it. */
interface Target {
  /** the name in the header: canonical for IPv4 names, as given otherwise */
  hostname: string;
  address: string;
  family: 4 | 6;
  /** print addresses, not names (-n, -f, or a numeric target) */
  numeric: boolean;
}

/** A reply's IP options for --json: the record-route addresses, or the timestamp slots (no "same route"). */
function optionsRecord(opts: Buffer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const it of ipOptionItems(opts)) {
    if (it.kind === 'rr') out.record_route = it.addresses;
    else if (it.kind === 'ts') {
      out.ip_timestamps = it.entries.map((e) => ({
        ...(e.address !== undefined ? { address: e.address } : {}),
        ms_since_midnight_ut: e.stamp ?? null,
        ...(e.stamp !== undefined && !e.standard ? { standard: false } : {}),
      }));
      out.unrecorded_hops = it.flags >> 4;
    }
  }
  return out;
}

/** A node information answer for --json. */
function nodeInfoRecord(wire: Buffer): Record<string, unknown> {
  const a = ni.nodeInfoAnswer(wire);
  if (!a) return { result: 'malformed' };
  const result = a.code === ni.SUCCESS ? 'success' : a.code === ni.REFUSED ? 'refused' : a.code === ni.UNKNOWN_QTYPE ? 'unknown qtype' : `code ${a.code}`;
  const out: Record<string, unknown> = { result, qtype: a.qtype, flags: a.flags };
  if (a.tooShort) out.parse_error = true;
  if (a.names) Object.assign(out, { ttl: a.ttl, names: a.names.map((n) => n.name + (n.fqdn ? '.' : '')), parse_error: a.cut });
  if (a.addresses) Object.assign(out, { addresses: a.addresses, parse_error: a.cut, truncated: (a.flags & ni.FLAG_TRUNCATE) !== 0 });
  return out;
}

/** A setup warning as a record. */
function warningRecord(w: PingWarning): JsonRecord {
  return {
    type: 'warning',
    kind: w.kind.replace(/-/g, '_'),
    message: warningText(w)
      .replace(/^sockit ping: /, '')
      .trimEnd(),
  };
}

/** iputils says it forces a raw socket for -e 0 only with -v */
const warningShown = (w: PingWarning, verbose: boolean): boolean => w.kind !== 'ident-zero' || verbose;

/** ms from whole microseconds, null when there are none */
const msOf = (us: number | undefined | null): number | null => (us === undefined || us === null ? null : us / 1000);

/** ping's events as vocabulary records and as iputils' text. */
class PingPresenter implements Presenter<Shown> {
  session?: PingSession;
  private readonly routes: RouteMemory = { last: null };
  private readonly namer: AddressNamer;
  private readonly flood: boolean;
  private width: number | undefined;
  /** iputils' screen width for flood marks (asked on the first mark: asking makes Node's stdout stream) */
  private get screenWidth(): number {
    this.width ??= process.stdout.isTTY ? process.stdout.columns || INT_MAX : INT_MAX;
    return this.width;
  }

  constructor(
    private readonly o: Opts,
    private readonly t: Target,
    private readonly setup: PingSetup,
    private readonly clock: Clock = systemClock,
  ) {
    this.namer = new AddressNamer(t.numeric);
    this.flood = o.flood && !o.quiet && !o.json;
  }

  private name = (a: string): Promise<string> => this.namer.format(a);
  private stamp = (): string => (this.o.timestamps ? stampText(this.clock.realNs()) : '');

  toRecord(e: Shown): JsonRecord | null {
    const { t, setup } = this;
    switch (e.type) {
      case 'start': {
        const m = setup.method;
        return {
          type: 'start',
          host: t.hostname,
          address: t.address,
          family: t.family,
          source: setup.source ?? null,
          device: setup.device ?? null,
          data_bytes: this.o.size,
          packet_bytes: this.o.size + m.headerBytes,
          mechanism: m.mechanism,
          ident: m.ident,
        };
      }
      case 'clock-back':
        return {
          type: 'warning',
          kind: 'clock',
          message: clockBackText(e.us)
            .replace(/^sockit ping: /, '')
            .trimEnd(),
        };
      case 'status':
        return { type: 'status', transmitted: e.stats.ntransmitted, received: e.stats.nreceived, loss_percent: statusLoss(e.stats) };
      case 'sent':
        return null;
      case 'reply':
        return {
          type: 'reply',
          seq: e.seq,
          from: e.from,
          bytes: e.bytes,
          ttl: e.ttl ?? null,
          rtt_ms: msOf(e.rttUs),
          dup: e.dup,
          truncated: e.truncated,
          late: e.late,
          checksum_ok: e.checksumOk,
          different_address: e.wrongSource,
          timestamp_ms: Number(this.clock.realNs() / 1000n) / 1000,
          ...(e.ipOptions && e.ipOptions.length > 0 ? optionsRecord(e.ipOptions) : {}),
          ...(e.nodeInfo ? { node_info: nodeInfoRecord(e.nodeInfo) } : {}),
        };
      case 'icmp-error':
        return {
          type: 'error',
          kind: 'icmp',
          seq: e.seq,
          from: e.from,
          icmp_type: e.icmpType,
          icmp_code: e.icmpCode,
          code: icmpErrno(t.family, e.icmpType, e.icmpCode),
          mtu: e.mtu || null,
          message: icmpErrorText(t.family, e),
        };
      case 'icmp-notice':
        return {
          type: 'warning',
          kind: 'icmp',
          seq: e.seq,
          from: e.from,
          icmp_type: e.icmpType,
          icmp_code: e.icmpCode,
          gateway: e.gateway ?? null,
          message: icmpNoticeText(e),
        };
      case 'local-error':
        return {
          type: 'error',
          kind: 'local',
          code: e.code,
          errno: e.errno,
          mtu: e.code === 'EMSGSIZE' ? e.info : null,
          message: localErrorText(t.family, e, strerror),
        };
      case 'send-error':
        return { type: 'error', kind: 'send', code: e.error.code, errno: e.error.errno, message: `sendmsg: ${strerror(e.error.errno)}` };
      case 'no-answer-yet':
        return { type: 'no_answer_yet', seq: e.seq };
      case 'timeout':
        return { type: 'timeout', seq: e.seq };
      case 'done':
        return this.summaryRecord(e.stats);
    }
  }

  private summaryRecord(s: PingStats): JsonRecord {
    const r = s.rttSummary();
    const ie = s.ipgEwma();
    return {
      type: 'summary',
      host: this.t.hostname,
      address: this.t.address,
      transmitted: s.ntransmitted,
      received: s.nreceived,
      duplicates: s.nrepeats,
      corrupted: s.nchecksum,
      errors: s.nerrors,
      loss_percent: s.ntransmitted ? Number(formatG(s.lossPercent)) : 0,
      elapsed_ms: s.elapsedMs,
      rtt_min_ms: msOf(r?.min),
      rtt_avg_ms: msOf(r?.avg),
      rtt_max_ms: msOf(r?.max),
      rtt_mdev_ms: msOf(r?.mdev),
      pipe: s.pipesize > 1 ? s.pipesize : null,
      ipg_ms: msOf(ie?.ipg),
      ewma_ms: msOf(ie?.ewma),
      exit_code: s.exitCode,
    };
  }

  /** Flood mode's marks for an event (iputils: a dot per probe, a backspace per reply, E per error); null: not a mark. */
  floodMark(e: Shown): string | null {
    if (!this.flood) return null;
    switch (e.type) {
      case 'sent': {
        const s = this.session!;
        const w = this.screenWidth;
        return (this.o.preload < w && s.stats.pipesize < w) || s.inFlight < w ? '.' : '';
      }
      case 'reply':
        return (e.checksumOk ? '\b \b' : '\bC') + (this.o.audible ? '\x07' : '');
      case 'icmp-error':
        return '\bE';
      case 'icmp-notice':
        return '';
      case 'local-error':
      case 'send-error':
        return 'E';
      default:
        return null;
    }
  }

  toText(e: Shown): Text {
    const { o, t } = this;
    switch (e.type) {
      case 'start':
        return this.header();
      case 'status':
        return { stderr: statusText(e.stats) };
      case 'clock-back':
        return { stderr: clockBackText(e.us) };
      case 'sent':
      case 'timeout':
        return null;
      case 'reply':
        return o.quiet ? null : this.replyLine(e);
      case 'icmp-error': {
        if (o.quiet) return null;
        const stamp = this.stamp();
        return this.name(e.from).then((from) => `${stamp}From ${from} icmp_seq=${e.seq} ${icmpErrorText(t.family, e)}\n`);
      }
      case 'icmp-notice': {
        if (o.quiet || o.flood) return null;
        const stamp = this.stamp();
        return this.name(e.from).then((from) => `${stamp}From ${from}: icmp_seq=${e.seq} ${icmpNoticeText(e)}\n`);
      }
      case 'local-error':
        return o.quiet ? null : { stderr: `sockit ${NAME}: ${localErrorText(t.family, e, strerror)}\n` };
      case 'send-error':
        return o.quiet ? null : { stderr: `sockit ${NAME}: sendmsg: ${strerror(e.error.errno)}\n` };
      case 'no-answer-yet':
        return `${this.stamp()}no answer yet for icmp_seq=${e.seq}\n`;
      case 'done':
        return summaryText(t.hostname, e.stats);
    }
  }

  /** "PATTERN: 0x..." (unless -q), then "PING host (address) ..." as iputils words it for the family. */
  private async header(): Promise<string> {
    const { o, t, setup } = this;
    let s = o.pattern && !o.quiet ? `PATTERN: 0x${o.pattern.toString('hex')}\n` : '';
    const v4 = t.family === 4;
    const from = setup.device || setup.boundSource ? `from ${v4 ? setup.source : await this.name(setup.source!)} ${setup.device ?? ''}: ` : '';
    // iputils counts 40 bytes for any IP option it sends, whatever its length
    if (v4) return s + `PING ${t.hostname} (${t.address}) ${from}${o.size}(${o.size + 28 + (setup.ipOption ? 40 : 0)}) bytes of data.\n`;
    const flow = o.flowLabel ? `, flow 0x${o.flowLabel.toString(16).padStart(5, '0')}, ` : '';
    s += `PING ${t.hostname}(${await this.name(t.address)}) ${flow}${from}${o.size} data bytes\n`;
    return s;
  }

  private replyLine(e: Extract<PingEvent, { type: 'reply' }>): Text {
    const stamp = this.stamp();
    // decided now, in arrival order: "(same route)" compares with the previous reply
    const items = e.ipOptions && !e.truncated ? ipOptionItems(e.ipOptions, this.routes) : [];
    const m = this.setup.method;
    return Promise.all([this.name(e.from), optionsText(items, this.name)]).then(([from, options]) =>
      replyText(e, {
        stamp,
        from,
        options,
        ident: this.o.verbose && !m.unprivileged ? m.ident : undefined,
        showDup: !this.setup.multicast || this.o.verbose,
        audible: this.o.audible,
      }),
    );
  }
}

/** Text in order (some lines wait for a name lookup), with flood marks batched per event-loop turn (iputils' bytes, fewer writes). */
class TextOut {
  private readonly ordered = new OrderedOutput();
  private flood = '';
  private floodScheduled = false;

  line(text: string | Promise<string>, stream: { write(text: string): unknown } = stdoutSink()): void {
    this.flushFlood();
    this.ordered.write(text, stream);
  }

  mark(s: string): void {
    this.flood += s;
    if (!this.floodScheduled) {
      this.floodScheduled = true;
      setImmediate(() => this.flushFlood());
    }
  }

  private flushFlood(): void {
    this.floodScheduled = false;
    if (this.flood) {
      const f = this.flood;
      this.flood = '';
      this.ordered.write(f, stdoutSink());
    }
  }

  async drain(): Promise<void> {
    this.flushFlood();
    await this.ordered.drain();
  }
}

/** The renderer --json asks for (src/output's, with flood marks batched): the presenter's records as JSON lines, or its text and flood marks. */
function render(p: PingPresenter, json: boolean): { emit(e: Shown): void; drain(): Promise<void> } {
  if (json) {
    return {
      emit: (e) => {
        const r = p.toRecord(e);
        if (r) jsonLine(r);
      },
      drain: () => Promise.resolve(),
    };
  }
  const out = new TextOut();
  return {
    emit(e) {
      const mark = p.floodMark(e);
      if (mark !== null) {
        if (mark) out.mark(mark);
        return;
      }
      const t = p.toText(e);
      if (t === null || t === undefined) return;
      if (typeof t === 'object' && 'stderr' in t) out.line(t.stderr, process.stderr);
      else out.line(t);
    },
    drain: () => out.drain(),
  };
}

/** Resolve the destination once (getaddrinfo, AI_CANONNAME) and name it as iputils does. */
async function resolveTarget(o: Opts, target: string): Promise<Target> {
  let resolved;
  try {
    resolved = await resolveHost(target, o.family);
  } catch (e) {
    throw new UsageError(`${target}: ${(e as Error).message}`);
  }
  const dst = resolved.addresses[0];
  if (!dst) throw new UsageError(`${target}: Address family for hostname not supported`);
  const v4 = dst.family === 4;
  // the largest ICMP data an IPv4 / IPv6 packet can carry (no jumbograms)
  const maxData = v4 ? 65507 : 65527;
  if (o.size > maxData) throw new UsageError(`invalid argument: '${o.size}': out of range: 0 <= value <= ${maxData}`);
  const numericTarget = v4 ? inetAton(target) !== null : target.includes(':');
  // iputils: the canonical name for IPv4 names, the name as given for IPv6
  return { hostname: v4 && !numericTarget ? resolved.canonname : target, address: dst.address, family: dst.family, numeric: o.numeric || numericTarget };
}

/** The core's setup for these options; its refusals worded as iputils words them. */
async function setup(o: Opts, t: Target, warn: (w: PingWarning) => void): Promise<PingSetup> {
  // -T tsprespec's hops, resolved as the destination is (IPv6 is refused with the other IP options)
  const prespec: string[] = [];
  if (o.prespec && t.family === 4) for (const hop of o.prespec) prespec.push(await addressOf(hop, 4));
  try {
    return await setupPing({
      address: t.address,
      family: t.family,
      intervalMs: o.interval,
      flood: o.flood,
      preload: o.preload,
      dataLen: o.size,
      iface: o.iface,
      sticky: o.sticky,
      broadcast: o.broadcast,
      mode: o.mode,
      ident: o.ident,
      ttl: o.ttl,
      tos: o.tos,
      pmtu: o.pmtu,
      sndbuf: o.sndbuf,
      mark: o.mark,
      debug: o.debug,
      dontroute: o.dontroute,
      noLoop: o.noLoop,
      userLatency: o.userLatency,
      connect: o.connect,
      recordRoute: o.recordRoute,
      timestamp: o.timestamp,
      prespec: o.prespec ? prespec : undefined,
      nodeInfo: o.nodeInfo && (() => nodeInfoQuery(o.nodeInfo!, t.address)),
      flowLabel: o.flowLabel,
      count: o.count,
      deadlineS: o.deadline,
      lingerMs: o.timeout,
      pattern: o.pattern,
      adaptive: o.adaptive,
      outstanding: o.outstanding,
      quiet: o.quiet,
      onWarning: warn,
    });
  } catch (e) {
    if (e instanceof PingSetupError) throw new UsageError(setupErrorText(e.problem, t.family));
    throw e;
  }
}

async function main(argv: string[]): Promise<number> {
  const parsed = parse(argv);
  if (typeof parsed === 'number') return parsed;
  const { opts: o, target } = parsed;
  const t = await resolveTarget(o, target);
  // warnings during setup go out as they happen, before the header or an error (iputils)
  const warnings = renderer<PingWarning>({ toRecord: warningRecord, toText: (w) => (warningShown(w, o.verbose) ? { stderr: warningText(w) } : null) }, o.json);
  const ready = await setup(o, t, (w) => warnings.emit(w));
  const presenter = new PingPresenter(o, t, ready);
  const out = withMetricsIf(presenter, o.metrics, () => render(presenter, o.json));
  const m = ready.method;
  // --pcap: the recording is open before the first probe goes
  const pcap = o.pcap;
  // the capture modules (a filter compiler, the ring) load only for --pcap: a tenth of ping's bundle
  const rec = pcap === undefined ? undefined : await loadRecording();
  const recording = rec && (await rec.openPcap(pcap!, () => rec.Recording.open(pcap!, rec.probeFlow(m, ready.source ?? '', ready.device))));
  if (o.verbose) {
    process.stderr.write(
      `sockit ${NAME}: ${m.mechanism} (${m.unprivileged ? 'SOCK_DGRAM, unprivileged' : 'SOCK_RAW, CAP_NET_RAW'})${m.unprivileged ? '' : `, ident ${m.ident}`}\n`,
    );
    if (recording) process.stderr.write(`sockit ${NAME}: --pcap ${pcap}: ${recording.mechanism}\n`);
  }
  out.emit({ type: 'start' });

  let exitCode = 0;
  await new Promise<void>((resolve) => {
    const session = createSession(
      ready,
      (e) => {
        out.emit(e);
        if (e.type === 'reply' && e.clockWentBack !== undefined) out.emit({ type: 'clock-back', us: e.clockWentBack });
        if (e.type !== 'done') return;
        untrap();
        process.off('SIGQUIT', onQuit);
        exitCode = e.stats.exitCode;
        resolve();
      },
      {},
      rec && recording ? new rec.RecordedProbes(m, recording, ready.source ?? '', ready.ipOptions) : m,
    );
    presenter.session = session;
    // iputils: SIGINT ends the run with the statistics and its own status; SIGTERM kills it, nothing printed
    const untrap = onTerminate((signal) => {
      if (signal === 'SIGINT') return session.stop();
      void out.drain().then(() => dieOf(signal));
    });
    const onQuit = () => out.emit({ type: 'status', stats: session.stats });
    process.on('SIGQUIT', onQuit);
    session.start();
  });
  recording?.close();
  await out.drain();
  return exitCode;
}

export function run(argv: string[]): Promise<number> {
  return runMain(NAME, () => main(argv));
}

/** What --pcap needs, loaded when it is given. */
async function loadRecording() {
  const [{ Recording }, { RecordedProbes, probeFlow }, { openPcap }] = await Promise.all([
    import('../../stack/capture/record.js'),
    import('../../stack/probe/record.js'),
    import('../lib/pcap.js'),
  ]);
  return { Recording, RecordedProbes, probeFlow, openPcap };
}
