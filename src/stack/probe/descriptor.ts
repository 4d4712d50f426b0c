// What a probe method declares about itself (traceroute 2.x's struct
// tr_module): its name and options, and its packets' layout, the bytes of
// IP and transport header a probe carries and how a packet length maps to
// the data it sends (packetlen counts the IP header; DEF_DATA_LEN is 40).
import { UsageError } from '../errors.js';
import type { Family, ProbeMethod } from './index.js';
import type { IcmpProbeOptions } from './icmp.js';
import type { TuneOptions } from './tune.js';

/** bytes after the IP header when no packet length is given (traceroute's DEF_DATA_LEN) */
export const DEF_DATA_LEN = 40;

/** The IP header without options: 20 bytes (RFC 791), 40 (RFC 8200). */
export function ipHeaderLen(family: Family): number {
  return family === 4 ? 20 : 40;
}

/** How a method's probes are laid out, as traceroute counts "NN byte packets". */
export interface PacketLayout {
  /** bytes before the probe's data: the IP header, and a transport header the kernel writes (UDP's 8) */
  headerLen: number;
  /** bytes of data after them: the packet is headerLen + dataLen */
  dataLen: number;
  /** bytes at the start of the data the method writes itself (the ICMP header; TCP's whole SYN) */
  methodBytes: number;
  /** whether a packet length (-s for ping, traceroute's packetlen) changes dataLen */
  sized: boolean;
}

/** traceroute's layout for a method whose data length follows packetlen: DEF_DATA_LEN (40) after the IP header by default. */
export function sizedLayout(family: Family, transportHeader: number, methodBytes: number, packetLen: number): PacketLayout {
  const headerLen = ipHeaderLen(family) + transportHeader;
  let dataLen = packetLen < 0 ? DEF_DATA_LEN - transportHeader : Math.max(0, packetLen - headerLen);
  if (dataLen < methodBytes) dataLen = methodBytes;
  return { headerLen, dataLen, methodBytes, sized: true };
}

/** What opening a method takes: where to, from where, and the method's own settings. */
export interface MethodOpenOptions extends TuneOptions {
  target: string;
  family: Family;
  /** -p: its meaning is the method's (MethodDescriptor.port) */
  port?: number;
  /** the whole packet length asked for (traceroute's packetlen); -1 for the method's default */
  packetLen: number;
  /** -O words for the method (traceroute 2.x's module options), already split at commas */
  methodOptions?: readonly string[];
  /** what only the icmp method reads: ping's socket settings (mode, identifier, IP options ...) */
  icmp?: Omit<IcmpProbeOptions, 'target' | 'family' | keyof TuneOptions>;
}

/** An opened method: the probe method, its packets' layout, and the sequence of its first probe. */
export interface OpenedMethod {
  method: ProbeMethod;
  layout: PacketLayout;
  firstSeq: number;
  /** print the TCP flags of final replies (tcp -O info) */
  showFlags?: boolean;
}

/** One -O option of a method, as traceroute --help lists a module's options. */
export interface MethodOption {
  /** the word, with =NUM when it takes a value */
  name: string;
  description: string;
}

export interface MethodDescriptor {
  /** -M NAME */
  readonly name: string;
  /** the option letter that picks it in traceroute 2.x (-I, -T, -U), if any */
  readonly flag?: string;
  readonly description: string;
  /** what -p sets for this method, and its default */
  readonly port: { meaning: string; default: number | null };
  /** -O options (traceroute 2.x's per-module options) */
  readonly options: readonly MethodOption[];
  /** whether it can run with no privilege at all */
  readonly unprivileged: 'yes' | 'ping_group_range' | 'no';
  /** Open the method's sockets; throws the system error, a PermissionError, or a UsageError for a bad -O word. */
  open(o: MethodOpenOptions): OpenedMethod;
}

/** A method with no -O options of its own: any word given is bad input. */
export function noOptions(method: string, words: readonly string[] | undefined): void {
  if (words?.length) throw new UsageError(`the ${method} method has no option \`${words[0]}'`);
}
