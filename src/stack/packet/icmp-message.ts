// The message shape ICMPv4 and ICMPv6 share (x/net/icmp's Message): plain
// data { type, code, checksum, body }. icmp4.ts and icmp6.ts encode and
// decode it, each with its own wire details.
import type * as quote from './quote.js';

export const HEADER = 8;

export interface Echo {
  kind: 'echo';
  id: number;
  seq: number;
  data: Buffer;
}

/** Destination unreachable, time exceeded, packet too big, parameter problem, redirect, source quench. */
export interface ErrorBody {
  kind: 'error';
  /** the quoted original datagram, extensions excluded */
  original: Buffer;
  quote?: quote.Quote;
  quoteError?: string;
  /** next-hop MTU of a frag needed (RFC 1191) or packet too big (RFC 4443), else 0 */
  mtu: number;
  /** pointer of a parameter problem */
  pointer?: number;
  /** gateway of an ICMPv4 redirect */
  gateway?: string;
  /** RFC 4884 extension structure, when the length field announces one */
  extensions?: Buffer;
}

export interface Raw {
  kind: 'raw';
  /** bytes after the 4-byte type/code/checksum */
  data: Buffer;
}

export type Body = Echo | ErrorBody | Raw;

export interface Message {
  type: number;
  code: number;
  checksum?: number;
  /** set by decode: the checksum verified (ICMPv6: only when given a pseudo-header) */
  checksumOk?: boolean;
  body: Body;
}

export function encodingLength(m: Message): number {
  switch (m.body.kind) {
    case 'echo': return HEADER + m.body.data.length;
    case 'error': return HEADER + m.body.original.length + (m.body.extensions?.length ?? 0);
    case 'raw': return 4 + m.body.data.length;
  }
}

/** An echo request or reply: the common case made short. */
export function echo(type: number, id: number, seq: number, data: Buffer): Message {
  return { type, code: 0, body: { kind: 'echo', id, seq, data } };
}
