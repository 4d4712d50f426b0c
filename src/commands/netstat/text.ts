// net-tools netstat's text (netstat.c 2.10): titles, headers and the printf
// widths of tcp_do_one, udp_do_one, raw_do_one and unix_do_one, the address
// truncation of addr_do_one without -W, and finish_this_one's columns.
import { readFileSync } from 'node:fs';
import { protocolName, serviceName } from '../../stack/inventory/names.js';
import type { InetSocket, UnixSocket } from '../../stack/inventory/index.js';
import { TCP_STATES } from '../../stack/structs.js';

const PROGNAME_WIDTH = 20;

/** udp_do_one's state column: a connected socket is ESTABLISHED, an unconnected one (TCP_CLOSE) blank */
export function udpState(state: number): string {
  return state === 1 ? 'ESTABLISHED' : state === 7 ? '' : 'UNKNOWN';
}

export interface Flags {
  all: boolean;
  listening: boolean;
  numericHosts: boolean;
  numericPorts: boolean;
  numericUsers: boolean;
  extend: number; // -e: 2 and more show User and Inode (flag_exp starts at 1)
  programs: boolean;
  timers: boolean;
  wide: boolean;
}

function which(f: Flags): string {
  return f.all ? '(servers and established)' : f.listening ? '(only servers)' : '(w/o servers)';
}

export function inetTitle(f: Flags): string {
  let s = `Active Internet connections ${which(f)}\nProto Recv-Q Send-Q Local Address           Foreign Address         State      `;
  if (f.extend > 1) s += ' User       Inode     ';
  if (f.programs) s += ` ${'PID/Program name'.padEnd(PROGNAME_WIDTH)}`;
  if (f.timers) s += ' Timer';
  return s + '\n';
}

export function unixTitle(f: Flags): string {
  let s = `Active UNIX domain sockets ${which(f)}\nProto RefCnt Flags       Type       State         I-Node  `;
  if (f.programs) s += ` ${'PID/Program name'.padEnd(PROGNAME_WIDTH)}`;
  return s + ' Path\n';
}

/** get_sname: "*" for port 0, else the service name unless numeric */
export function portName(port: number, proto: 'tcp' | 'udp' | 'raw', numeric: boolean): string {
  if (port === 0) return '*';
  if (numeric) return String(port);
  return (proto === 'raw' ? protocolName(port) : serviceName(port, proto)) ?? String(port);
}

const MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** INET_sprint / INET6_sprint with -n: the address, v4-mapped ones as IPv4 (fix_v4_address) */
export function numericHost(address: string): string {
  const m = MAPPED.exec(address);
  return m ? m[1] : address;
}

/** addr_do_one: "addr:port", cut to 22 characters without -W (the port kept whole up to 18) */
export function endpoint(host: string, port: string, wide: boolean, short = 22): string {
  if (!wide && host.length + port.length > short) {
    const portLen = Math.min(port.length, short - 4);
    return `${host.slice(0, short - portLen)}:${port.slice(0, portLen)}`;
  }
  return `${host}:${port}`;
}

function fixed2(v: number): string {
  return v.toFixed(2);
}

/** The -o Timer column from idiag_timer/idiag_expires (ms) as tcp_do_one prints /proc's tr:when */
export function timerText(s: InetSocket): string {
  const ticks = Math.floor(s.expires / 10); // USER_HZ clock ticks
  const t = fixed2(ticks / 100);
  const retr = s.timer === 1 ? s.retrans : 0,
    probes = s.timer === 1 ? 0 : s.retrans;
  if (s.table !== 'tcp') {
    if (s.timer === 0) return `off (0.00/0/${probes})`;
    if (s.timer === 1 || s.timer === 2) return `on${s.timer} (${t}/0/${probes})`;
    return `unkn-${s.timer} (${t}/0/${probes})`;
  }
  switch (s.timer) {
    case 0:
      return `off (0.00/${retr}/${probes})`;
    case 1:
      return `on (${t}/${retr}/${probes})`;
    case 2:
      return `keepalive (${t}/${retr}/${probes})`;
    case 3:
      return `timewait (${t}/${retr}/${probes})`;
    case 4:
      return `probe (${t}/${retr}/${probes})`;
    default:
      return `unkn-${s.timer} (${t}/${retr}/${probes})`;
  }
}

