// sock's events as the book prints them (its lines, verbatim) and as
// records of sockit(1)'s JSON vocabulary: one Presenter, so a text line and
// its record come from the same event.
import * as C from '../../stack/constants.js';
import { socketEnd, type SockAddr } from '../../stack/sockaddr.js';
import type { SockConfig, SockEvent, Summary } from '../../stack/sock/index.js';
import { findOption, jsonValue, type OptionValue } from '../../stack/sockopt.js';
import type { Linger, Timeval } from '../../stack/structs.js';
import type { JsonRecord, Presenter, Text } from '../../output/index.js';

export const NAME = 'sock';

/** What the command adds to the core's events: how the run ended. */
export type Shown =
  | SockEvent
  /** the run failed: `usage` is bad input (exit 2), the rest exit 1 */
  | { event: 'failed'; usage: boolean; message: string; code?: string }
  | { event: 'summary'; exitCode: number; transfers: Summary[] };

// ---------- the book's lines ----------

/** a.b.c.d.p as sock prints it; unix paths as they are (@ for abstract names). */
export function dotted(sa: SockAddr | null): string {
  if (sa?.family === C.AF_UNIX) return sa.path === '' ? '(unnamed)' : sa.path.startsWith('\0') ? `@${sa.path.slice(1)}` : sa.path;
  if (!sa) return '*';
  if (sa.family === C.AF_INET || sa.family === C.AF_INET6) return `${sa.address}.${sa.port}`;
  return JSON.stringify(sa);
}

/** Just the address, as loopudp.c's "from %s" prints inet_ntoa(). */
function hostOf(sa: SockAddr | null): string {
  if (sa?.family === C.AF_INET || sa?.family === C.AF_INET6) return sa.address;
  return dotted(sa);
}

