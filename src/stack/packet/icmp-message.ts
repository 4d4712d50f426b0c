// The message shape ICMPv4 and ICMPv6 share (x/net/icmp's Message): plain
// data { type, code, checksum, body }. icmp4.ts and icmp6.ts encode and
// decode it, each with its own wire details.
import type * as quote from './quote.js';
import type { DecodeResult } from './result.js';

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
    case 'echo':
      return HEADER + m.body.data.length;
    case 'error':
      return HEADER + m.body.original.length + (m.body.extensions?.length ?? 0);
    case 'raw':
      return 4 + m.body.data.length;
  }
}

/** An echo request or reply: the common case made short. */
export function echo(type: number, id: number, seq: number, data: Buffer): Message {
  return { type, code: 0, body: { kind: 'echo', id, seq, data } };
}

/**
 * The part of an error message both families decode alike: the quoted
 * datagram, split from RFC 4884 extensions when `words` (the length field,
 * in units of `unit` bytes) announces them, and decoded with `decodeQuote`.
 */
export function errorBody(
  buf: Buffer,
  offset: number,
  end: number,
  words: number,
  unit: 4 | 8,
  decodeQuote: (b: Buffer) => DecodeResult<quote.Quote>,
): ErrorBody {
  let originalEnd = end;
  let extensions: Buffer | undefined;
  if (words > 0 && offset + HEADER + words * unit < end) {
    originalEnd = offset + HEADER + words * unit;
    extensions = Buffer.from(buf.subarray(originalEnd, end));
  }
  const original = buf.subarray(offset + HEADER, originalEnd);
  const body: ErrorBody = { kind: 'error', original, mtu: 0 };
  if (extensions) body.extensions = extensions;
  const q = decodeQuote(original);
  if (q.ok) body.quote = q.value;
  else body.quoteError = `${q.codec}: ${q.error}`;
  return body;
}
