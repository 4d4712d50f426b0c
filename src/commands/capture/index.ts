// sockit capture: tcpdump's live interface on sockit's own AF_PACKET core
// (src/stack/capture/live.ts), printing as sockit dump prints, writing with
// its CaptureWriter. `sockit capture [-i IFACE|any] [-w FILE] [expression]`.
import { CaptureWriter, linkTypeName, type CaptureFormat } from '../../stack/capture/index.js';
import { captureDevices, type CaptureDevice } from '../../stack/capture/devices.js';
import { DEFAULT_SNAPLEN, linktypeForHatype, openLive, toCapturePacket, type Direction, type LiveCapture, type LivePacket } from '../../stack/capture/live.js';
import { compileFilter, filterImage } from '../../stack/filter/index.js';
import { interfaceName } from '../../stack/inventory/system.js';
import { Failure, UsageError, jsonLine, makeCommand, onTerminate, parseArgs, runMain } from '../common.js';
import { checkPrintOptions, countArg, jsonSink, normaliseArgv, printOptions, textSink, type PrintOpts, type Sink } from '../dump/index.js';
import { bannerText, deviceLine, statsText } from './text.js';

const NAME = 'capture';

interface Opts extends PrintOpts {
  interface?: string;
  write?: string;
  count?: number;
  snapshotLength?: number;
  promiscuous: boolean;
  direction?: Direction;
  format?: CaptureFormat;
  listInterfaces?: boolean;
  d?: boolean;
  bufferSize?: number;
  mechanism?: 'ring' | 'recvmsg';
}

function command() {
  return printOptions(makeCommand(NAME))
    .description('capture packets live as tcpdump does (AF_PACKET, the filter in the kernel, a TPACKET_V3 ring): print them or write pcap/pcapng')
    .usage('[-i IFACE|any] [-w FILE] [-c N] [-s SNAPLEN] [-p] [-Q in|out|inout] [options] [expression]')
    .argument('[expression...]', 'a pcap-filter(7) expression')
    .option('-i, --interface <iface>', 'the interface to listen on, or any (cooked, LINUX_SLL2); default: the first of -D')
    .option('-w, --write <file>', 'write the packets to a capture file (- for standard output) as they arrive, instead of printing them')
    .option('-c, --count <n>', 'exit after n packets', countArg)
    .option('-s, --snapshot-length <bytes>', 'bytes kept of each packet (0: 262144)', (v: string) => {
      if (!/^\d+$/.test(v)) throw new UsageError(`invalid snaplen ${v}`);
      const n = Number(v);
      return n === 0 || n > DEFAULT_SNAPLEN ? DEFAULT_SNAPLEN : n;
    })
    .option('-p, --no-promiscuous', "don't put the interface into promiscuous mode")
    .option('-Q, --direction <dir>', 'in, out or inout: the packets to capture by direction', (v: string) => {
      if (v !== 'in' && v !== 'out' && v !== 'inout') throw new UsageError(`${v}: invalid direction (in, out or inout)`);
      return v;
    })
    .option('--format <format>', 'the format -w writes: pcap (the default) or pcapng', (v: string) => {
      if (v !== 'pcap' && v !== 'pcapng') throw new UsageError(`invalid format '${v}' (pcap or pcapng)`);
      return v;
    })
    .option('-D, --list-interfaces', 'list the interfaces a capture can open, as tcpdump -D does')
    .option('-d', 'print the compiled filter program for the interface, as tcpdump -d does, and exit')
    .option('-B, --buffer-size <KiB>', 'the kernel buffer (the ring) in KiB; default 2048', (v: string) => {
      if (!/^\d+$/.test(v) || Number(v) < 64) throw new UsageError(`invalid buffer size ${v} (at least 64 KiB)`);
      return Number(v);
    })
    .option('-U, --packet-buffered', 'accepted for tcpdump compatibility: -w output is always written as packets arrive')
    .option('-l', 'accepted for tcpdump compatibility: lines are always written as packets arrive')
    .option('--mechanism <how>', 'ring (TPACKET_V3) or recvmsg; default: the ring when the kernel has it', (v: string) => {
      if (v !== 'ring' && v !== 'recvmsg') throw new UsageError(`invalid mechanism '${v}' (ring or recvmsg)`);
      return v;
    })
    .option('--json', 'a start record, one JSON `packet` record per packet with each layer decoded, then a summary');
}

export async function run(argv: string[]): Promise<number> {
  return runMain(NAME, () => main(argv));
}

async function main(argv: string[]): Promise<number> {
  const cmd = command();
  if (!parseArgs(cmd, normaliseArgv(argv))) return 0;
  const o = cmd.opts<Opts>();
  const expression = (cmd.args as string[]).join(' ').trim();
  checkPrintOptions(o);
  const devices = await captureDevices();
  if (o.listInterfaces) {
    process.stdout.write(devices.map((d, i) => deviceLine(d, i + 1)).join(''));
    return 0;
  }
  const dev = pickDevice(devices, o.interface);
  const linktype = linktypeForHatype(dev.hatype, dev.ifindex);
  const snaplen = o.snapshotLength ?? DEFAULT_SNAPLEN;
  // a bad expression is bad input before anything is opened
  const prog = compileFilter(expression, linktype, snaplen);
  if (o.d) {
    process.stdout.write(filterImage(prog));
    return 0;
  }
  return capture(dev, prog, snaplen, o);
}

function pickDevice(devices: CaptureDevice[], name: string | undefined): CaptureDevice {
  if (name === undefined) {
    const first = devices[0];
    if (!first) throw new Failure('no suitable device found');
    return first;
  }
  const byName = devices.find((d) => d.name === name) ?? (/^\d+$/.test(name) ? devices.find((d) => d.ifindex === Number(name)) : undefined);
  if (!byName) throw new UsageError(`${name}: No such device exists`);
  return byName;
}

