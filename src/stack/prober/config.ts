// blackbox.yml, as blackbox_exporter reads it (config/config.go): `modules:`
// by name, each with `prober`, `timeout` and one section per prober, the
// same defaults (ip6 preferred with fallback to ip4, ICMP TTL 64), and
// every unknown key an error naming it (its decoder runs with KnownFields).
// sockit adds a `udp` prober and smokeping_prober's `targets:` list for
// continuous probing.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';

export type IpProtocol = 'ip4' | 'ip6';

export interface IcmpModule {
  preferredIpProtocol: IpProtocol;
  ipProtocolFallback: boolean;
  sourceIpAddress?: string;
  payloadSize: number;
  dontFragment: boolean;
  ttl: number;
}

export interface QueryResponse {
  expect?: RegExp;
  /** the expect text as written (for the debug output) */
  expectText?: string;
  send?: string;
  starttls: boolean;
}

export interface TcpModule {
  preferredIpProtocol: IpProtocol;
  ipProtocolFallback: boolean;
  sourceIpAddress?: string;
  queryResponse: QueryResponse[];
  tls: boolean;
}

/** sockit's own: a datagram to HOST:PORT over a connected UDP socket (IP_RECVERR), a reply matched by `query_response`. */
export interface UdpModule {
  preferredIpProtocol: IpProtocol;
  ipProtocolFallback: boolean;
  sourceIpAddress?: string;
  queryResponse: QueryResponse[];
}

/** validate_answer_rrs, validate_authority_rrs, validate_additional_rrs: regexps over each record's text. */
export interface RRValidator {
  failIfMatchesRegexp: string[];
  failIfAllMatchRegexp: string[];
  failIfNotMatchesRegexp: string[];
  failIfNoneMatchesRegexp: string[];
}

export interface DnsModule {
  preferredIpProtocol: IpProtocol;
  ipProtocolFallback: boolean;
  sourceIpAddress?: string;
  transportProtocol: 'udp' | 'tcp';
  queryName: string;
  queryType: string;
  queryClass: string;
  recursionDesired: boolean;
  validRcodes: string[];
  validateAnswer: RRValidator;
  validateAuthority: RRValidator;
  validateAdditional: RRValidator;
}

export interface Module {
  prober: string;
  /** 0: none (the scrape's timeout decides) */
  timeoutS: number;
  icmp: IcmpModule;
  tcp: TcpModule;
  udp: UdpModule;
  dns: DnsModule;
  /** the module as written, for the debug output */
  source: unknown;
}

/** smokeping_prober's target group: hosts pinged every `interval`. */
export interface TargetGroup {
  hosts: string[];
  intervalMs: number;
  network: 'ip' | 'ip4' | 'ip6';
  size: number;
  source?: string;
}

export interface ProberConfig {
  modules: Map<string, Module>;
  targets: TargetGroup[];
}

/** A config file blackbox_exporter would refuse: the message names the line and the key. */
export class ConfigError extends Error {}

const IP_PROTOCOLS = ['ip4', 'ip6'];
const DNS_TYPES = ['A', 'AAAA', 'ANY', 'CNAME', 'MX', 'NS', 'PTR', 'SOA', 'SRV', 'TXT', 'CAA', 'DS', 'DNSKEY'];
const DNS_CLASSES = ['IN', 'CH', 'HS', 'ANY', 'NONE'];
const DNS_RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];
/** blackbox_exporter's probers sockit runs, and the ones it only accepts in a config file */
export const PROBERS = ['icmp', 'tcp', 'udp', 'dns'];
const FOREIGN_PROBERS = ['http', 'grpc'];

const GO_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, μs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A Go duration ("5s", "1m30s", "250ms", "1.5h") in seconds, or undefined. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * GO_UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  return pos === 0 ? undefined : total;
}

