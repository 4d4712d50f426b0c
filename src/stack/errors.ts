// One error family for every layer of sockit. The core throws these (or the
// addon's system errors, which have the same shape as Node's); src/cli maps
// them to exit codes and to the one `sockit <cmd>: ...` line. Nothing here
// loads the native addon: strerror(3) comes from it once it has loaded.
import { getSystemErrorMap } from 'node:util';

/** A failed syscall, as Node's own: code 'ECONNREFUSED', errno negated (-111), syscall 'connect'. */
export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

/** Whether e is a system error (the addon's or Node's); resolver failures (EAI_*) are not. */
export function isSystemError(e: unknown): e is SystemError {
  if (!(e instanceof Error)) return false;
  const s = e as SystemError;
  return typeof s.code === 'string' && typeof s.syscall === 'string' && typeof s.errno === 'number' && !s.code.startsWith('EAI_');
}

let libcStrerror: ((errno: number) => string) | undefined;

/** Called by the native layer when the addon loads: strerror(3) is libc's from then on. */
export function useStrerror(fn: (errno: number) => string): void {
  libcStrerror = fn;
}

/**
 * glibc's strerror(3) where libuv words an errno its own way ("Illegal
 * operation on a directory" for EISDIR): a command that has not loaded the
 * addon still says what perror(3) would (test/stack/errors.test.ts holds
 * this to the addon's strerror).
 */
const GLIBC_WORDS: Record<number, string> = {
  5: 'Input/output error',
  12: 'Cannot allocate memory',
  14: 'Bad address',
  16: 'Device or resource busy',
  17: 'File exists',
  18: 'Invalid cross-device link',
  21: 'Is a directory',
  23: 'Too many open files in system',
  26: 'Text file busy',
  29: 'Illegal seek',
  34: 'Numerical result out of range',
  36: 'File name too long',
  40: 'Too many levels of symbolic links',
  84: 'Invalid or incomplete multibyte or wide character',
  95: 'Operation not supported',
  97: 'Address family not supported by protocol',
  99: 'Cannot assign requested address',
  106: 'Transport endpoint is already connected',
  107: 'Transport endpoint is not connected',
  113: 'No route to host',
  114: 'Operation already in progress',
};

/** strerror(3) of an errno (either sign) without the addon: libuv's text, capitalised, in glibc's words where they differ. */
export function strerrorWithoutLibc(errno: number): string {
  const n = Math.abs(errno);
  const text = GLIBC_WORDS[n] ?? getSystemErrorMap().get(-n)?.[1];
  return text ? text[0]!.toUpperCase() + text.slice(1) : `Unknown error ${n}`;
}

/** strerror(3) of an errno (either sign): libc's once the addon has loaded, strerrorWithoutLibc's before. */
export function strerror(errno: number): string {
  return libcStrerror ? libcStrerror(Math.abs(errno)) : strerrorWithoutLibc(errno);
}

/** A SystemError for a syscall that failed with errno (either sign), worded as the addon words its own. */
export function systemError(syscall: string, errno: number, code?: string): SystemError {
  const n = Math.abs(errno);
  const name = code ?? getSystemErrorMap().get(-n)?.[0] ?? `E${n}`;
  return Object.assign(new Error(`${syscall} ${name}: ${strerror(n)}`), { code: name, errno: -n, syscall });
}

/** perror(3)'s line for a system error: "connect: Connection refused". */
export function describeSystemError(e: SystemError, what: string = e.syscall): string {
  return `${what}: ${strerror(e.errno)}`;
}

/** strerror(3) of a system error, or the message of anything else. */
export function strerrorOf(e: unknown): string {
  if (isSystemError(e)) return strerror(e.errno);
  return e instanceof Error ? e.message : String(e);
}

/** A getaddrinfo/getnameinfo failure: code EAI_*, message gai_strerror(3) ("Name or service not known"). */
export class ResolveError extends Error {
  override readonly name = 'ResolveError';
  constructor(
    readonly code: string,
    message: string,
    readonly syscall: 'getaddrinfo' | 'getnameinfo' = 'getaddrinfo',
  ) {
    super(message);
  }
}

/** Whether e is a resolver failure (EAI_* code), ours or one shaped like it. */
export function isResolveError(e: unknown): e is ResolveError {
  return e instanceof Error && typeof (e as ResolveError).code === 'string' && (e as ResolveError).code.startsWith('EAI_');
}

/** Nothing here may do it: says why, and the exact change that would allow it. */
export class PermissionError extends Error {
  override readonly name: string = 'PermissionError';
  /** what is missing, e.g. "raw sockets need CAP_NET_RAW" */
  readonly why: string;
  /** the changes that would allow it, best first */
  readonly fix: string[];
  constructor(why: string, fix: string[], prefix = 'no permission') {
    super(`${prefix}: ${why}${fix.length ? `; fix: ${fix.join(', or ')}` : ''}`);
    this.why = why;
    this.fix = fix;
  }
}

/** Bad input (an option, an argument, a name that does not resolve): one line, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** The work failed (no answer, a refused connect, a failed write or read): one line, exit 1. */
export class Failure extends Error {
  override readonly name = 'Failure';
  readonly exitCode = 1;
}

/** The exit status for an error that ended a command: 1 for failures, 2 for bad input and setup errors. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof UsageError || e instanceof Failure) return e.exitCode;
  return 2;
}

/** The text after `sockit <cmd>: ` for an error that ended a command. */
export function messageOf(e: unknown): string {
  if (e instanceof UsageError || e instanceof Failure || e instanceof PermissionError || isResolveError(e)) return e.message;
  if (isSystemError(e)) return describeSystemError(e);
  return e instanceof Error ? e.message : String(e);
}
