// A network-namespace test lab: real chains of Linux network namespaces
// joined by veth pairs, for end-to-end tests of ping, traceroute, connect…
//
//   const lab = await Lab.chain({ routers: 3, ipv6: true });
//   await lab.exec(lab.src, ['ping', '-c1', lab.dst.v4]);
//   await lab.close();
//
// Addressing (see plan.ts): link k = 192.0.2.16k/28 and 2001:db8:0:k::/64;
// the end toward the destination is .16k+1 / ::1, the end toward the source
// .16k+2 / ::2. Only documentation prefixes are used, and every packet stays
// inside namespaces this module created.
//
// Needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN); tests gate on `isRoot`.
import { tmpdir } from 'node:os';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { checkout } from '../helpers/readable.js';
import { planChain, nextHop, type Family, type Plan, type PlannedEnd, type PlannedLink, type PlannedNode, type Role } from './plan.js';
import {
  ETC_NETNS_DIR,
  check,
  deleteNetns,
  deleteNetnsSync,
  killGroup,
  listNetns,
  pidAlive,
  run,
  spawnTracked,
  withinNetns,
  writeSysctls,
  type ExecResult,
  type Sysctl,
} from './proc.js';

export { planChain, v4Address, v6Address, MAX_ROUTERS, type Family, type Role, type Plan } from './plan.js';
export { withinNetns, type ExecResult } from './proc.js';

/**
 * Whether the lab (and what gates on this) runs: as root, unless
 * SOCKIT_TEST_LAB=0 (CI's runs on the other Node versions: unit and
 * loopback tests only).
 */
export const isRoot: boolean = process.getuid?.() === 0 && process.env.SOCKIT_TEST_LAB !== '0';
export const needsRootReason =
  process.env.SOCKIT_TEST_LAB === '0' ? 'SOCKIT_TEST_LAB=0: no lab on this run' : 'needs root to build network namespaces (run as root, as CI does)';

export type User = 'root' | 'nobody';

export interface ExecOptions {
  user?: User;
  input?: string | Buffer;
  /** default 30 s; the process group is SIGKILLed when it passes */
  timeoutMs?: number;
  /** added to process.env */
  env?: Record<string, string>;
  cwd?: string;
}

export interface SpawnOptions {
  user?: User;
  env?: Record<string, string>;
  cwd?: string;
  /** default ['ignore', 'pipe', 'pipe'] */
  stdio?: StdioOptions;
}

export interface ChainOptions {
  routers: number;
  ipv6?: boolean;
  /** a short label put into the namespace names (only [a-z0-9], 8 chars kept) */
  name?: string;
}

export type LossHook = 'forward' | 'input' | 'output';

export interface LossOptions {
  /** an nft expression selecting the packets subject to loss, e.g. 'icmp type echo-reply' */
  match?: string;
  /** default 'forward' */
  hook?: LossHook;
}

/** Names of the two counters of a loss rule (keys of lab.counters(node)). */
export interface LossCounters {
  dropped: string;
  passed: string;
}

export interface Counter {
  packets: number;
  bytes: number;
}

export type SilentWhat = 'icmp-errors' | 'all' | 'none';
export type UnreachableKind = 'host' | 'net' | 'prohibit' | 'blackhole';

const NOBODY = 65534;

/** nobody starts in the temp dir unless told: the checkout may be root's only (0700). */
function cwdFor(opts: { user?: User; cwd?: string }): string | undefined {
  return opts.cwd ?? (opts.user === 'nobody' ? tmpdir() : undefined);
}

// Dropping to nobody: setpriv changes the real/effective/saved ids (the
// kernel then clears permitted and effective caps), and we also empty the
// inheritable, ambient and bounding sets and set no_new_privs, so neither
// the process nor anything it execs can hold a capability. Consequence: a
// binary with "effective" file caps (iputils ping is cap_net_raw=ep) fails
// to exec with EPERM, as the kernel refuses file caps it cannot grant in
// full; run a copy without the xattr (cp drops it) to get an unprivileged
// iputils ping.
const AS_NOBODY = [
  'setpriv',
  `--reuid=${NOBODY}`,
  `--regid=${NOBODY}`,
  '--clear-groups',
  '--inh-caps=-all',
  '--ambient-caps=-all',
  '--bounding-set=-all',
  '--no-new-privs',
  '--',
];