/** Reads one YAML mapping with a fixed set of keys, each checked once. */
class Section {
  private readonly seen = new Set<string>();
  constructor(
    readonly map: YAMLMap,
    readonly where: string,
    private readonly lines: LineCounter,
  ) {
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (this.seen.has(key)) throw this.error(pair.key as Node, `key ${JSON.stringify(key)} given twice in ${where}`);
      this.seen.add(key);
    }
  }

  error(node: Node | null | undefined, text: string): ConfigError {
    const at = node?.range ? `line ${this.lines.linePos(node.range[0]).line}: ` : '';
    return new ConfigError(`${at}${text}`);
  }

  /** Refuse any key not in `known`, naming it. */
  only(known: readonly string[]): void {
    for (const pair of this.map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (!known.includes(key)) throw this.error(pair.key as Node, `field ${key} not found in ${this.where}`);
    }
  }

  node(key: string): Node | undefined {
    return this.map.get(key, true) as Node | undefined;
  }

  string(key: string): string | undefined {
    const n = this.node(key);
    if (n === undefined || (isScalar(n) && n.value === null)) return undefined;
    if (!isScalar(n) || typeof n.value === 'object') throw this.error(n, `${key} in ${this.where} must be a string`);
    return String(n.value);
  }

  bool(key: string, dflt: boolean): boolean {
    const n = this.node(key);
    if (n === undefined) return dflt;
    if (!isScalar(n) || typeof n.value !== 'boolean') throw this.error(n, `${key} in ${this.where} must be true or false`);
    return n.value;
  }

  int(key: string, dflt: number, min: number, max: number): number {
    const n = this.node(key);
    if (n === undefined) return dflt;
    if (!isScalar(n) || typeof n.value !== 'number' || !Number.isInteger(n.value)) throw this.error(n, `${key} in ${this.where} must be an integer`);
    if (n.value < min) throw this.error(n, `"${key}" cannot be ${min === 0 ? 'negative' : `below ${min}`}`);
    if (n.value > max) throw this.error(n, `"${key}" cannot exceed ${max}`);
    return n.value;
  }

  duration(key: string): number | undefined {
    const s = this.string(key);
    if (s === undefined) return undefined;
    const v = parseGoDuration(s);
    if (v === undefined) throw this.error(this.node(key), `time: invalid duration "${s}" (${key} in ${this.where})`);
    return v;
  }

  oneOf<T extends string>(key: string, allowed: readonly string[], dflt: T): T {
    const s = this.string(key);
    if (s === undefined || s === '') return dflt;
    if (!allowed.includes(s)) throw this.error(this.node(key), `${key} in ${this.where} must be one of ${allowed.join(', ')}, not "${s}"`);
    return s as T;
  }

  ipProtocol(): IpProtocol {
    // blackbox_exporter: anything but "ip4" is ip6, the default
    const s = this.string('preferred_ip_protocol');
    if (s !== undefined && s !== '' && !IP_PROTOCOLS.includes(s)) {
      throw this.error(this.node('preferred_ip_protocol'), `preferred_ip_protocol in ${this.where} must be ip4 or ip6, not "${s}"`);
    }
    return s === 'ip4' ? 'ip4' : 'ip6';
  }

  section(key: string): Section | undefined {
    const n = this.node(key);
    if (n === undefined || (isScalar(n) && n.value === null)) return undefined;
    if (!isMap(n)) throw this.error(n, `${key} in ${this.where} must be a mapping`);
    return new Section(n, `${this.where}.${key}`, this.lines);
  }

  list(key: string): Node[] {
    const n = this.node(key);
    if (n === undefined || (isScalar(n) && n.value === null)) return [];
    if (!isSeq(n)) throw this.error(n, `${key} in ${this.where} must be a list`);
    return n.items as Node[];
  }

  sectionOf(n: Node, where: string): Section {
    if (!isMap(n)) throw this.error(n, `${where} must be a mapping`);
    return new Section(n, where, this.lines);
  }
}

function queryResponses(s: Section | undefined): QueryResponse[] {
  if (!s) return [];
  return s.list('query_response').map((n, i) => {
    const q = s.sectionOf(n, `${s.where}.query_response[${i}]`);
    q.only(['expect', 'send', 'starttls']);
    const expectText = q.string('expect');
    let expect: RegExp | undefined;
    if (expectText !== undefined && expectText !== '') {
      try {
        expect = goRegexp(expectText);
      } catch {
        throw q.error(q.node('expect'), `"Could not compile regular expression" regexp="${expectText}"`);
      }
    }
    return { expect, expectText, send: q.string('send'), starttls: q.bool('starttls', false) };
  });
}

