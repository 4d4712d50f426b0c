// sockit sntp: an RFC 4330 client that prints what ntpdig(1) prints (and
// never sets the clock), and with --listen the book's ssntp (UNP 21.11),
// which joins the NTP multicast groups and shows every packet it hears.
import { hostServ, isResolveError, type InetSockAddr } from '../stack/hostserv.js';
import * as ntp from '../stack/packet/ntp.js';
import { NTP_GROUP4, NTP_GROUP6, best, listen, query, type SntpOutcome, type SntpSample } from '../stack/sntp.js';
import { addressFamily, isMulticast } from '../stack/packet/addr.js';
import { renderer, type JsonRecord, type Presenter } from '../output/index.js';
import { UsageError, familyFlag, intArg, jsonLine, makeCommand, onTerminate, parseArgs, runMain, secondsArg } from './common.js';

interface Options {
  count: number;
  timeout?: number;
  port?: number;
  listen?: string | boolean;
  json?: boolean;
  4?: boolean;
  6?: boolean;
}

const ms = (ns: number | bigint) => Number(ns) / 1e6;
const fam = (sa: InetSockAddr): 4 | 6 => (sa.family === 2 ? 4 : 6);
const end = (sa: InetSockAddr) => ({ family: fam(sa), address: sa.address, port: sa.port });

type Event =
  | { kind: 'reply'; seq: number; host: string; server: InetSockAddr; s: SntpSample }
  | { kind: 'problem'; seq: number; host: string; server: InetSockAddr; o: Exclude<SntpOutcome, { ok: true }> };

/** ntpdig's report line: server time (local), offset +/- error, host, address, stratum, leap. */
export function ntpdigLine(host: string, address: string, s: SntpSample): string {
  const t3 = new Date(Number(s.t3 / 1_000_000n));
  const two = (n: number) => String(n).padStart(2, '0');
  const usec = String(Number((s.t3 % 1_000_000_000n) / 1000n)).padStart(6, '0');
  const tzMin = -t3.getTimezoneOffset();
  const tz = `${tzMin < 0 ? '-' : '+'}${two(Math.floor(Math.abs(tzMin) / 60))}${two(Math.abs(tzMin) % 60)}`;
  const date = `${t3.getFullYear()}-${two(t3.getMonth() + 1)}-${two(t3.getDate())} ${two(t3.getHours())}:${two(t3.getMinutes())}:${two(t3.getSeconds())}.${usec}`;
  const sign = (x: number) => (x < 0 ? '-' : '+');
  const off = s.offsetNs / 1e9;
  const who = address !== host ? `${host} ${address}` : host;
  return `${date} (${tz}) ${sign(off)}${Math.abs(off).toFixed(6)} +/- ${(s.errorNs / 1e9).toFixed(6)} ${who} s${s.packet.stratum} ${ntp.LEAP_NAMES[s.packet.leap]}\n`;
}

function replyRecord(e: Extract<Event, { kind: 'reply' }>): JsonRecord {
  const p = e.s.packet;
  return {
    type: 'reply',
    seq: e.seq,
    from: end(e.server),
    version: p.version,
    mode: p.mode,
    stratum: p.stratum,
    leap: ntp.LEAP_NAMES[p.leap],
    poll: p.poll,
    precision: p.precision,
    reference_id: ntp.referenceIdText(p),
    root_delay_ms: p.rootDelay * 1e3,
    root_dispersion_ms: p.rootDispersion * 1e3,
    offset_ms: ms(e.s.offsetNs),
    delay_ms: ms(e.s.delayNs),
    error_ms: ms(e.s.errorNs),
    originate_timestamp_ms: ms(e.s.t1),
    receive_timestamp_ms: ms(e.s.t2),
    transmit_timestamp_ms: ms(e.s.t3),
    destination_timestamp_ms: ms(e.s.t4),
  };
}

const clientPresenter: Presenter<Event> = {
  toRecord(e) {
    if (e.kind === 'reply') return replyRecord(e);
    const { o } = e;
    if (o.kind === 'timeout') return { type: 'timeout', seq: e.seq, from: end(e.server) };
    return {
      type: 'error',
      kind: o.kind === 'system' ? 'system' : 'ntp',
      seq: e.seq,
      from: end(e.server),
      code: o.kind === 'kod' || o.kind === 'system' ? o.code : o.kind.toUpperCase(),
      message: `${e.host}: ${o.message}`,
    };
  },
  // samples print nothing: ntpdig reports the one it selects; problems are one line each
  toText: (e) => (e.kind === 'reply' ? null : { stderr: `sockit sntp: ${e.host}: ${e.o.message}\n` }),
};

function command() {
  return makeCommand('sntp')
    .description("SNTP client (RFC 4330) printing as ntpdig does, without setting the clock; --listen: the book's ssntp")
    .usage('[-4|-6] [-c samples] [-t timeout] [-p port] [--json] host | --listen [group]')
    .argument('[host]', 'the NTP server')
    .option('-4', 'IPv4 only')
    .option('-6', 'IPv6 only')
    .option('-c, --count <n>', "samples to take; the best is reported (ntpdig's clock_select)", intArg('count', 1, 100), 1)
    .option('-t, --timeout <s>', 'seconds to wait for each reply (default: 5)', secondsArg('timeout', 0.001, 3600))
    .option('-p, --port <port>', `server port, or with --listen the port to bind (default: ${ntp.PORT})`, intArg('port', 1, 65535))
    .option('--listen [group]', `listen for NTP packets: join ${NTP_GROUP4} and ${NTP_GROUP6} (or group) on every multicast interface`)
    .option('--json', 'JSON lines (sockit(1) JSON OUTPUT)');
}

