// An epoll(7) interest set of the stack's own, watched by the event loop as
// one descriptor: when any member is ready the loop calls back once, and one
// epoll_wait(2) returns the whole batch (UNP 6.10's one-process server, as
// the C servers of bench/ write it). A member costs no loop handle and no
// callback of its own: for servers holding many connections.
import * as C from './constants.js';
import { native, type Poller } from './native/index.js';

/** called for each ready member: its descriptor and the EPOLL* events */
export type ReadyFn = (fd: number, events: number) => void;

/** the most events one epoll_wait returns (the addon's EPOLL_BATCH) */
const BATCH = 256;
/** the longest one loop callback serves before timers, signals and other descriptors get a turn, ms */
const BUDGET_MS = 10;

export class EventSet {
  readonly fd: number;
  private readonly poller: Poller;
  private readonly out = new Int32Array(2 * BATCH);
  private closed = false;
  private members = 0;

  constructor(private readonly ready: ReadyFn) {
    this.fd = native.epoll_create();
    this.poller = new native.Poller(this.fd, () => this.dispatch());
  }

  /** watch fd for events (EPOLLIN, EPOLLOUT; errors and hang-ups always) */
  add(fd: number, events: number): void {
    native.epoll_ctl(this.fd, C.EPOLL_CTL_ADD, fd, events);
    if (this.members++ === 0) this.poller.start(C.POLL_READABLE);
  }

  modify(fd: number, events: number): void {
    native.epoll_ctl(this.fd, C.EPOLL_CTL_MOD, fd, events);
  }

  /** stop watching fd; call it before closing fd (or let close(2) drop it and call forget) */
  remove(fd: number): void {
    native.epoll_ctl(this.fd, C.EPOLL_CTL_DEL, fd, 0);
    this.forget();
  }

  /** fd was closed (which takes it out of the set): one member fewer */
  forget(): void {
    if (--this.members === 0 && !this.closed) this.poller.stop();
  }

  get size(): number {
    return this.members;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.close();
    native.close(this.fd);
  }

  private dispatch(): void {
    const out = this.out;
    let n = native.epoll_wait(this.fd, out, 0);
    const until = Date.now() + BUDGET_MS;
    // While batches keep coming, the next one is taken here without blocking: a busy set is
    // served as the C servers serve theirs, one syscall per batch, not the loop's two polls and
    // a callback into JS. Waiting here for it (1 ms, as this did) cost the echo server 10% more
    // CPU per request than returning to the loop (bench/echo-load.mjs's load, 16 rounds paired).
    while (n > 0 && !this.closed) {
      for (let i = 0; i < n; i++) this.ready(out[2 * i + 1]!, out[2 * i]!);
      if (this.closed || Date.now() >= until) return;
      n = native.epoll_wait(this.fd, out, 0);
    }
  }
}
