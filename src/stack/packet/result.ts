// Decoding untrusted bytes never throws past a codec: it returns a value or a
// typed failure the caller can print (dns-packet style: pure functions).

export interface Decoded<T> {
  ok: true;
  value: T;
  /** bytes consumed from the offset given to decode() */
  length: number;
}

export interface DecodeFailure {
  ok: false;
  /** what was being decoded: 'ipv4', 'icmp6', 'tcp' ... */
  codec: string;
  /** one line, e.g. 'truncated: need 20 bytes, have 12' */
  error: string;
  /** offset in the input where decoding gave up */
  offset: number;
}

export type DecodeResult<T> = Decoded<T> | DecodeFailure;

export function ok<T>(value: T, length: number): Decoded<T> {
  return { ok: true, value, length };
}

export function fail(codec: string, error: string, offset: number): DecodeFailure {
  return { ok: false, codec, error, offset };
}

export function truncated(codec: string, need: number, have: number, offset: number): DecodeFailure {
  return fail(codec, `truncated: need ${need} bytes, have ${have}`, offset);
}
