// fping's accounting (fping.c HOST_ENTRY, stats_add, the global counters),
// kept exactly as fping keeps it: a ping counts as sent only once it is
// answered, timed out or failed, so loss never counts a ping in flight.

/** resp_times markers (fping.c) */
export const RESP_WAITING = -1;
export const RESP_UNUSED = -2;
export const RESP_ERROR = -3;
export const RESP_TIMEOUT = -4;

/** One target's counters, the run's and the -Q interval's. */
export class HostStats {
  numSent = 0;
  numRecv = 0;
  /** replies matched, duplicates and late ones too */
  numRecvTotal = 0;
  maxReply = 0;
  minReply = 0;
  totalTime = 0;
  numSentI = 0;
  numRecvI = 0;
  maxReplyI = 0;
  minReplyI = 0;
  totalTimeI = 0;
  /** count mode: each ping's time in ns, or a RESP_* marker */
  readonly respTimes: number[] | null;

  constructor(trials: number, loop: boolean) {
    this.respTimes = loop ? null : Array.from({ length: trials }, () => RESP_UNUSED);
  }

  /** fping's stats_add: a ping resolved, answered (latency in ns) or not. */
  add(index: number, success: boolean, latencyNs = 0): void {
    this.numSent++;
    this.numSentI++;
    if (!success) {
      if (this.respTimes && index >= 0) this.respTimes[index] = RESP_TIMEOUT;
      return;
    }
    this.numRecv++;
    this.numRecvI++;
    // fping takes 0 for "none yet"
    if (!this.maxReply || latencyNs > this.maxReply) this.maxReply = latencyNs;
    if (!this.maxReplyI || latencyNs > this.maxReplyI) this.maxReplyI = latencyNs;
    if (!this.minReply || latencyNs < this.minReply) this.minReply = latencyNs;
    if (!this.minReplyI || latencyNs < this.minReplyI) this.minReplyI = latencyNs;
    this.totalTime += latencyNs;
    this.totalTimeI += latencyNs;
    if (this.respTimes && index >= 0) this.respTimes[index] = latencyNs;
  }

  /** a failed send: counted as sent, marked an error (fping's send_ping) */
  sendError(index: number): void {
    this.numSent++;
    this.numSentI++;
    if (this.respTimes && index >= 0) this.respTimes[index] = RESP_ERROR;
  }

  /** the average in ns, truncated as fping's int division does; null without replies */
  get avgNs(): number | null {
    return this.numRecv ? Math.trunc(this.totalTime / this.numRecv) : null;
  }

  get avgNsI(): number | null {
    return this.numRecvI ? Math.trunc(this.totalTimeI / this.numRecvI) : null;
  }

  /** whether this ping of a count run was answered already (fping's duplicate test) */
  answered(index: number): boolean {
    return this.respTimes !== null && (this.respTimes[index] ?? RESP_UNUSED) >= 0;
  }

  resetInterval(): void {
    this.numSentI = this.numRecvI = this.maxReplyI = this.minReplyI = this.totalTimeI = 0;
  }
}

/** The run's counters (fping's globals). */
export class GlobalCounters {
  alive = 0;
  timeouts = 0;
  pingsSent = 0;
  pingsReceived = 0;
  otherIcmp = 0;
  minReply = 0;
  maxReply = 0;
  sumReplies = 0;
  totalReplies = 0;

  reply(latencyNs: number): void {
    if (!this.maxReply || latencyNs > this.maxReply) this.maxReply = latencyNs;
    if (!this.minReply || latencyNs < this.minReply) this.minReply = latencyNs;
    this.sumReplies += latencyNs;
    this.totalReplies++;
  }

  /** min, avg, max in ns as print_global_stats shows them (zeros without replies) */
  rtt(): { min: number; avg: number; max: number } {
    if (!this.totalReplies) return { min: 0, avg: 0, max: 0 };
    return { min: this.minReply, avg: Math.trunc(this.sumReplies / this.totalReplies), max: this.maxReply };
  }
}
