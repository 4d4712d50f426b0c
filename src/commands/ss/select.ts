// ss's choice of socket tables, families and states from its options and
// leading state words, as misc/ss.c makes it (filter_db_set, filter_af_set,
// filter_merge_defaults, preferred_family): what the sweep walks.
import type { InetTable } from '../../stack/inventory/index.js';
import { UsageError } from '../common.js';

// the socket tables (ss's *_DB) sockit knows
export type Db = 'tcp' | 'udp' | 'raw' | 'u_dgr' | 'u_str' | 'u_seq' | 'p_raw' | 'p_dgr' | 'nl';
export type Family = 4 | 6 | 'unix' | 'link' | 'netlink';
const UNIX_DBS: Db[] = ['u_dgr', 'u_str', 'u_seq'];
const INET_DBS: Db[] = ['tcp', 'udp', 'raw'];
const PACKET_DBS: Db[] = ['p_raw', 'p_dgr'];

// TCP_* states as bits (ss's SS_*)
export const S = {
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  FIN_WAIT1: 4,
  FIN_WAIT2: 5,
  TIME_WAIT: 6,
  CLOSE: 7,
  CLOSE_WAIT: 8,
  LAST_ACK: 9,
  LISTEN: 10,
  CLOSING: 11,
};
const SS_ALL = (1 << 12) - 1;
const SS_CONN = SS_ALL & ~((1 << S.LISTEN) | (1 << S.CLOSE) | (1 << S.TIME_WAIT) | (1 << S.SYN_RECV));
const DB_STATES: Record<Db, number> = {
  tcp: SS_CONN,
  udp: 1 << S.ESTABLISHED,
  raw: 1 << S.ESTABLISHED,
  u_dgr: 1 << S.CLOSE,
  u_str: SS_CONN,
  u_seq: SS_CONN,
  p_raw: 1 << S.CLOSE,
  p_dgr: 1 << S.CLOSE,
  nl: 1 << S.CLOSE,
};
export const DB_FAMILY: Record<Db, 'inet' | 'unix' | 'link' | 'netlink'> = {
  tcp: 'inet',
  udp: 'inet',
  raw: 'inet',
  u_dgr: 'unix',
  u_str: 'unix',
  u_seq: 'unix',
  p_raw: 'link',
  p_dgr: 'link',
  nl: 'netlink',
};
/** default_afs: the states a family brings */
const FAMILY_STATES: Record<string, number> = { 4: SS_CONN, 6: SS_CONN, unix: SS_CONN, link: 1 << S.CLOSE, netlink: 1 << S.CLOSE };

const STATE_NAMES: Record<string, number> = {
  established: 1 << S.ESTABLISHED,
  'syn-sent': 1 << S.SYN_SENT,
  'syn-recv': 1 << S.SYN_RECV,
  'syn-rcv': 1 << S.SYN_RECV,
  'fin-wait-1': 1 << S.FIN_WAIT1,
  'fin-wait-2': 1 << S.FIN_WAIT2,
  'time-wait': 1 << S.TIME_WAIT,
  unconnected: 1 << S.CLOSE,
  close: 1 << S.CLOSE,
  closed: 1 << S.CLOSE,
  'close-wait': 1 << S.CLOSE_WAIT,
  'last-ack': 1 << S.LAST_ACK,
  listening: 1 << S.LISTEN,
  closing: 1 << S.CLOSING,
  all: SS_ALL,
  connected: SS_ALL & ~((1 << S.CLOSE) | (1 << S.LISTEN)),
  synchronized: SS_ALL & ~((1 << S.CLOSE) | (1 << S.LISTEN) | (1 << S.SYN_SENT)),
  bucket: (1 << S.SYN_RECV) | (1 << S.TIME_WAIT),
  big: SS_ALL & ~((1 << S.SYN_RECV) | (1 << S.TIME_WAIT)),
};

const QUERY: Record<string, Db[]> = {
  all: [...INET_DBS, ...UNIX_DBS, ...PACKET_DBS, 'nl'],
  inet: INET_DBS,
  packet: PACKET_DBS,
  packet_raw: ['p_raw'],
  packet_dgram: ['p_dgr'],
  netlink: ['nl'],
  tcp: ['tcp'],
  udp: ['udp'],
  raw: ['raw'],
  unix: UNIX_DBS,
  unix_stream: ['u_str'],
  u_str: ['u_str'],
  unix_dgram: ['u_dgr'],
  u_dgr: ['u_dgr'],
  unix_seqpacket: ['u_seq'],
  u_seq: ['u_seq'],
};
/** the options select() reads (ss's -t -u -w -x -0 -l -a -4 -6 -f -A) */
export interface SelectOptions {
  tcp?: boolean;
  udp?: boolean;
  raw?: boolean;
  unix?: boolean;
  packet?: boolean;
  listening?: boolean;
  all?: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
  family?: string[];
  query?: string[];
}

export interface Selection {
  dbs: Set<Db>;
  families: Set<Family>;
  states: number;
}