/**
 * A Go (RE2) regexp as a JavaScript one: a leading flag group (?i), (?s),
 * (?m) becomes the flags, as Node 20 takes no inline modifiers; throws
 * SyntaxError for what JavaScript cannot compile.
 */
export function goRegexp(text: string): RegExp {
  const m = /^\(\?([ims]+)\)/.exec(text);
  return m ? new RegExp(text.slice(m[0].length), [...new Set(m[1])].join('')) : new RegExp(text);
}

const RR_VALIDATOR_KEYS = ['fail_if_matches_regexp', 'fail_if_all_match_regexp', 'fail_if_not_matches_regexp', 'fail_if_none_matches_regexp'];

function rrValidator(s: Section | undefined): RRValidator {
  s?.only(RR_VALIDATOR_KEYS);
  const strings = (key: string) =>
    (s?.list(key) ?? []).map((n) => {
      if (!isScalar(n) || n.value === null || typeof n.value === 'object') throw s!.error(n, `${key} in ${s!.where} must be a list of regexps`);
      return String(n.value);
    });
  return {
    failIfMatchesRegexp: strings('fail_if_matches_regexp'),
    failIfAllMatchRegexp: strings('fail_if_all_match_regexp'),
    failIfNotMatchesRegexp: strings('fail_if_not_matches_regexp'),
    failIfNoneMatchesRegexp: strings('fail_if_none_matches_regexp'),
  };
}

function icmpModule(s: Section | undefined): IcmpModule {
  s?.only(['preferred_ip_protocol', 'ip_protocol_fallback', 'source_ip_address', 'payload_size', 'dont_fragment', 'ttl']);
  return {
    preferredIpProtocol: s?.ipProtocol() ?? 'ip6',
    ipProtocolFallback: s?.bool('ip_protocol_fallback', true) ?? true,
    sourceIpAddress: s?.string('source_ip_address') || undefined,
    payloadSize: s?.int('payload_size', 0, 0, 65507) ?? 0,
    dontFragment: s?.bool('dont_fragment', false) ?? false,
    // blackbox_exporter: 0 leaves the socket's default
    ttl: s?.int('ttl', 64, 0, 255) ?? 64,
  };
}

function tcpModule(s: Section | undefined): TcpModule {
  s?.only(['preferred_ip_protocol', 'ip_protocol_fallback', 'source_ip_address', 'query_response', 'tls', 'tls_config']);
  const tls = s?.bool('tls', false) ?? false;
  const queryResponse = queryResponses(s);
  if (tls || queryResponse.some((q) => q.starttls)) {
    throw s!.error(s!.node('tls') ?? s!.node('query_response'), 'tls and starttls are not supported by sockit exporter (TCP probes are plain)');
  }
  return {
    preferredIpProtocol: s?.ipProtocol() ?? 'ip6',
    ipProtocolFallback: s?.bool('ip_protocol_fallback', true) ?? true,
    sourceIpAddress: s?.string('source_ip_address') || undefined,
    queryResponse,
    tls,
  };
}

function udpModule(s: Section | undefined): UdpModule {
  s?.only(['preferred_ip_protocol', 'ip_protocol_fallback', 'source_ip_address', 'query_response']);
  const queryResponse = queryResponses(s);
  if (queryResponse.some((q) => q.starttls)) throw s!.error(s!.node('query_response'), 'starttls has no meaning for udp');
  return {
    preferredIpProtocol: s?.ipProtocol() ?? 'ip6',
    ipProtocolFallback: s?.bool('ip_protocol_fallback', true) ?? true,
    sourceIpAddress: s?.string('source_ip_address') || undefined,
    queryResponse,
  };
}