// Kernel defaults, for icmpRateLimit() (Documentation/networking/ip-sysctl.rst).
const V4_DEFAULT_RATEMASK = '6168'; // dest-unreachable, source-quench, time-exceeded, parameter-problem
const V6_DEFAULT_RATEMASK = '0-1,3-127'; // all errors but packet-too-big, and informational <128

// Every lab namespace gets deterministic ICMP: the kernel normally limits
// ICMP errors per destination (icmp_ratelimit, 1 s token bucket, burst 6)
// and globally (icmp_msgs_per_sec/burst, with random credit since
// CVE-2020-25705). A type whose bit is clear in the ratemask bypasses both
// limiters, so clearing the masks makes every traceroute/unreachable reply
// appear. IPv6 has no global limiter of its own: it shares the v4 one.
const DETERMINISTIC_ICMP: Sysctl[] = [
  { key: 'net.ipv4.icmp_ratelimit', value: '0' },
  { key: 'net.ipv4.icmp_ratemask', value: '0' },
  { key: 'net.ipv4.icmp_msgs_per_sec', value: '1000000' },
  { key: 'net.ipv4.icmp_msgs_burst', value: '1000000' },
  { key: 'net.ipv6.icmp.ratelimit', value: '0' },
  // a bitmap list: an empty list (a lone newline; zero bytes would be a no-op write) clears every type
  { key: 'net.ipv6.icmp.ratemask', value: '\n', optional: true },
];

// All lab firewall rules live in one table with three base chains; knobs
// add regular chains and jump to them, so each knob can be rewritten alone.
const TABLE = 'inet lab';
const BASE = [
  `add table ${TABLE}`,
  `add chain ${TABLE} input { type filter hook input priority 0; policy accept; }`,
  `add chain ${TABLE} forward { type filter hook forward priority 0; policy accept; }`,
  `add chain ${TABLE} output { type filter hook output priority 0; policy accept; }`,
].join('\n');

const ICMP4_ERRORS = '{ destination-unreachable, source-quench, time-exceeded, parameter-problem }';
const ICMP6_ERRORS = '{ destination-unreachable, packet-too-big, time-exceeded, parameter-problem }';

export class LinkEnd {
  constructor(
    private readonly lab: Lab,
    private readonly planned: PlannedEnd,
  ) {}
  get node(): LabNode {
    return this.lab.nodes[this.planned.node]!;
  }
  get ifname(): 'eth0' | 'eth1' {
    return this.planned.ifname;
  }
  get v4(): string {
    return this.planned.v4;
  }
  get v6(): string {
    this.lab.requireV6();
    return this.planned.v6;
  }
}

export class LabLink {
  readonly index: number;
  readonly left: LinkEnd;
  readonly right: LinkEnd;
  readonly prefix: { readonly v4: string; readonly v6: string };
  constructor(lab: Lab, planned: PlannedLink) {
    this.index = planned.index;
    this.left = new LinkEnd(lab, planned.left);
    this.right = new LinkEnd(lab, planned.right);
    this.prefix = {
      v4: planned.prefix4,
      get v6(): string {
        lab.requireV6();
        return planned.prefix6;
      },
    };
  }
}

export class LabNode {
  /** the netns name (`ip netns exec <name> …`) */
  readonly name: string;
  readonly role: Role;
  readonly index: number;
  constructor(
    private readonly lab: Lab,
    planned: PlannedNode,
    name: string,
  ) {
    this.name = name;
    this.role = planned.role;
    this.index = planned.index;
  }

  /** The link through which this node's primary address is configured. */
  private get primaryLink(): number {
    // src: link 0; a router: its source-facing link; dst: the last link
    return this.role === 'src' ? 0 : this.index - 1;
  }

  get v4(): string {
    return this.addr(this.primaryLink, 4);
  }
  get v6(): string {
    return this.addr(this.primaryLink, 6);
  }

  /** This node's address on link `linkIndex`. */
  addr(linkIndex: number, family: Family = 4): string {
    const end = this.end(linkIndex);
    return family === 4 ? end.v4 : end.v6;
  }

  /** This node's interface on link `linkIndex`. */
  ifname(linkIndex: number): 'eth0' | 'eth1' {
    return this.end(linkIndex).ifname;
  }

