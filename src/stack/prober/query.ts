// query_response (prober/query_response.go, prober/tcp.go): for each entry,
// read lines until one matches `expect` (then `send` may use its groups:
// $1, ${1}, ${name}), and send `send` with a newline.
import type { QueryResponse } from './config.js';
import type { ProbeLog } from './log.js';
import type { ProbeMetrics } from './metrics.js';

export const FAILED_DUE_TO_REGEX = 'probe_failed_due_to_regex';
export const FAILED_DUE_TO_REGEX_HELP = 'Indicates if probe failed due to regex';

/** Go's Regexp.Expand: $n, ${n}, $name, ${name} from the match; $$ is a dollar. */
export function expand(template: string, match: RegExpExecArray): string {
  return template.replace(/\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (_all, d: string, braced?: string, bare?: string) => {
    if (d === '$') return '$';
    const name = braced ?? bare!;
    const v = /^\d+$/.test(name) ? match[Number(name)] : match.groups?.[name];
    return v ?? '';
  });
}

/** Where the lines come from and go to. */
export interface LineChannel {
  /** the next line (without its newline), or null at the end or on error */
  readLine(): Promise<string | null>;
  /** a read error, if reading stopped on one */
  readonly readError?: Error;
  write(text: string): Promise<void>;
}

export async function runQueryResponse(qrs: readonly QueryResponse[], ch: LineChannel, metrics: ProbeMetrics, log: ProbeLog): Promise<boolean> {
  for (const [i, qr] of qrs.entries()) {
    log.info('Processing query response entry', { entry_number: i });
    let send = qr.send ?? '';
    if (qr.expect) {
      let match: RegExpExecArray | null = null;
      let line: string | null = null;
      while ((line = await ch.readLine()) !== null) {
        log.debug('Read line', { line });
        match = new RegExp(qr.expect.source, qr.expect.flags).exec(line);
        if (match) {
          log.info('Regexp matched', { regexp: qr.expectText, line });
          break;
        }
      }
      if (ch.readError) {
        log.error('Error reading from connection', { err: ch.readError.message });
        return false;
      }
      if (!match) {
        metrics.set(FAILED_DUE_TO_REGEX, FAILED_DUE_TO_REGEX_HELP, 1);
        log.error('Regexp did not match', { regexp: qr.expectText, line: line ?? '' });
        return false;
      }
      metrics.set(FAILED_DUE_TO_REGEX, FAILED_DUE_TO_REGEX_HELP, 0);
      send = expand(send, match);
    }
    if (send !== '') {
      log.debug('Sending line', { line: send });
      try {
        await ch.write(`${send}\n`);
      } catch (e) {
        log.error('Failed to send', { err: e as Error });
        return false;
      }
    }
  }
  return true;
}