function show(v: unknown): string {
  return Buffer.isBuffer(v) ? `0x${v.toString('hex')}` : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

const seconds6 = (t: Timeval) => `${t.sec}.${String(t.usec).padStart(6, '0')}`;

function optionLine(e: Extract<SockEvent, { event: 'option' }>): string {
  const req = e.name === 'SO_RCVTIMEO' || e.name === 'SO_SNDTIMEO' ? seconds6(e.requested as Timeval) : show(e.requested);
  const adj = e.adjusted ? ` (requested ${req}: ${e.adjusted})` : '';
  switch (e.name) {
    case 'SO_RCVBUF':
    case 'SO_SNDBUF':
    case 'TCP_MAXSEG':
      return `${e.name} = ${show(e.value)}${adj}`;
    case 'IP_TOS':
    case 'IP_TTL':
    case 'IP_MULTICAST_TTL':
    case 'IPV6_TCLASS':
    case 'IPV6_UNICAST_HOPS':
    case 'IPV6_MULTICAST_HOPS':
      return `${e.name} set to ${show(e.value)}${adj}`;
    case 'SO_LINGER': {
      const l = e.value as Linger;
      return `linger ${l.onoff ? 'on' : 'off'}, time = ${l.linger}`;
    }
    case 'SO_RCVTIMEO':
    case 'SO_SNDTIMEO':
      return `${e.name}: ${seconds6(e.value as Timeval)}${adj}`;
    case 'IP_OPTIONS':
      return `IP_OPTIONS = ${show(e.value)}`;
    default:
      return `${e.name} set`;
  }
}

const pad2 = (n: number) => String(n).padStart(2, ' ');

/** What a source or sink counted: writes, reads, or datagrams. */
function counted(s: Summary): 'writes' | 'reads' | 'datagrams' {
  if (s.proto === 'udp' || s.proto === 'unix-dgram') return 'datagrams';
  return s.mode === 'source' ? 'writes' : 'reads';
}

/** ★ bytes, seconds and throughput at the end of a source or sink. */
export function summaryLine(s: Summary): string {
  const rate = s.seconds > 0 ? `${(s.bytes / s.seconds / 1e6).toFixed(2)} MB/s (${((s.bytes * 8) / s.seconds / 1e9).toFixed(3)} Gbit/s)` : 'n/a MB/s';
  return `${s.mode}: ${s.bytes} bytes in ${s.seconds.toFixed(3)} seconds = ${rate}, ${s.count} ${counted(s)}`;
}

/** The line sock prints for an event (without its newline). */
export function text(e: Shown): string {
  switch (e.event) {
    case 'connected':
      return `connected on ${dotted(e.local)} to ${dotted(e.remote)}`;
    case 'connection':
      return `connection on ${dotted(e.local)} from ${dotted(e.remote)}`;
    case 'listening':
      return `listening on ${dotted(e.local)}`;
    case 'option':
      return optionLine(e);
    case 'multicast':
      return 'multicast group joined';
    case 'source-route':
      return `source route to ${e.hop}`;
    case 'source-route-size':
      return `source route size ${e.bytes} bytes`;
    case 'iov':
      return `iov[${pad2(e.index)}].iov_base = ${e.offset.toString(16)}, iov[${pad2(e.index)}].iov_len = ${e.length}`;
    case 'wrote':
      return e.urgent ? `wrote ${e.bytes} byte of urgent data` : `wrote ${e.bytes} bytes`;
    case 'received':
      return `received ${e.bytes} bytes${e.peek ? ' (MSG_PEEK)' : ''}`;
    case 'urgent':
      return `received 1 byte of urgent data (${e.byte})`;
    case 'closed':
      return 'connection closed by peer';
    case 'pausing':
      return 'pausing before close';
    case 'sigio':
      return 'SIGIO';
    case 'error':
    case 'failed':
      return `sockit ${NAME}: ${e.message}`;
    case 'warning':
      return `sockit ${NAME}: warning: ${e.message}`;
    case 'transfer':
      return summaryLine(e.summary);
    case 'datagram':
      return `from ${hostOf(e.from)}${e.to ? `, to ${e.to}` : ''}: `;
    case 'summary':
      return '';
  }
}

// ---------- records ----------

/** An option value as JSON data, as sockit sockopt gives it (bytes as hex, a timeval's fields); nothing asked: null. */
function optionValue(name: string, v: unknown): unknown {
  if (v === undefined) return null;
  const o = findOption(name);
  if (o) return jsonValue(o, v as OptionValue);
  return Buffer.isBuffer(v) ? v.toString('hex') : v;
}

function transferRecord(s: Summary): JsonRecord {
  const rated = s.seconds > 0;
  return {
    type: 'transfer',
    mode: s.mode,
    proto: s.proto,
    bytes: s.bytes,
    count: s.count,
    counted: counted(s),
    duration_ms: s.seconds * 1e3,
    bytes_per_s: rated ? s.bytes / s.seconds : null,
    bits_per_s: rated ? (s.bytes * 8) / s.seconds : null,
    local: socketEnd(s.local),
    remote: socketEnd(s.remote),
    max_rss_bytes: process.resourceUsage().maxRSS * 1024,
    text: summaryLine(s),
  };
}

/** The record of an event (sockit(1), JSON OUTPUT). */
export function record(e: Shown): JsonRecord {
  switch (e.event) {
    case 'connected':
    case 'connection':
      return { type: 'connection', role: e.event === 'connected' ? 'client' : 'server', local: socketEnd(e.local), remote: socketEnd(e.remote), text: text(e) };
    case 'listening':
      return { type: 'listening', local: socketEnd(e.local), text: text(e) };
    case 'option':
      return {
        type: 'option',
        name: e.name,
        requested: optionValue(e.name, e.requested),
        value: optionValue(e.name, e.value),
        adjusted: e.adjusted ?? null,
        text: text(e),
      };
    case 'multicast':
      return { type: 'multicast', group: e.group, text: text(e) };
    case 'source-route':
      return { type: 'source_route', hop: e.hop, text: text(e) };
    case 'source-route-size':
      return { type: 'source_route_size', bytes: e.bytes, text: text(e) };
    case 'iov':
      return { type: 'iov', index: e.index, offset: e.offset, length: e.length, text: text(e) };
    case 'wrote':
      return { type: 'write', bytes: e.bytes, urgent: !!e.urgent, text: text(e) };
    case 'received':
      return { type: 'read', bytes: e.bytes, peek: !!e.peek, text: text(e) };
    case 'urgent':
      return { type: 'urgent', byte: e.byte, text: text(e) };
    case 'closed':
      return { type: 'close', by: 'peer', text: text(e) };
    case 'pausing':
      return { type: 'pause', text: text(e) };
    case 'sigio':
      return { type: 'sigio', text: text(e) };
    case 'error':
      return { type: 'error', kind: e.kind, code: e.code ?? null, message: e.message, text: text(e) };
    case 'failed':
      return { type: 'error', kind: e.usage ? 'usage' : 'system', code: e.code ?? null, message: e.message, text: text(e) };
    case 'warning':
      return { type: 'warning', message: e.message, text: text(e) };
    case 'datagram':
      return { type: 'datagram', from: socketEnd(e.from), to: e.to ?? null, truncated: e.truncated, text: text(e) };
    case 'transfer':
      return transferRecord(e.summary);
    case 'summary': {
      const totals = e.transfers.length ? { transfers: e.transfers.length, bytes: e.transfers.reduce((n, s) => n + s.bytes, 0) } : {};
      return { type: 'summary', exit_code: e.exitCode, ...totals };
    }
  }
}

/**
 * Where the book's lines go: the summary of a source or sink on stdout, a
 * datagram's "from" inline with the data on stdout, the rest on stderr.
 */
export function presenter(cfg: SockConfig): Presenter<Shown> {
  return {
    toRecord: record,
    toText(e): Text {
      switch (e.event) {
        case 'transfer':
          return `${text(e)}\n`;
        case 'summary':
          return null;
        case 'datagram': {
          // loopudp.c: "from a.b.c.d: " (verbose), then "(datagram truncated)", then the data
          const out = (cfg.verbose ? text(e) : '') + (e.truncated ? '(datagram truncated)\n' : '');
          return out || null;
        }
        default:
          return { stderr: `${text(e)}\n` };
      }
    },
  };
}