  private end(linkIndex: number): LinkEnd {
    const link = this.lab.links[linkIndex];
    if (link?.left.node === this) return link.left;
    if (link?.right.node === this) return link.right;
    throw new RangeError(`${this.name} is not on link ${linkIndex}`);
  }

  toString(): string {
    return this.name;
  }
}

interface NodeState {
  queue: Promise<unknown>; // serialises nft transactions on the node
  jumps: Set<string>; // "hook chain" jumps already installed
  loss: Map<string, number>; // hook+match → loss rule id
  lossSeq: number;
  syn: 'all' | Set<number> | undefined; // dropTcpSyn configuration
}

let labSeq = 0;
const openLabs = new Set<Lab>();

export class Lab {
  readonly nodes: LabNode[];
  readonly links: LabLink[];
  readonly ipv6: boolean;
  private readonly plan: Plan;
  private readonly children = new Set<ChildProcess>();
  private readonly state = new Map<LabNode, NodeState>();
  private closing: Promise<void> | undefined;

  private constructor(plan: Plan, ipv6: boolean, label: string) {
    this.plan = plan;
    this.ipv6 = ipv6;
    const seq = ++labSeq;
    // sk<pid>x<seq>-[label-]<s|r|d><index>: unique per process and lab, and
    // the owner pid lets sweepStaleLabs() find leftovers of dead processes
    const prefix = `sk${process.pid}x${seq}-${label ? label + '-' : ''}`;
    const letter = { src: 's', router: 'r', dst: 'd' } as const;
    this.nodes = plan.nodes.map((n) => new LabNode(this, n, `${prefix}${letter[n.role]}${n.index}`));
    this.links = plan.links.map((l) => new LabLink(this, l));
  }

  get src(): LabNode {
    return this.nodes[0]!;
  }
  get dst(): LabNode {
    return this.nodes[this.nodes.length - 1]!;
  }
  get routers(): LabNode[] {
    return this.nodes.slice(1, -1);
  }
  /** every namespace name of this lab */
  get names(): string[] {
    return this.nodes.map((n) => n.name);
  }
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** @internal */
  requireV6(): void {
    if (!this.ipv6) throw new Error('this lab was built without IPv6: use Lab.chain({ ..., ipv6: true })');
  }

