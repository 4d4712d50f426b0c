// Poll until a condition holds: state that changes as the event loop
// delivers (a socket's filter, what a child process has said so far).

/** Resolve once cond() holds, checking every `everyMs`; reject after `ms`, naming `what`. */
export async function until(cond: () => boolean, opts: { what?: string; ms?: number; everyMs?: number } = {}): Promise<void> {
  const { what = 'a condition', ms = 10_000, everyMs = 50 } = opts;
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
