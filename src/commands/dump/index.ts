// sockit dump: tcpdump's reading interface (tcpdump -r F [expression]) on
// sockit's own pcap/pcapng reader, dissectors and pcap-filter compiler.
// `sockit dump [-r] FILE|- [expression]`: the lines of `tcpdump -n -r F`.
import { closeSync, fstatSync, openSync } from 'node:fs';
import { relaunch, startedWith } from '../../cli/relaunch.js';
import { checkStdin, readFailed } from '../../cli/stdio.js';
import {
  fileChunks,
  openSource,
  readCaptureBatches,
  LINKTYPE_LINUX_SLL2,
  linkTypeName,
  linkTypeText,
  CaptureWriter,
  type CaptureFormat,
  type CapturePacket,
  type CaptureStart,
} from '../../stack/capture/index.js';
import { dissect } from '../../stack/dissect/index.js';
import { compileFilter, filterFunction, filterImage } from '../../stack/filter/index.js';
import type { Command } from 'commander';
import { Failure, UsageError, isSystemError, jsonLine, makeCommand, parseArgs, runMain, strerrorOf } from '../common.js';
import { packetRecord } from './json.js';
import { Names } from './names.js';
import { Clock, TcpState, asciiText, hexAsciiText, hexText, packetText, type TextOptions, type TimeFormat, undecodedEther } from './text/index.js';

const NAME = 'dump';

/** What the shared printing options set (printOptions). */
export interface PrintOpts {
  numeric?: boolean;
  t: number;
  nano?: boolean;
  e?: boolean;
  q?: boolean;
  v: number;
  x: number;
  X: number;
  A?: boolean;
  S?: boolean;
  number?: boolean;
  json?: boolean;
}

interface Opts extends PrintOpts {
  read?: string;
  count?: number;
  d?: boolean;
  write?: string;
  format?: CaptureFormat;
}

const count = (_v: string, n: number) => n + 1;
export const TIME_FORMATS: TimeFormat[] = ['default', 'none', 'unix', 'delta', 'date', 'since-first'];

function command() {
  return printOptions(makeCommand(NAME))
    .description('read pcap and pcapng files and print them as `tcpdump -n -r` does; filter with pcap-filter(7) expressions')
    .usage('[-r] FILE|- [options] [expression]')
    .argument('[args...]', 'the file (unless -r gives it), then the filter expression')
    .option('-r, --read <file>', 'the capture file to read (- for standard input)')
    .option('-c, --count <n>', 'exit after n matching packets', countArg)
    .option('-d', 'print the compiled filter program as tcpdump -d does, and exit')
    .option('-w, --write <file>', 'write the matching packets to a capture file (- for standard output) instead of printing them')
    .option('--format <format>', 'the format -w writes: pcap (the default) or pcapng', (v: string) => {
      if (v !== 'pcap' && v !== 'pcapng') throw new UsageError(`invalid format '${v}' (pcap or pcapng)`);
      return v;
    })
    .option('--json', 'one JSON `packet` record per packet with each layer decoded, then a summary');
}

/** -c N, as tcpdump takes it. */
export function countArg(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`invalid packet count ${v}`);
  return Number(v);
}

/** What commander cannot check of the shared printing options: -t's count. */
export function checkPrintOptions(o: { t: number }): void {
  if (o.t > 5) throw new UsageError('only -t, -tt, -ttt, -tttt and -ttttt are timestamp formats');
}

/** The printing options dump and capture share (tcpdump's -n -t.. -e -q -v -x -X -A -S -#). */
export function printOptions(cmd: Command): Command {
  return cmd
    .option('-n, --numeric', "don't convert addresses and ports to names")
    .option(
      '-t',
      'no timestamp; -tt seconds since the epoch; -ttt delta from the previous packet; -tttt date and time; -ttttt delta from the first packet',
      count,
      0,
    )
    .option('--nano', 'timestamps with nanoseconds')
    .option('-e', 'print the link-level header')
    .option('-q', 'quiet: less protocol information')
    .option('-v', 'verbose: IP header fields, checksum verdicts, ND options, MLDv2 records', count, 0)
    .option('-x', 'the packet in hex, without (-xx: with) the link header', count, 0)
    .option('-X', 'the packet in hex and ASCII, without (-XX: with) the link header', count, 0)
    .option('-A', 'the packet in ASCII, without the link header')
    .option('-S', 'absolute TCP sequence numbers')
    .option('--number', 'a packet number at the start of each line (-#)');
}