  /** Build src — r1 — … — rN — dst. */
  static async chain(opts: ChainOptions): Promise<Lab> {
    if (!isRoot) throw new Error(`Lab.chain ${needsRootReason}`);
    const label = (opts.name ?? '')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 8);
    const lab = new Lab(planChain(opts.routers), opts.ipv6 === true, label);
    openLabs.add(lab);
    try {
      await lab.build();
    } catch (e) {
      await lab.close();
      throw e;
    }
    return lab;
  }

  private async build(): Promise<void> {
    const { plan, nodes } = this;
    // 1. all namespaces and veth pairs in one `ip -batch` from the root
    //    namespace. Each end is created directly inside its namespace
    //    (IFLA_NET_NS_FD), so eth0/eth1 never collide with another lab's.
    const batch = [
      ...nodes.map((n) => `netns add ${n.name}`),
      ...plan.links.map(
        (l) => `link add name ${l.left.ifname} netns ${nodes[l.left.node]!.name} type veth peer name ${l.right.ifname} netns ${nodes[l.right.node]!.name}`,
      ),
    ];
    await check(['ip', '-batch', '-'], { input: batch.join('\n') + '\n' });

    // 2. sysctls, written from this process via setns (no fork per write);
    //    before any interface is up, so DAD never starts.
    for (const n of plan.nodes) writeSysctls(nodes[n.index]!.name, this.sysctlsFor(n));

    // 3. per namespace: links up, addresses, routes; one `ip -batch` each, in parallel
    await Promise.all(plan.nodes.map((n) => check(['ip', '-n', nodes[n.index]!.name, '-batch', '-'], { input: this.scriptFor(n) })));

    // 4. wait for every veth to be operationally up. The carrier comes on
    //    when both ends are up, but the kernel attaches the real qdisc (and
    //    sets operstate UP) from its linkwatch work queue a moment later;
    //    until then the device drops what is sent (the first ARP/ND or ping).
    await Promise.all(plan.nodes.map((n) => this.waitUp(nodes[n.index]!.name, n.ifaces)));
  }

  private async waitUp(ns: string, ifaces: readonly string[], deadlineMs = 5000): Promise<void> {
    const start = performance.now();
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      const out = await check(['ip', '-n', ns, '-o', 'link', 'show']);
      const down = ifaces.filter((dev) => !new RegExp(`^\\d+: ${dev}[@:].* state UP `, 'm').test(out));
      if (down.length === 0) return;
      if (performance.now() - start > deadlineMs) throw new Error(`${ns}: ${down.join(', ')} not up after ${deadlineMs} ms:\n${out}`);
      await new Promise((res) => setTimeout(res, delay));
    }
  }

  private sysctlsFor(n: PlannedNode): Sysctl[] {
    const s: Sysctl[] = [...DETERMINISTIC_ICMP];
    if (n.role === 'router') s.push({ key: 'net.ipv4.ip_forward', value: '1' });
    if (this.ipv6) {
      // no duplicate address detection: addresses are usable at once, never "tentative"
      for (const dev of ['all', 'default', ...n.ifaces]) s.push({ key: `net.ipv6.conf.${dev}.accept_dad`, value: '0' });
      // no router solicitations: keeps the links quiet for packet counters
      for (const dev of n.ifaces) s.push({ key: `net.ipv6.conf.${dev}.router_solicitations`, value: '0' });
      if (n.role === 'router') s.push({ key: 'net.ipv6.conf.all.forwarding', value: '1' });
    } else {
      // an IPv4-only lab carries no IPv6 at all (no MLD/RS chatter); lo keeps ::1
      for (const dev of n.ifaces) s.push({ key: `net.ipv6.conf.${dev}.disable_ipv6`, value: '1' });
    }
    return s;
  }

  private scriptFor(n: PlannedNode): string {
    const lines = ['link set lo up'];
    for (const dev of n.ifaces) lines.push(`link set ${dev} up`);
    for (const l of this.plan.links) {
      for (const end of [l.left, l.right]) {
        if (end.node !== n.index) continue;
        lines.push(`addr add ${end.v4}/28 dev ${end.ifname}`);
        if (this.ipv6) lines.push(`addr add ${end.v6}/64 dev ${end.ifname} nodad`);
      }
    }
    for (const r of n.routes4) lines.push(`route add ${r.prefix} via ${r.via}`);
    if (this.ipv6) for (const r of n.routes6) lines.push(`route add ${r.prefix === 'default' ? '::/0' : r.prefix} via ${r.via}`);
    return lines.join('\n') + '\n';
  }

  private ns(node: LabNode): string {
    if (this.nodes[node.index] !== node) throw new Error(`${String(node)} is not a node of this lab`);
    if (this.closed) throw new Error('the lab is closed');
    return node.name;
  }

  private argvFor(node: LabNode, argv: readonly string[], user: User | undefined): string[] {
    if (argv.length === 0) throw new Error('empty argv');
    // the checkout may be root's only (0700): what nobody runs or reads comes from runnable()'s copy
    const inCheckout = user === 'nobody' ? argv.find((a) => a.startsWith(checkout)) : undefined;
    if (inCheckout) throw new Error(`lab: nobody is given ${inCheckout}, in the checkout, which may be root's only: use runnable() (test/helpers/readable.ts)`);
    return ['ip', 'netns', 'exec', this.ns(node), ...(user === 'nobody' ? AS_NOBODY : []), ...argv];
  }

  private track(child: ChildProcess): void {
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
  }

  /** Run a command in the node's namespace to completion. Never throws for a non-zero exit. */
  async exec(node: LabNode, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return run(this.argvFor(node, argv, opts.user), { ...opts, cwd: cwdFor(opts) }, (c) => this.track(c));
  }

  /** Start a long-running command (a server) in the node's namespace; killed by close(). */
  spawn(node: LabNode, argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawnTracked(this.argvFor(node, argv, opts.user), { ...opts, cwd: cwdFor(opts) });
    this.track(child);
    return child;
  }

  /**
   * spawn() a program that prints a line on stdout once it is ready (a helper
   * holding sockets open), and resolve when it has; reject if it exits first.
   */
  async spawnReady(node: LabNode, argv: readonly string[], opts: SpawnOptions = {}): Promise<ChildProcess> {
    const child = this.spawn(node, argv, { stdio: ['pipe', 'pipe', 'inherit'], ...opts });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`${argv[0]} exited ${code} before it was ready`)));
    });
    return child;
  }

  /** Run a synchronous fn with this thread in the node's namespace (e.g. to create sockets there). */
  within<T>(node: LabNode, fn: () => T): T {
    return withinNetns(this.ns(node), fn);
  }

  // ---------- nftables ----------

  private nodeState(node: LabNode): NodeState {
    let s = this.state.get(node);
    if (!s) this.state.set(node, (s = { queue: Promise.resolve(), jumps: new Set(), loss: new Map(), lossSeq: 0, syn: undefined }));
    return s;
  }

  /** Serialise work on the node (nft transactions and their JS bookkeeping). */
  private serial<T>(node: LabNode, fn: (s: NodeState) => Promise<T>): Promise<T> {
    const s = this.nodeState(node);
    const next = s.queue.then(() => fn(s));
    s.queue = next.catch(() => undefined);
    return next;
  }

  private async applyNft(node: LabNode, script: string): Promise<void> {
    await check(['ip', 'netns', 'exec', this.ns(node), 'nft', '-f', '-'], { input: `${BASE}\n${script}\n` });
  }

  /** Script lines creating a regular chain and jumping to it from base chains, once. */
  private chainOnce(s: NodeState, chain: string, hooks: readonly LossHook[]): string[] {
    const lines = [`add chain ${TABLE} ${chain}`];
    for (const hook of hooks) {
      const key = `${hook} ${chain}`;
      if (s.jumps.has(key)) continue;
      lines.push(`add rule ${TABLE} ${hook} jump ${chain}`);
    }
    return lines;
  }

  private commitJumps(s: NodeState, chain: string, hooks: readonly LossHook[]): void {
    for (const hook of hooks) s.jumps.add(`${hook} ${chain}`);
  }

  /** Apply a raw nft script in the node's namespace (table `inet lab` with input/forward/output exists). */
  nft(node: LabNode, script: string): Promise<void> {
    return this.serial(node, () => this.applyNft(node, script));
  }

  /**
   * Random loss: `numgen random mod 10000 < percent*100` drops the packet.
   * Calling again with the same hook and match replaces the percentage and
   * resets the counters. Returns the counter names: `dropped` counts the
   * packets the rule dropped, `passed` those it let through.
   * The hook decides what a drop looks like: 'forward' (a router) and
   * 'input' lose packets on the wire; 'output' drops the node's own
   * packets before they leave (a local sender may then see EPERM from
   * sendmsg(), depending on the socket type).
   */
  loss(node: LabNode, percent: number, opts: LossOptions = {}): Promise<LossCounters> {
    if (!(percent >= 0 && percent <= 100)) throw new RangeError(`loss percent must be 0…100, got ${percent}`);
    const hook = opts.hook ?? 'forward';
    const match = opts.match?.trim() ?? '';
    return this.serial(node, async (s) => {
      const key = `${hook}\0${match}`;
      const known = s.loss.get(key);
      const id = known ?? ++s.lossSeq;
      const chain = `loss${id}`;
      const names = { dropped: `${chain}_dropped`, passed: `${chain}_passed` };
      const lines =
        known === undefined
          ? [...this.chainOnce(s, chain, [hook]), `add counter ${TABLE} ${names.dropped}`, `add counter ${TABLE} ${names.passed}`]
          : [`flush chain ${TABLE} ${chain}`, `reset counter ${TABLE} ${names.dropped}`, `reset counter ${TABLE} ${names.passed}`];
      const sel = match ? `${match} ` : '';
      // in hundredths of a percent; nft refuses a constant ≥ the modulus, and
      // 0 % / 100 % need no random number at all
      const threshold = Math.round(percent * 100);
      const dice = threshold >= 10000 ? '' : `numgen random mod 10000 < ${threshold} `;
      if (threshold > 0) lines.push(`add rule ${TABLE} ${chain} ${sel}${dice}counter name "${names.dropped}" drop`);
      lines.push(`add rule ${TABLE} ${chain} ${sel}counter name "${names.passed}"`);
      await this.applyNft(node, lines.join('\n'));
      s.loss.set(key, id);
      this.commitJumps(s, chain, [hook]);
      return names;
    });
  }

  /** All named nft counters in the node's namespace (any table). */
  async counters(node: LabNode): Promise<Record<string, Counter>> {
    const out = await check(['ip', 'netns', 'exec', this.ns(node), 'nft', '-j', 'list', 'counters']);
    const doc = JSON.parse(out) as { nftables: { counter?: { family: string; table: string; name: string; packets: number; bytes: number } }[] };
    const result: Record<string, Counter> = {};
    for (const item of doc.nftables) {
      const c = item.counter;
      if (!c) continue;
      // the lab's own table keeps bare names; same-named counters elsewhere get qualified
      const key = result[c.name] === undefined ? c.name : `${c.family} ${c.table} ${c.name}`;
      result[key] = { packets: c.packets, bytes: c.bytes };
    }
    return result;
  }

  /**
   * 'icmp-errors': the node never emits ICMP/ICMPv6 errors (they are
   * dropped in its output hook, counter `silent_errors`), yet it still
   * forwards and answers echo. Time exceeded for forwarded packets goes
   * through the output hook too, so traceroute shows `*` for it.
   * 'all': every packet addressed to the node is dropped in its input hook
   * (counter `silent_all`): no echo reply, RST, SYN-ACK or port unreachable,
   * but a router still forwards (and still emits time exceeded; combine
   * with 'icmp-errors' to silence that too). IPv6 neighbour discovery is
   * kept (IPv4's ARP is not IP, so it is untouched either way), else the
   * router could not forward IPv6 at all.
   * 'none': undo both.
   */
  silent(node: LabNode, what: SilentWhat = 'icmp-errors'): Promise<void> {
    return this.serial(node, async (s) => {
      const lines = [
        ...this.chainOnce(s, 'silent_errors', ['output']),
        ...this.chainOnce(s, 'silent_all', ['input']),
        `add counter ${TABLE} silent_errors`,
        `add counter ${TABLE} silent_all`,
      ];
      if (what === 'icmp-errors') {
        lines.push(
          `flush chain ${TABLE} silent_errors`,
          `add rule ${TABLE} silent_errors icmp type ${ICMP4_ERRORS} counter name "silent_errors" drop`,
          `add rule ${TABLE} silent_errors icmpv6 type ${ICMP6_ERRORS} counter name "silent_errors" drop`,
        );
      } else if (what === 'all') {
        lines.push(
          `flush chain ${TABLE} silent_all`,
          `add rule ${TABLE} silent_all iif lo accept`,
          `add rule ${TABLE} silent_all icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept`,
          `add rule ${TABLE} silent_all counter name "silent_all" drop`,
        );
      } else {
        lines.push(`flush chain ${TABLE} silent_errors`, `flush chain ${TABLE} silent_all`);
      }
      await this.applyNft(node, lines.join('\n'));
      this.commitJumps(s, 'silent_errors', ['output']);
      this.commitJumps(s, 'silent_all', ['input']);
    });
  }

  /**
   * Drop incoming TCP SYNs (no ACK: connection attempts only), to `port` or
   * to every port, in the input hook and, so it works on routers too, in
   * the forward hook. Calls accumulate ports. Counter `syn_dropped`.
   */
  dropTcpSyn(node: LabNode, port?: number): Promise<void> {
    if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) throw new RangeError(`bad port ${port}`);
    return this.serial(node, async (s) => {
      const syn: 'all' | Set<number> = port === undefined || s.syn === 'all' ? 'all' : new Set([...(s.syn ?? []), port]);
      const dport = syn === 'all' ? '' : `tcp dport { ${[...syn].join(', ')} } `;
      const lines = [
        ...this.chainOnce(s, 'syn_drop', ['input', 'forward']),
        `add counter ${TABLE} syn_dropped`,
        `flush chain ${TABLE} syn_drop`,
        `add rule ${TABLE} syn_drop ${dport}tcp flags & (fin|syn|rst|ack) == syn counter name "syn_dropped" drop`,
      ];
      await this.applyNft(node, lines.join('\n'));
      s.syn = syn;
      this.commitJumps(s, 'syn_drop', ['input', 'forward']);
    });
  }

  // ---------- sysctls and routes ----------

  /**
   * Kernel-style ICMP error rate limiting again: a token bucket per
   * destination refilled every `ms` (burst 6), the kernel's default
   * ratemasks, and the global 1000/s (burst 50) limiter, for v4 and v6.
   */
  async icmpRateLimit(node: LabNode, ms: number): Promise<void> {
    if (!(Number.isInteger(ms) && ms >= 0)) throw new RangeError(`bad interval ${ms}`);
    writeSysctls(this.ns(node), [
      { key: 'net.ipv4.icmp_ratelimit', value: String(ms) },
      { key: 'net.ipv4.icmp_ratemask', value: V4_DEFAULT_RATEMASK },
      { key: 'net.ipv4.icmp_msgs_per_sec', value: '1000' },
      { key: 'net.ipv4.icmp_msgs_burst', value: '50' },
      { key: 'net.ipv6.icmp.ratelimit', value: String(ms) },
      { key: 'net.ipv6.icmp.ratemask', value: V6_DEFAULT_RATEMASK, optional: true },
    ]);
  }

  /** Open ("0 2147483647": any gid may create ICMP echo sockets) or close ("1 0", the default) net.ipv4.ping_group_range. */
  async pingGroupRange(node: LabNode, open: boolean): Promise<void> {
    writeSysctls(this.ns(node), [{ key: 'net.ipv4.ping_group_range', value: open ? '0 2147483647' : '1 0' }]);
  }

  /** Set the MTU of both ends of a link. (IPv6 needs ≥ 1280: below that the kernel removes the interface's IPv6 addresses.) */
  async mtu(linkIndex: number, mtu: number): Promise<void> {
    const link = this.links[linkIndex];
    if (!link) throw new RangeError(`no link ${linkIndex}`);
    await Promise.all([link.left, link.right].map((end) => check(['ip', '-n', this.ns(end.node), 'link', 'set', 'dev', end.ifname, 'mtu', String(mtu)])));
  }

  /**
   * Make the node's route to `prefix` fail; v4 or v6 follows the prefix.
   * Existing main-table routes with exactly this prefix are removed first.
   * Observed with iputils ping from src through a router r1 (192.0.2.1 /
   * 2001:db8::1) given the knob, and from src itself given the knob:
   *   'host'      route type unreachable.
   *               v4: ICMP type 3 code 1, "From 192.0.2.1 … Destination Host Unreachable"
   *               v6: ICMPv6 type 1 code 0 (IPv6 has no "host" code for a route),
   *                   "From 2001:db8::1 … Destination unreachable: No route"
   *               on the node itself: connect() EHOSTUNREACH, "No route to host"
   *   'net'       no route at all: the exact route and any default are deleted,
   *               and a `throw` route ends the lookup so that no broader route
   *               can still match (the kernel treats it as "no route").
   *               v4: type 3 code 0, "Destination Net Unreachable"
   *               v6: type 1 code 0, "Destination unreachable: No route"
   *               on the node itself: ENETUNREACH, "Network is unreachable"
   *   'prohibit'  route type prohibit.
   *               v4: type 3 code 13, "Packet filtered"
   *               v6: type 1 code 1, "Destination unreachable: Administratively prohibited"
   *               on the node itself: EACCES (iputils: "Do you want to ping broadcast?…"
   *               for v4, "connect: Permission denied" for v6)
   *   'blackhole' silently dropped, no ICMP ("100% packet loss", no "From" line);
   *               on the node itself: EINVAL, "connect: Invalid argument"
   * Note: IPv4 route errors (all but blackhole) are also limited per source
   * host by net.ipv4.route.error_cost/error_burst (burst 5, then 1/s), which
   * exist only in the initial namespace, so the lab cannot lift that limit:
   * expect at most 5 such errors per source in a burst.
   */
  async unreachable(node: LabNode, prefix: string, kind: UnreachableKind): Promise<void> {
    const family = prefix.includes(':') ? '-6' : '-4';
    const ns = this.ns(node);
    const lines = [`route flush exact ${prefix}`];
    if (kind === 'net') lines.push(`route flush exact ${family === '-6' ? '::/0' : '0.0.0.0/0'}`);
    // -force: "flush" of nothing is fine
    await run(['ip', '-n', ns, family, '-force', '-batch', '-'], { input: lines.join('\n') + '\n' });
    const type = { host: 'unreachable', net: 'throw', prohibit: 'prohibit', blackhole: 'blackhole' }[kind];
    await check(['ip', '-n', ns, family, 'route', 'replace', type, prefix]);
  }

  /**
   * Add an extra address to the node (default on eth0) and, unless
   * route is false, a host route to it on every other node via the
   * neighbour on the right side, so the whole chain can reach it.
   */
  async addAddress(node: LabNode, cidr: string, ifname = 'eth0', opts: { route?: boolean } = {}): Promise<void> {
    const family: Family = cidr.includes(':') ? 6 : 4;
    const address = cidr.split('/')[0]!;
    await check(['ip', '-n', this.ns(node), 'addr', 'replace', cidr, 'dev', ifname, ...(family === 6 ? ['nodad'] : [])]);
    if (opts.route === false) return;
    const host = `${address}/${family === 4 ? 32 : 128}`;
    await Promise.all(
      this.nodes
        .filter((n) => n !== node)
        .map((n) => check(['ip', '-n', n.name, 'route', 'replace', host, 'via', nextHop(this.plan, n.index, node.index, family)])),
    );
  }

  /**
   * Give the node its own /etc/hosts (lines like '192.0.2.33 dsthost'):
   * `ip netns exec` bind-mounts /etc/netns/<ns>/hosts over /etc/hosts, so
   * getaddrinfo/getnameinfo in commands run there see these names. Removed
   * with the lab.
   */
  hosts(node: LabNode, lines: string[]): void {
    const dir = `${ETC_NETNS_DIR}/${this.ns(node)}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/hosts`, ['127.0.0.1 localhost', '::1 localhost ip6-localhost', ...lines].join('\n') + '\n');
  }

  /**
   * Point the node's resolver at its own loopback, where nothing answers
   * port 53: a name not in its hosts file fails at once instead of after
   * the resolver's timeouts (`ip netns exec` bind-mounts this resolv.conf).
   */
  noDns(node: LabNode): void {
    const dir = `${ETC_NETNS_DIR}/${this.ns(node)}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/resolv.conf`, 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n');
  }

  // ---------- lifecycle ----------

  /** Kill everything spawned or living in the lab's namespaces and delete them. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const child of this.children) killGroup(child, 'SIGKILL');
      await deleteNetns(this.names);
      openLabs.delete(this);
    })();
    return this.closing;
  }

  /** @internal synchronous close for the process 'exit' handler */
  closeSync(): void {
    for (const child of this.children) killGroup(child, 'SIGKILL');
    deleteNetnsSync(this.names);
    openLabs.delete(this);
  }
}

