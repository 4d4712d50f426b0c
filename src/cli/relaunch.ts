// V8 takes some heap limits only when Node starts. A command whose work is
// long enough to need one (dump over a big capture: the young generation
// grows to its default cap of 32 MiB and the RSS with it) runs itself again
// in a child Node started with the flag: one more start-up (about 30 ms),
// for work that takes seconds.
import { dieOf } from './signals.js';

const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** True when this Node was started with every one of `flags` (as they are given to relaunch). */
export function startedWith(flags: readonly string[]): boolean {
  return flags.every((f) => process.execArgv.includes(f));
}

/**
 * This same command line again, in a child Node started with `flags` after
 * this one's own, on the same descriptors; resolves to the child's exit
 * status. Signals sent to this process go on to the child; a child killed
 * by a signal kills this process with it, as a shell would report it.
 */
export function relaunch(flags: readonly string[]): Promise<number> {
  const { spawn } = process.getBuiltinModule('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, ...flags, ...process.argv.slice(1)], { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const s of FORWARDED) process.on(s, forward);
  return new Promise((resolve, reject) => {
    const done = () => {
      for (const s of FORWARDED) process.off(s, forward);
    };
    child.once('error', (e) => {
      done();
      reject(e);
    });
    child.once('exit', (code, signal) => {
      done();
      if (signal) dieOf(signal);
      resolve(code ?? 1);
    });
  });
}
