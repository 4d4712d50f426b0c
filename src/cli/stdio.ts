// Standard output and input for a command: a failed write or read is one
// line on stderr and exit 1 (iputils' "ping: write error"), never a stack
// trace nor silence; a reader that went away (EPIPE) ends the run quietly.
import { fstatSync, readFileSync, readlinkSync, writeSync } from 'node:fs';
import { strerror, systemError, type SystemError } from '../stack/errors.js';

/** Node reopens a closed descriptor 0-2 as /dev/null, read-write: the only trace `>&-` leaves. */
function reopenedByNode(fd: number): boolean {
  try {
    if (readlinkSync(`/proc/self/fd/${fd}`) !== '/dev/null') return false;
    const flags = /^flags:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return flags !== null && (parseInt(flags[1]!, 8) & 3) === 2; // O_RDWR
  } catch {
    return false;
  }
}

const SHELLS = new Set(['sh', 'ash', 'dash', 'bash', 'zsh', 'ksh', 'mksh', 'fish', 'busybox', 'csh', 'tcsh']);

/** Whether the parent process is a shell: a shell's `>file` opens write-only, never read-write. */
function parentIsShell(): boolean {
  try {
    return SHELLS.has(readFileSync(`/proc/${process.ppid}/comm`, 'utf8').trim());
  } catch {
    return false;
  }
}

/**
 * Whether standard output was closed when sockit started (`>&-`). Programs
 * that hand a child /dev/null read-write (Python's DEVNULL, Node's 'ignore',
 * systemd's null) look the same, so it counts only when a shell started us
 * (a shell's redirections are write-only) and stderr is something else:
 * then there is someone to tell.
 */
export function stdoutWasClosed(): boolean {
  return reopenedByNode(1) && !reopenedByNode(2) && parentIsShell();
}

let reported = false;

/** The one line for a failed write, then exit 1 (EPIPE: exit quietly with the status so far). */
export function writeFailed(cmd: string, e: NodeJS.ErrnoException): never {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  if (!reported) {
    reported = true;
    const errno = typeof e.errno === 'number' ? e.errno : 0;
    process.stderr.write(`sockit${cmd ? ` ${cmd}` : ''}: write error${errno ? `: ${strerror(errno)}` : ''}\n`);
  }
  process.exit(1);
}

/**
 * Watch standard output for the rest of the run: an asynchronous write error
 * (a pipe, a socket) and a synchronous one (a file, /dev/full) both end in
 * writeFailed; a stdout closed at start-up fails its first write with EBADF.
 * The stream is made (and watched) on first use: Node's stdout stream on a
 * pipe loads net and the stream modules, a tenth of a short run's start-up,
 * which a command that writes with stdoutSink() or not at all never pays.
 */
export function guardStdout(cmd: string): void {
  stdoutCmd = cmd;
  const desc = Object.getOwnPropertyDescriptor(process, 'stdout');
  if (!desc?.get || !desc.configurable) {
    watch(process.stdout, cmd);
    return;
  }
  const get = desc.get;
  Object.defineProperty(process, 'stdout', {
    configurable: true,
    enumerable: desc.enumerable,
    get() {
      Object.defineProperty(process, 'stdout', desc); // Node's own getter, which keeps the stream it makes
      const out = get.call(process) as NodeJS.WriteStream;
      watch(out, cmd);
      return out;
    },
  });
}

function watch(out: NodeJS.WriteStream, cmd: string): void {
  out.on('error', (e: NodeJS.ErrnoException) => writeFailed(cmd, e));
  const write = out.write;
  const closed = wasClosed();
  out.write = function guarded(this: NodeJS.WriteStream, ...args: unknown[]): boolean {
    if (closed) writeFailed(cmd, systemError('write', 9, 'EBADF'));
    try {
      return (write as (...a: unknown[]) => boolean).apply(this, args);
    } catch (e) {
      writeFailed(cmd, e as NodeJS.ErrnoException);
    }
  } as typeof out.write;
}

let stdoutCmd = '';
let closedAtStart: boolean | undefined;

/** stdoutWasClosed(), asked once: it reads /proc. */
function wasClosed(): boolean {
  closedAtStart ??= stdoutWasClosed();
  return closedAtStart;
}

/**
 * Standard output as a sink for text written as it comes (ping's lines, --version):
 * write(2) straight to descriptor 1 while that completes, which is what
 * Node's stream does on a file, a terminal or a blocking pipe, without
 * making the stream; a non-blocking descriptor that is full (EAGAIN, a short
 * write) hands the rest and everything after it to the stream, in order.
 * Failures are writeFailed's, as the guarded stream's are.
 */
export interface StdoutSink {
  /** text (UTF-8) or bytes (ss's listing), which are not kept once write returns (the stream gets a copy) */
  write(text: string | Uint8Array): boolean;
}

let sink: StdoutSink | undefined;

export function stdoutSink(): StdoutSink {
  sink ??= {
    write(text: string | Uint8Array): boolean {
      if (stream) return stream.write(typeof text === 'string' ? text : Buffer.from(text));
      if (wasClosed()) writeFailed(stdoutCmd, systemError('write', 9, 'EBADF'));
      const b = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
      let done = 0;
      try {
        done = writeSync(1, b);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') writeFailed(stdoutCmd, e as NodeJS.ErrnoException);
      }
      if (done === b.length) return true;
      stream = process.stdout;
      return stream.write(typeof text === 'string' ? b.subarray(done) : Buffer.from(b.subarray(done)));
    },
  };
  return sink;
}

let stream: NodeJS.WriteStream | undefined;

/** A failed read of standard input (a directory, a closed descriptor) as the one line and exit 1. */
export function readFailed(cmd: string, e: NodeJS.ErrnoException): never {
  process.stderr.write(`sockit ${cmd}: read error: ${typeof e.errno === 'number' ? strerror(e.errno) : e.message}\n`);
  process.exit(1);
}

/** Standard input, checked before a command reads it: a directory is EISDIR at once (Node would read nothing). */
export function checkStdin(): SystemError | null {
  try {
    if (fstatSync(0).isDirectory()) return systemError('read', 21, 'EISDIR');
  } catch (e) {
    return e as SystemError;
  }
  return null;
}