/** Turn ss's options and leading state words into tables, families and states (misc/ss.c main). */
export function select(o: SelectOptions, args: string[]): { sel: Selection; rest: string[] } {
  const dbs = new Set<Db>();
  const families = new Set<Family>();
  let states = 0,
    stateFilter = 0,
    doDefault = true;
  const dbSet = (d: Db) => {
    dbs.add(d);
    states |= DB_STATES[d];
    doDefault = false;
  };
  const afSet = (f: Family) => {
    families.add(f);
    states |= FAMILY_STATES[f]!;
    doDefault = false;
  };
  // getopt order does not matter for these: each only adds
  if (o.tcp) dbSet('tcp');
  if (o.udp) dbSet('udp');
  if (o.raw) dbSet('raw');
  if (o.packet) {
    dbSet('p_raw');
    dbSet('p_dgr');
  }
  if (o.unix) afSet('unix');
  if (o.ipv4) afSet(4);
  if (o.ipv6) afSet(6);
  for (const f of o.family ?? []) {
    if (f === 'inet') afSet(4);
    else if (f === 'inet6') afSet(6);
    else if (f === 'unix' || f === 'link' || f === 'netlink') afSet(f);
    else throw new UsageError(`"${f}" is invalid family (sockit knows inet, inet6, unix, link and netlink)`);
  }
  if (o.all) stateFilter = SS_ALL;
  if (o.listening) stateFilter = (1 << S.LISTEN) | (1 << S.CLOSE);
  if (o.query?.length) {
    dbs.clear();
    stateFilter ||= SS_CONN;
    doDefault = false;
    for (const q of o.query.flatMap((x) => x.split(','))) {
      const off = q.startsWith('!');
      const list = QUERY[off ? q.slice(1) : q];
      if (!list) throw new UsageError(`"${q}" is illegal socket table id`);
      for (const d of list) off ? dbs.delete(d) : dbSet(d);
    }
  }
  let i = 0,
    saw = false;
  while (i < args.length && (args[i] === 'state' || args[i] === 'exclude' || args[i] === 'excl')) {
    const word = args[i + 1];
    if (word === undefined) throw new UsageError(`bad filter at '${args[i]}': expected a state name after it`);
    const bits = STATE_NAMES[word.toLowerCase()];
    if (bits === undefined) throw new UsageError(`wrong state name: ${word}`);
    if (args[i] === 'state') stateFilter = (saw ? stateFilter : 0) | bits;
    else stateFilter = (saw ? stateFilter : SS_ALL) & ~bits;
    saw = true;
    i += 2;
  }
  if (doDefault) {
    stateFilter ||= SS_CONN;
    for (const d of QUERY.all) dbSet(d);
  }
  if (stateFilter) states = stateFilter;
  // filter_merge_defaults: a table brings its families, a family its tables
  for (const d of dbs) {
    const fam = DB_FAMILY[d];
    if (fam !== 'inet') families.add(fam);
    else if (!families.has(4) && !families.has(6)) {
      families.add(4);
      families.add(6);
    }
  }
  if (families.has('unix') && !UNIX_DBS.some((d) => dbs.has(d))) UNIX_DBS.forEach((d) => dbs.add(d));
  if (families.has('link') && !PACKET_DBS.some((d) => dbs.has(d))) PACKET_DBS.forEach((d) => dbs.add(d));
  if (families.has('netlink')) dbs.add('nl');
  if ((families.has(4) || families.has(6)) && !INET_DBS.some((d) => dbs.has(d))) INET_DBS.forEach((d) => dbs.add(d));
  return { sel: { dbs, families, states }, rest: args.slice(i) };
}

/** whether any option chose tables or families (ss's do_default cleared) */
export function selectsTables(o: SelectOptions): boolean {
  return Boolean(o.tcp || o.udp || o.raw || o.unix || o.packet || o.ipv4 || o.ipv6 || o.family?.length || o.query?.length);
}
/** The inet tables and families ss walks, in its order (unix, raw, udp, tcp; IPv4 then IPv6). */
export function walks(sel: Selection): { table: InetTable; family: 4 | 6 }[] {
  const out: { table: InetTable; family: 4 | 6 }[] = [];
  for (const table of ['raw', 'udp', 'tcp'] as const) {
    if (!sel.dbs.has(table)) continue;
    for (const family of [4, 6] as const) if (sel.families.has(family)) out.push({ table, family });
  }
  return out;
}

/**
 * ss's preferred_family: the family of the last -f, -0, -x, -4 or -6 in
 * argv (filter_af_set sets it; -A does not). It decides how a filter's HOST
 * reads; only link and netlink change that here.
 */
export function preferredFamily(argv: string[]): 'link' | 'netlink' | null {
  let fam: string | null = null;
  const FAMILY: Record<string, string> = { inet: 'inet', inet6: 'inet6', link: 'link', unix: 'unix', netlink: 'netlink' };
  const LONG: Record<string, string> = { '--packet': 'link', '--unix': 'unix', '--ipv4': 'inet', '--ipv6': 'inet6' };
  const SHORT: Record<string, string> = { 0: 'link', x: 'unix', 4: 'inet', 6: 'inet6' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (LONG[a]) fam = LONG[a];
    else if (a === '--family') fam = FAMILY[argv[++i] ?? ''] ?? fam;
    else if (a.startsWith('--family=')) fam = FAMILY[a.slice(9)] ?? fam;
    else if (a === '--query' || a === '--watch') i++;
    else if (/^-[^-]/.test(a)) {
      for (let k = 1; k < a.length; k++) {
        const c = a[k]!;
        if (c === 'f' || c === 'A') {
          // the rest of the word, or the next one, is the argument
          const arg = k + 1 < a.length ? a.slice(k + 1) : (argv[++i] ?? '');
          if (c === 'f') fam = FAMILY[arg] ?? fam;
          break;
        }
        if (SHORT[c]) fam = SHORT[c];
      }
    }
  }
  return fam === 'link' || fam === 'netlink' ? fam : null;
}