export async function run(argv: string[]): Promise<number> {
  return runMain('sntp', async () => {
    const cmd = command();
    if (!parseArgs(cmd, argv)) return 0;
    const o = { timeout: 5000, port: ntp.PORT, ...cmd.opts<Options>() };
    const [host] = cmd.args as [string?];
    if (o.listen !== undefined) {
      if (host !== undefined) throw new UsageError(`unexpected argument '${host}' with --listen`);
      return listener(o);
    }
    if (host === undefined) throw new UsageError('a server is required (see sockit sntp --help)');
    return client(o, host);
  });
}

async function resolve(host: string, port: number, family: 0 | 4 | 6): Promise<InetSockAddr> {
  try {
    const all = await hostServ(host, port, family);
    if (all[0]) return all[0];
  } catch (e) {
    if (!isResolveError(e)) throw e;
    throw new UsageError(`${host}: ${e.message}`);
  }
  throw new UsageError(`${host}: no address`);
}

async function client(o: Required<Pick<Options, 'timeout' | 'port'>> & Options, host: string): Promise<number> {
  const server = await resolve(host, o.port, familyFlag(o, 'only one of -4 and -6 may be given'));
  const out = renderer(clientPresenter, Boolean(o.json));
  if (o.json) jsonLine({ type: 'start', host, address: server.address, family: fam(server), port: server.port, samples: o.count, timeout_ms: o.timeout });
  const good: SntpSample[] = [];
  for (let seq = 1; seq <= o.count; seq++) {
    const r = await query(server, o.timeout);
    if (r.ok) {
      good.push(r.sample);
      out.emit({ kind: 'reply', seq, host, server, s: r.sample });
      continue;
    }
    out.emit({ kind: 'problem', seq, host, server, o: r });
    if (r.kind === 'kod') break; // RFC 4330 section 8: stop sending to a server that kisses
  }
  await out.drain();
  const pick = best(good);
  const code = pick ? 0 : 1;
  if (o.json) {
    const s = pick && { stratum: pick.packet.stratum, offset_ms: ms(pick.offsetNs), delay_ms: ms(pick.delayNs), error_ms: ms(pick.errorNs) };
    jsonLine({ type: 'summary', host, samples: o.count, replies: good.length, ...s, exit_code: code });
  } else if (pick) {
    process.stdout.write(ntpdigLine(host, server.address, pick));
  }
  return code;
}

/** UNP's sntp_proc: version, mode, stratum, and the clock difference (now - the packet's transmit time). */
export function ssntpText(bytes: Buffer, receivedNs: bigint): string {
  const d = ntp.decode(bytes);
  if (!d.ok) return `\npacket too small: ${bytes.length} bytes\n`;
  const p = d.value;
  const head = `\nv${p.version}, mode ${p.mode}, strat ${p.stratum}, `;
  if (p.mode === ntp.MODE_CLIENT) return `${head}client\n`;
  const diff = receivedNs - ntp.toUnixNs(p.transmitTime);
  // seconds rounded down, microseconds in [0, 1000000) as the book normalises them
  const usecAll = diff >= 0n ? diff / 1000n : -((-diff + 999n) / 1000n);
  const sec = usecAll >= 0n ? usecAll / 1_000_000n : -((-usecAll + 999_999n) / 1_000_000n);
  return `${head}clock difference = ${sec} sec, ${usecAll - sec * 1_000_000n} usec\n`;
}

async function listener(o: Required<Pick<Options, 'port'>> & Options): Promise<number> {
  const groups = typeof o.listen === 'string' ? [o.listen] : [NTP_GROUP4, NTP_GROUP6];
  for (const g of groups) if (!addressFamily(g) || !isMulticast(g)) throw new UsageError(`not a multicast group address: '${g}'`);
  const json = Boolean(o.json);
  const sockNtop = (g: string, port: number) => (g.includes(':') ? `[${g}]:${port}` : `${g}:${port}`);
  let packets = 0;
  const close = listen(groups, o.port, {
    joined(g, port, ifname) {
      if (json) jsonLine({ type: 'listening', group: g, port, family: g.includes(':') ? 6 : 4, interface: ifname });
      else process.stdout.write(`joined ${sockNtop(g, port)} on ${ifname}\n`);
    },
    joinFailed(g, ifname, message) {
      if (json) jsonLine({ type: 'warning', group: g, interface: ifname, message: `cannot join ${g} on ${ifname}: ${message}` });
      process.stderr.write(`sockit sntp: cannot join ${g} on ${ifname}: ${message}\n`);
    },
    packet(from, bytes, receivedNs) {
      packets++;
      if (!json) return void process.stdout.write(ssntpText(bytes, receivedNs));
      const d = ntp.decode(bytes);
      const base = { type: 'datagram', from: end(from), bytes: bytes.length };
      if (!d.ok) return jsonLine({ ...base, error: d.error });
      const p = d.value;
      const diff = p.mode === ntp.MODE_CLIENT ? undefined : ms(receivedNs - ntp.toUnixNs(p.transmitTime));
      jsonLine({ ...base, version: p.version, mode: p.mode, stratum: p.stratum, clock_difference_ms: diff });
    },
  });
  await new Promise<void>((done) => onTerminate(() => done()));
  close();
  if (json) jsonLine({ type: 'summary', packets, exit_code: 0 });
  return 0;
}
