// V8 compiles a hot function with TurboFan on a background thread while the
// main thread goes on in slower code; the bigger the function with what it
// inlines, the longer until the fast code arrives. A listing that runs for
// tens of milliseconds spends most of them waiting: ss -tan over 19,800
// sockets compiled its per-socket and render loops inlined for 11 to 18 ms
// each (--trace-opt), and ran those in baseline code meanwhile. Without
// inlining each compiles in a millisecond or two: the run is 9-11 ms
// shorter on Node 20, 22 and 24 (bench/netstat.mjs, measured). netstat -tan
// over the same sockets: 30-35 ms of CPU less (200-212 against 165-181 ms).
//
// On-stack replacement goes with it. A render loop that runs once over
// 19,800 lines (ss -tanp) was compiled by OSR on a background thread while
// it ran, 11 to 23 ms of compile whose code came as the loop ended, and its
// compiler zones (2 to 4 MB) were the peak of the run's RSS: with OSR off
// the same listing peaked at 50 MiB instead of 54 and was no slower (ss
// -tanp, 10 runs each, measured). The functions the loop calls are compiled
// as they get hot, without OSR; only a loop's own body stays in baseline code.
//
// --turbo-inlining and --use-osr are read as each compile is decided, so
// setting them while Node runs changes only the compiles that follow. They
// are set back before the command returns: the launcher's code cache is
// written at exit, and V8 takes a cache only under the flags it was made
// with. node:v8 costs a run about 1.5 ms to load, so it is loaded only once
// the work turns out long (off() on the listing's second batch, before
// anything is hot, or before the owner scan of -p, which reads every
// descriptor of every process).
import type v8 from 'node:v8';

// --no-use-osr implies --no-maglev-osr where that flag exists (V8 12 on: Node 22 and later), and
// --use-osr does not imply it back: the restore sets it too, or V8 rejects the cache (Node 22, measured)
const MAGLEV_OSR = Number(process.versions.v8.split('.')[0]) >= 12;

/** whether Node was started with flags matching re (its command line or NODE_OPTIONS): those it keeps */
function started(re: RegExp): boolean {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => re.test(a));
}

export class Inlining {
  private flags: typeof v8 | null = null;
  private batches = 0;
  private inlining = false;
  private osr = false;

  /** a listing's next batch of sockets: from the second on (more than one datagram's: a long listing), off() */
  batch(): void {
    if (++this.batches === 2) this.off();
  }

  /**
   * TurboFan's inlining and on-stack replacement off from now on (once;
   * later calls do nothing); a Node started with flags of either keeps them.
   */
  off(): void {
    if (this.flags) return;
    this.flags = process.getBuiltinModule('node:v8');
    this.inlining = !started(/inlining/);
    this.osr = !started(/osr/);
    if (this.inlining) this.flags.setFlagsFromString('--no-turbo-inlining');
    if (this.osr) this.flags.setFlagsFromString('--no-use-osr');
  }

  /** back as Node started, if off() was called */
  restore(): void {
    const f = this.flags;
    if (!f) return;
    if (this.inlining) f.setFlagsFromString('--turbo-inlining');
    if (this.osr) {
      f.setFlagsFromString('--use-osr');
      if (MAGLEV_OSR) f.setFlagsFromString('--maglev-osr');
    }
    this.flags = null;
  }
}

/**
 * WebAssembly has tiers too: V8 compiles a hot function of a module again
 * with TurboFan on a background thread, and a Node process waits for such a
 * job before it exits. ss's listing module (commands/ss/lines.c) over 2,000
 * sockets waited about 20 ms at exit for a compile it never used (strace,
 * bench/netstat.mjs). --liftoff-only keeps a module compiled after it is set
 * on Liftoff, the baseline code. What it implies off is put back with it, as
 * Node started (Node 20, 22 and 24 measured: the launcher's cache is taken
 * after the restore); a Node started with flags of these tiers keeps them.
 */
export class LiftoffOnly {
  private flags: typeof v8 | null = null;

  /** the modules compiled from now on on Liftoff alone */
  on(): void {
    if (this.flags || started(/liftoff|wasm-(dynamic-tiering|tier-up)/)) return;
    this.flags = process.getBuiltinModule('node:v8');
    this.flags.setFlagsFromString('--liftoff-only');
  }

  /** back as Node started, if on() was called */
  restore(): void {
    this.flags?.setFlagsFromString('--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering');
    this.flags = null;
  }
}