let passwd: Map<number, string> | undefined;
function userName(uid: number): string | undefined {
  if (!passwd) {
    passwd = new Map();
    let text = '';
    try {
      text = readFileSync('/etc/passwd', 'utf8');
    } catch {
      /* numbers only */
    }
    for (const line of text.split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && !passwd.has(Number(f[2]))) passwd.set(Number(f[2]), f[0]);
    }
  }
  return passwd.get(uid);
}

/** finish_this_one: User and Inode with -ee, PID/Program name with -p, Timer with -o */
export function finish(f: Flags, uid: number, inode: number, program: string | undefined, timers: string): string {
  let s = '';
  if (f.extend > 1) {
    const name = f.numericUsers ? undefined : userName(uid);
    s += ` ${(name ?? String(uid)).padEnd(10)} ${String(inode).padEnd(10)}`;
  }
  if (f.programs) s += ` ${(program ?? '-').padEnd(PROGNAME_WIDTH)}`;
  if (f.timers) s += ` ${timers}`;
  return s + '\n';
}

/** The PID/Program name cell: "pid/argv0" in netstat's 20-byte buffer (19 characters). */
export function programCell(pid: number, program: string): string {
  return `${pid}/${program}`.slice(0, PROGNAME_WIDTH - 1);
}

/** One line of the Internet table, from its parts. */
export function inetLine(s: InetSocket, label: string, local: string, remote: string, f: Flags, program: string | undefined): string {
  const rxq = String(s.rqueue).padStart(6);
  // /proc/net/tcp's tx_queue of a listener is write_seq - snd_una (0); sock_diag reports the backlog limit
  const txq = String(s.table === 'tcp' && s.state === 10 ? 0 : s.wqueue).padStart(6);
  let head: string;
  if (s.table === 'tcp') {
    head = `${label.padEnd(4)}  ${rxq} ${txq} ${local.padEnd(23)} ${remote.padEnd(23)} ${(TCP_STATES[s.state] ?? '').padEnd(11)}`;
  } else if (s.table === 'udp') {
    const st = udpState(s.state);
    head = `${label.padEnd(5)} ${rxq} ${txq} ${local.padEnd(23)} ${remote.padEnd(23)} ${st.padEnd(11)}`;
  } else {
    head = `${label.padEnd(4)}  ${rxq} ${txq} ${local.padEnd(23)} ${remote.padEnd(23)} ${String(s.state).padEnd(11)}`;
  }
  return head + finish(f, s.uid, s.inode, program, f.timers ? timerText(s) : '');
}

const UNIX_TYPE: Record<number, string> = { 1: 'STREAM', 2: 'DGRAM', 3: 'RAW', 4: 'RDM', 5: 'SEQPACKET' };
const SO_ACCEPTCON = 1 << 16,
  SO_WAITDATA = 1 << 17,
  SO_NOSPACE = 1 << 18;

function unixState(sockState: number, flags: number): string {
  switch (sockState) {
    case 0:
      return 'FREE';
    case 1:
      return flags & SO_ACCEPTCON ? 'LISTENING' : '';
    case 2:
      return 'CONNECTING';
    case 3:
      return 'CONNECTED';
    case 4:
      return 'DISCONNECTING';
    default:
      return 'UNKNOWN';
  }
}

/** unix_do_one's filter: listeners with -l, the others without, all with -a */
export function unixShown(s: UnixSocket & { sockState: number }, f: Flags): boolean {
  if (f.all) return true;
  const listener = s.sockState === 1 && ((s.flags ?? 0) & SO_ACCEPTCON) !== 0;
  return listener === f.listening;
}

export function unixLine(s: UnixSocket & { sockState: number }, f: Flags, program: string | undefined): string {
  const flags = s.flags ?? 0;
  let fl = '[ ';
  if (flags & SO_ACCEPTCON) fl += 'ACC ';
  if (flags & SO_WAITDATA) fl += 'W ';
  if (flags & SO_NOSPACE) fl += 'N ';
  fl += ']';
  let line = `${'unix'.padEnd(5)} ${String(s.refcnt ?? 0).padEnd(6)} ${fl.padEnd(11)} ${(UNIX_TYPE[s.type] ?? 'UNKNOWN').padEnd(10)} ${unixState(s.sockState, flags).padEnd(13)} `;
  line += String(s.inode).padEnd(8);
  if (f.programs) line += ` ${(program ?? '-').padEnd(PROGNAME_WIDTH)}`;
  return `${line} ${s.name ?? ''}\n`;
}
