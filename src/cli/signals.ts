// Signals as the anchor tools take them. A command that traps SIGINT to
// print its summary still dies of it afterwards when its anchor does
// (traceroute: the shell sees 130 and stops an `&&` chain); ping's anchor
// exits with its own status instead.

export type TerminateSignal = 'SIGINT' | 'SIGTERM';
const TERMINATE: readonly TerminateSignal[] = ['SIGINT', 'SIGTERM'];

/**
 * Run `fn` on SIGINT and SIGTERM (each time one arrives) instead of dying;
 * returns the function that removes the handlers.
 */
export function onTerminate(fn: (signal: TerminateSignal) => void): () => void {
  for (const s of TERMINATE) process.on(s, fn);
  return () => {
    for (const s of TERMINATE) process.off(s, fn);
  };
}

const finalizers = new Set<() => void>();

/**
 * Run `fn` (synchronous) before dieOf() kills the process and when it
 * exits, whichever comes first: what must be whole on disk (a --pcap file)
 * is finished there. Returns the function that removes it.
 */
export function atDeath(fn: () => void): () => void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    remove();
    fn();
  };
  const remove = () => {
    finalizers.delete(once);
    process.off('exit', once);
  };
  finalizers.add(once);
  process.on('exit', once);
  return remove;
}

/** Once output is flushed: die of `signal` (its default action), as a process without a handler would. */
export function dieOf(signal: NodeJS.Signals): never {
  for (const f of [...finalizers]) {
    try {
      f();
    } catch {
      /* dying anyway */
    }
  }
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  // the default action is immediate; should it be blocked, exit as a shell would report it
  process.exit(signalStatus(signal));
}

/** The status a shell reports for a death by signal: 128 + its number. */
export function signalStatus(signal: NodeJS.Signals): number {
  return 128 + (process.getBuiltinModule('node:os').constants.signals[signal] ?? 0); // node:os only when dying
}