function dnsModule(s: Section | undefined, needed: boolean): DnsModule {
  s?.only([
    'preferred_ip_protocol',
    'ip_protocol_fallback',
    'source_ip_address',
    'transport_protocol',
    'query_name',
    'query_type',
    'query_class',
    'recursion_desired',
    'valid_rcodes',
    'validate_answer_rrs',
    'validate_authority_rrs',
    'validate_additional_rrs',
    'dns_over_tls',
    'tls_config',
  ]);
  if (s?.bool('dns_over_tls', false))
    throw s.error(s.node('dns_over_tls'), 'dns_over_tls is not supported by sockit exporter (DNS probes are plain, over udp or tcp)');
  const queryName = s?.string('query_name') ?? '';
  if (needed && queryName === '') throw new ConfigError('query name must be set for DNS module');
  const queryType = s?.string('query_type') ?? 'ANY';
  if (!DNS_TYPES.includes(queryType)) throw s!.error(s!.node('query_type'), `query type '${queryType}' is not valid`);
  const queryClass = s?.string('query_class') ?? 'IN';
  if (!DNS_CLASSES.includes(queryClass)) throw s!.error(s!.node('query_class'), `query class '${queryClass}' is not valid`);
  const validRcodes = (s?.list('valid_rcodes') ?? []).map((n) => (isScalar(n) ? String(n.value) : ''));
  for (const r of validRcodes) if (!DNS_RCODES.includes(r)) throw s!.error(s!.node('valid_rcodes'), `invalid rcode '${r}'`);
  return {
    preferredIpProtocol: s?.ipProtocol() ?? 'ip6',
    ipProtocolFallback: s?.bool('ip_protocol_fallback', true) ?? true,
    sourceIpAddress: s?.string('source_ip_address') || undefined,
    transportProtocol: s?.oneOf('transport_protocol', ['udp', 'tcp'], 'udp') ?? 'udp',
    queryName,
    queryType,
    queryClass,
    recursionDesired: s?.bool('recursion_desired', true) ?? true,
    validRcodes: validRcodes.length ? validRcodes : ['NOERROR'],
    validateAnswer: rrValidator(s?.section('validate_answer_rrs')),
    validateAuthority: rrValidator(s?.section('validate_authority_rrs')),
    validateAdditional: rrValidator(s?.section('validate_additional_rrs')),
  };
}

function moduleOf(s: Section): Module {
  s.only(['prober', 'timeout', 'icmp', 'tcp', 'udp', 'dns', ...FOREIGN_PROBERS]);
  const prober = s.string('prober') ?? '';
  return {
    prober,
    timeoutS: s.duration('timeout') ?? 0,
    icmp: icmpModule(s.section('icmp')),
    tcp: tcpModule(s.section('tcp')),
    udp: udpModule(s.section('udp')),
    dns: dnsModule(s.section('dns'), prober === 'dns'),
    source: s.map.toJSON(),
  };
}

function targetGroup(s: Section): TargetGroup {
  s.only(['hosts', 'interval', 'network', 'protocol', 'size', 'source']);
  const hosts = s.list('hosts').map((n) => {
    if (!isScalar(n) || n.value === null || typeof n.value === 'object') throw s.error(n, 'hosts must be a list of names or addresses');
    return String(n.value);
  });
  if (hosts.length === 0) throw s.error(s.node('hosts'), 'a target group needs hosts');
  s.oneOf('protocol', ['icmp'], 'icmp');
  const interval = s.duration('interval') ?? 1;
  if (interval <= 0) throw s.error(s.node('interval'), 'interval must be positive');
  return {
    hosts,
    intervalMs: interval * 1000,
    network: s.oneOf('network', ['ip', 'ip4', 'ip6'], 'ip'),
    size: s.int('size', 56, 0, 65507),
    source: s.string('source') || undefined,
  };
}

/** Parse a blackbox.yml text; throws ConfigError naming the line and key of the first problem. */
export function parseConfig(text: string): ProberConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  if (doc.errors.length) throw new ConfigError(doc.errors[0]!.message.split('\n')[0]!);
  const modules = new Map<string, Module>();
  const targets: TargetGroup[] = [];
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { modules, targets };
  if (!isMap(root)) throw new ConfigError('the configuration must be a mapping (modules:, targets:)');
  const top = new Section(root, 'the configuration', lines);
  top.only(['modules', 'targets']);
  const mods = top.section('modules');
  if (mods) {
    for (const pair of mods.map.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const value = pair.value as Node | null;
      const s = value && isMap(value) ? new Section(value, `module "${name}"`, lines) : top.sectionOf(value ?? (pair.key as Node), `module "${name}"`);
      modules.set(name, moduleOf(s));
    }
  }
  top.list('targets').forEach((n, i) => targets.push(targetGroup(top.sectionOf(n, `targets[${i}]`))));
  return { modules, targets };
}