/** -# is not a flag commander can name: it becomes --number, also inside a cluster (-n#). */
export function normaliseArgv(argv: string[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    if (/^-[^-]/.test(a) && a.includes('#')) {
      const rest = a.replace(/#/g, '');
      if (rest !== '-') out.push(rest);
      out.push('--number');
    } else out.push(a);
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  return runMain(NAME, () => main(argv));
}

async function main(argv: string[]): Promise<number> {
  const cmd = command();
  if (!parseArgs(cmd, normaliseArgv(argv))) return 0;
  const o = cmd.opts<Opts>();
  const args = [...(cmd.args as string[])];
  // -d compiles without reading: every argument is the expression unless -r names a file
  const file = o.read ?? (o.d ? undefined : args.shift());
  const expression = args.join(' ').trim();
  if (file === undefined && !o.d) throw new UsageError('no file to read: sockit dump [-r] FILE|- [expression]');
  checkPrintOptions(o);
  if (o.d) {
    // tcpdump -d: the program for Ethernet and the default snaplen when no file says otherwise
    const prog = compileFilter(expression, 1, 262144);
    process.stdout.write(filterImage(prog));
    return 0;
  }
  if (file === '-') {
    const bad = checkStdin();
    if (bad) readFailed(NAME, bad);
  }
  return dump(file!, expression, o);
}

export interface Sink {
  /** a promise when the reader should wait (stdout is full) */
  packet(p: CapturePacket): void | Promise<void>;
  end(): Promise<void>;
}

/**
 * V8's young generation grows with the work to its default cap (32 MiB by
 * a million packets, 16 at 100k); started with this it stays at 8, and the
 * RSS as flat as the file is long (bench/dump.mjs, at no CPU cost measured).
 */
const BIG_CAPTURE_FLAGS = ['--max-semi-space-size=4'];
/** from this size on a capture file is read in a Node started with BIG_CAPTURE_FLAGS */
const BIG_CAPTURE_BYTES = 4 << 20;

/** A read(2) of the file that fails, in tcpdump's words: "error reading dump file: Is a directory". */
async function* namedReadErrors(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* source;
  } catch (e) {
    if (isSystemError(e) && e.syscall === 'read') throw new Failure(`error reading dump file: ${strerrorOf(e)}`);
    throw e;
  }
}

async function dump(file: string, expression: string, o: Opts): Promise<number> {
  let fd = -1;
  if (file !== '-') {
    try {
      fd = openSync(file, 'r');
    } catch (e) {
      throw new Failure(`${file}: ${strerrorOf(e)}`);
    }
    if (!startedWith(BIG_CAPTURE_FLAGS) && process.env.SOCKIT_NO_RELAUNCH !== '1') {
      const st = fstatSync(fd);
      if (st.isFile() && st.size >= BIG_CAPTURE_BYTES) {
        closeSync(fd);
        return relaunch(BIG_CAPTURE_FLAGS);
      }
    }
  }
  const source = namedReadErrors(fd < 0 ? openSource(file) : fileChunks(fd));
  let match: ((data: Uint8Array, wirelen: number) => number) | null = null;
  let sink: Sink | undefined;
  let read = 0,
    matched = 0;
  let exit = 0;
  reading: for await (const batch of readCaptureBatches(source))
    for (const ev of batch) {
      if (ev.kind === 'packet') {
        read++;
        if (match && match(ev.packet.data, ev.packet.len) === 0) continue;
        matched++;
        const wait = sink!.packet(ev.packet);
        if (wait) await wait;
        if (o.count !== undefined && matched >= o.count) break reading;
      } else if (ev.kind === 'start') {
        match = expression ? filterFunction(compileFilter(expression, ev.start.linktype, ev.start.snaplen)) : null;
        process.stderr.write(`reading from file ${file}, link-type ${linkTypeText(ev.start.linktype)}, snapshot length ${ev.start.snaplen}\n`);
        // the interface indexes of a cooked v2 file are named as this host names them now
        const cooked2 = ev.start.linktype === LINKTYPE_LINUX_SLL2;
        if (cooked2) process.stderr.write('Warning: interface names might be incorrect\n');
        const ifname = cooked2 && !o.write && !o.json ? (await import('../../stack/inventory/system.js')).interfaceName : undefined;
        sink = o.write ? writerSink(o, ev.start) : o.json ? jsonSink(o) : textSink(o, ev.start, ifname);
        if (o.json)
          jsonLine({
            type: 'start',
            file: file === '-' ? null : file,
            format: ev.start.format,
            link_type: ev.start.linktype,
            link_type_name: linkTypeName(ev.start.linktype) ?? null,
            snapshot_bytes: ev.start.snaplen,
          });
      } else if (ev.kind === 'note') {
        if (o.json) jsonLine({ type: 'warning', message: ev.text });
      } else {
        await sink?.end();
        sink = undefined;
        if (o.json) jsonLine({ type: 'error', kind: 'file', code: ev.truncated ? 'truncated' : 'malformed', message: ev.text });
        process.stderr.write(`sockit dump: ${ev.text}\n`);
        exit = 1;
      }
    }
  if (fd < 0) process.stdin.destroy();
  else closeSync(fd);
  await sink?.end();
  if (o.json) jsonLine({ type: 'summary', exit_code: exit, packets: read, matched });
  return exit;
}

/** bytes of output held before a write(2) */
const OUT_BATCH = 1 << 16;
/** characters of lines held as a string before they are encoded */
const HELD = 1 << 13;

/**
 * Lines out in large writes: each line encoded into one output buffer as it
 * is made, one write per 64 KiB, not per packet (end() writes what is held
 * and may be called often).
 */
export function textSink(o: PrintOpts, start?: CaptureStart, ifname?: (ifindex: number) => string | undefined): Sink {
  const names = o.numeric ? undefined : new Names();
  const topts: TextOptions = { link: Boolean(o.e), quiet: Boolean(o.q), verbose: o.v, absolute: Boolean(o.S), ifname, names };
  const clock = new Clock(TIME_FORMATS[o.t]!, Boolean(o.nano));
  const tcp = new TcpState();
  const dopts = { checksums: o.v > 0 };
  void start;
  // lines are held as one string of up to HELD characters, encoded into the output buffer at once,
  // and the buffer written at OUT_BATCH bytes (a longer string, held longer, survives into V8's old space)
  let held = '';
  let out = Buffer.allocUnsafeSlow(2 * OUT_BATCH);
  let pos = 0;
  let shown = 0; // -# counts the packets printed, as tcpdump's packets_captured
  const text = (p: CapturePacket, d: ReturnType<typeof dissect>, stamp: string): string => {
    let line = stamp + packetText(d.layers, p.len, topts, tcp);
    const body = (n: number) => (n > 1 ? p.data : p.data.subarray(Math.min(d.linkHeaderLength, p.data.length)));
    // what tcpdump cannot print it shows in hex and ASCII, unless -q, -x or -X
    if (!o.X && !o.x && !o.q && undecodedEther(d.layers) && body(1).length) line += hexAsciiText(body(1));
    if (!o.X && !o.x && !o.A) return line;
    if (o.X) return line + (body(o.X).length ? hexAsciiText(body(o.X)) : '');
    if (o.x) return line + (body(o.x).length ? hexText(body(o.x)) : '');
    return line + asciiText(body(1));
  };
  /** Write the buffer; true when the stream is full. */
  const writeOut = (): boolean => {
    if (pos === 0) return false;
    const full = !process.stdout.write(out.subarray(0, pos));
    // a stream that still holds the bytes (an asynchronous one): the next lines go to a new buffer
    if (process.stdout.writableLength > 0) out = Buffer.allocUnsafeSlow(out.length);
    pos = 0;
    return full;
  };
  /** The held lines into the buffer (UTF-8: at most 3 bytes per UTF-16 unit), or straight to the stream when longer than it; true when the stream is full. */
  const write = (): boolean => {
    let full = false;
    if (3 * held.length > out.length - pos) full = writeOut();
    if (3 * held.length > out.length) full = !process.stdout.write(held) || full;
    else pos += out.write(held, pos);
    held = '';
    if (pos >= OUT_BATCH) full = writeOut() || full;
    return full;
  };
  const put = (line: string): void | Promise<void> => {
    held += line;
    held += '\n';
    // a pipe that is not read as fast as sockit writes: wait, don't queue the file in memory
    if (held.length >= HELD && write()) return drain();
  };
  return {
    packet(p) {
      shown++;
      const d = dissect(p.linktype, p.data, p.len, dopts);
      const stamp = (o.number ? `${String(shown).padStart(5)}  ` : '') + clock.text(p.sec, p.nsec);
      if (names) tcp.mark();
      const line = text(p, d, stamp);
      if (names?.missing.size) {
        // addresses not yet looked up: look them up (each once), then print the line with their names
        tcp.undo();
        return names.resolve().then(() => put(text(p, d, stamp)));
      }
      return put(line);
    },
    end() {
      write();
      writeOut();
      return Promise.resolve();
    },
  };
}

const drain = (): Promise<void> => new Promise<void>((resolve) => process.stdout.once('drain', resolve));

export function jsonSink(_o: PrintOpts): Sink {
  return {
    packet(p) {
      jsonLine(packetRecord(p, dissect(p.linktype, p.data, p.len)));
    },
    end: () => Promise.resolve(),
  };
}

function writerSink(o: Opts, start: CaptureStart): Sink {
  let w: CaptureWriter;
  try {
    w = new CaptureWriter(o.write!, o.format ?? 'pcap', Boolean(o.nano));
  } catch (e) {
    throw new Failure(`${o.write}: ${strerrorOf(e)}`);
  }
  w.begin(start.linktype, start.snaplen);
  return {
    packet(p) {
      try {
        w.write(p);
      } catch (e) {
        if (e instanceof RangeError) throw new Failure(e.message);
        throw e;
      }
    },
    end() {
      w.close();
      return Promise.resolve();
    },
  };
}