async function capture(dev: CaptureDevice, prog: ReturnType<typeof compileFilter>, snaplen: number, o: Opts): Promise<number> {
  // opened before any file: without privilege nothing is written
  const cap = openLive({
    interface: dev.ifindex === 0 ? 'any' : dev.ifindex,
    filter: prog,
    snaplen,
    promiscuous: o.promiscuous,
    direction: o.direction ?? 'inout',
    mechanism: o.mechanism ?? 'auto',
    bufferBytes: (o.bufferSize ?? 2048) * 1024,
    // each packet is printed or written before the listener returns: no copy of it is kept
    transient: true,
  });
  let writer: CaptureWriter | null = null;
  try {
    writer = o.write ? openWriter(o, cap) : null;
  } catch (e) {
    cap.close();
    throw e;
  }
  // tcpdump asks libpcap for LINUX_SLL2 on any, and says so
  if (dev.ifindex === 0) process.stderr.write(`sockit capture: data link type ${linkTypeName(cap.linktype)}\n`);
  process.stderr.write(bannerText(dev.name, cap.linktype, snaplen, !o.write && !o.v && !o.json));
  if (o.v) process.stderr.write(mechanismText(cap));
  if (o.json) {
    jsonLine({
      type: 'start',
      interface: dev.name,
      link_type: cap.linktype,
      link_type_name: linkTypeName(cap.linktype) ?? null,
      snapshot_bytes: snaplen,
      mechanism: cap.mechanism,
      kernel_filter: cap.kernelFilter,
      file: o.write ?? null,
    });
  }
  const sink: Sink | null = writer ? null : o.json ? jsonSink(o) : textSink(o, undefined, interfaceName);
  return new Promise<number>((resolve) => {
    let number = 0;
    let flushQueued = false;
    let ending = false;
    const flush = () => {
      flushQueued = false;
      if (cap.isClosed) return;
      try {
        writer?.flush();
        void sink?.end();
      } catch (e) {
        void end(writeFailure(e, o.write));
      }
    };
    // graceful (a signal): what the kernel still holds is read first, so the file is complete
    const end = async (failure?: Failure, graceful = false) => {
      if (ending) return;
      ending = true;
      removeSignals();
      const s = graceful ? await cap.stop() : cap.close();
      let exit = 0;
      try {
        writer?.close();
      } catch (e) {
        failure ??= writeFailure(e, o.write);
      }
      void sink?.end();
      // tcpdump, interrupted while printing, ends with a newline in case a line was cut short
      if (graceful && sink && !o.json) process.stdout.write('\n');
      if (failure) {
        process.stderr.write(`sockit capture: ${failure.message}\n`);
        exit = 1;
      }
      process.stderr.write(statsText(s.captured, s.received, s.dropped));
      if (o.json) jsonLine({ type: 'summary', exit_code: exit, captured: s.captured, received_by_filter: s.received, dropped_by_kernel: s.dropped });
      resolve(exit);
    };
    const removeSignals = onTerminate(() => void end(undefined, true));
    cap.on('error', (e) => void end(new Failure(e.message)));
    const counted = () => {
      if (o.count !== undefined && number >= o.count) {
        // also while a graceful stop is reading the rest: no packet past the count
        cap.close();
        return void end();
      }
      // what one wake-up delivered goes out in one write: whole records for a reader of the growing file
      if (!flushQueued) {
        flushQueued = true;
        queueMicrotask(flush);
      }
    };
    if (writer) {
      // -w: packets go from the ring to the file's staging buffer as bytes, no object per packet
      const w = writer;
      const { linktype, snaplen: fileSnaplen } = cap;
      cap.onFrames((src, off, caplen, len, sec, nsec, head) => {
        number++;
        try {
          w.writeFrame(linktype, fileSnaplen, sec, nsec, len, head, src, off, caplen);
        } catch (e) {
          cap.close();
          return void end(writeFailure(e, o.write));
        }
        counted();
      });
    } else
      cap.on('packet', (p: LivePacket) => {
        number++;
        void sink!.packet(toCapturePacket(p, number, snaplen));
        counted();
      });
  });
}

function openWriter(o: Opts, cap: LiveCapture): CaptureWriter {
  // a failed open or header write (a full disk) is one line and exit 1
  try {
    const w = new CaptureWriter(o.write!, o.format ?? 'pcap', Boolean(o.nano));
    w.begin(cap.linktype, cap.snaplen);
    w.flush();
    return w;
  } catch (e) {
    throw writeFailure(e, o.write);
  }
}

function writeFailure(e: unknown, file: string | undefined): Failure {
  const err = e as NodeJS.ErrnoException;
  const text =
    err.code === 'ENOENT'
      ? 'No such file or directory'
      : err.code === 'EACCES'
        ? 'Permission denied'
        : err.code === 'ENOSPC'
          ? 'No space left on device'
          : err.code === 'EISDIR'
            ? 'Is a directory'
            : err.message;
  return new Failure(`${file ?? 'output'}: ${text}`);
}

function mechanismText(cap: LiveCapture): string {
  const g = cap.ringGeometry();
  const how = g ? `a TPACKET_V3 ring (${g.blocks} blocks of ${g.blockSize / 1024} KiB)` : 'recvmsg batches (no TPACKET_V3 ring)';
  return `sockit capture: reading with ${how}; the filter runs ${cap.kernelFilter ? 'in the kernel' : 'in the process'}\n`;
}