/** Build a chain, run fn on it, and always close it (also when fn throws). */
export async function withLab<T>(opts: ChainOptions, fn: (lab: Lab) => Promise<T> | T): Promise<T> {
  const lab = await Lab.chain(opts);
  try {
    return await fn(lab);
  } finally {
    await lab.close();
  }
}

const OWNED = /^sk(\d+)x\d+-/;

/** Delete lab namespaces (and kill their processes) whose owner process is gone. Returns their names. */
export function sweepStaleLabs(): string[] {
  if (!isRoot) return [];
  const stale = listNetns().filter((name) => {
    const m = OWNED.exec(name);
    if (!m) return false;
    const pid = Number(m[1]);
    return pid !== process.pid && !pidAlive(pid);
  });
  deleteNetnsSync(stale);
  return stale;
}

// Whatever a test leaves open goes when the process exits: on 'exit'
// (handlers must be synchronous) and on the signals that would end the
// process without an 'exit' event (vitest stops its fork workers with
// SIGTERM). After cleaning up, a signal is re-raised with its default
// action unless somebody else handles it. SIGKILLed processes leave
// namespaces behind; the next load sweeps them.
function closeAllSync(): void {
  for (const lab of openLabs) lab.closeSync();
}
function onSignal(signal: NodeJS.Signals): void {
  closeAllSync();
  process.off(signal, onSignal);
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
if (isRoot) {
  process.on('exit', closeAllSync);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, onSignal);
  sweepStaleLabs();
}
