// --pcap FILE on the commands that record their own packets (ping,
// traceroute, sock, connect): the recording opened before the first packet,
// a file that cannot be opened reported as one line (exit 1, as tcpdump -w),
// and the file finished on every way out: the command's own close, a death
// by signal (dieOf) or process exit, whichever comes first.
import type { Recording } from '../../stack/capture/record.js';
import { atDeath, Failure, isSystemError, strerrorOf, UsageError } from '../common.js';

export async function openPcap(path: string, open: () => Promise<Recording>): Promise<Recording> {
  let rec: Recording;
  try {
    rec = await open();
  } catch (e) {
    if (isSystemError(e) && e.syscall === 'open') throw new Failure(`${path}: ${strerrorOf(e)}`);
    throw e;
  }
  atDeath(() => rec.close());
  return rec;
}

/** The --pcap option's help, the same on every command. */
export const PCAP_HELP = 'write the packets sent and received to FILE (pcapng; rebuilt from the sockets without CAP_NET_RAW)';

/** --pcap's argument: a file (standard output carries the command's own output, so not '-'). */
export function pcapArg(v: string): string {
  if (v === '' || v === '-') throw new UsageError(`--pcap ${v || "''"}: give a file to write (standard output carries the command's own output)`);
  return v;
}
