// sockit sockopt next to UNP's checkopts in C (the anchor: the book's program,
// generated over the same option names by test/helpers/checkopts-c.mjs and
// compiled with cc), run in the same session: whole-command wall time for
// the book's sockets and for all eight socket types (--table vs eight runs).
//   node bench/sockopt.mjs [runs]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { have, median, requireBuilt, root, row, timed } from './common.mjs';
import { checkoptsSource } from '../test/helpers/checkopts-c.mjs';

requireBuilt();
if (!have('cc')) {
  console.error('bench: a C compiler (cc) is needed for the anchor program');
  process.exit(2);
}
const { OPTIONS, SOCK_KINDS } = await import(`${root}dist/stack/sockopt.js`);
const runs = Number(process.argv[2] ?? 15);

const dir = mkdtempSync(join(tmpdir(), 'sockit-bench-'));
try {
  const bin = join(dir, 'checkopts');
  writeFileSync(`${bin}.c`, checkoptsSource(OPTIONS));
  const cc = timed(['cc', '-O2', '-o', bin, `${bin}.c`]);
  if (cc.code !== 0) throw new Error(`cc failed:\n${cc.stderr}`);
  const sockit = [process.execPath, join(root, 'bin', 'sockit'), 'sockopt'];
  const kinds = SOCK_KINDS.filter((k) => process.getuid() === 0 || !k.startsWith('raw'));

  const ms = (argv) =>
    median(
      Array.from({ length: runs }, () => {
        const r = timed(argv);
        if (r.code !== 0) throw new Error(`${argv.join(' ')} failed:\n${r.stderr}`);
        return r.ms;
      }),
    );
  // the same lines, or the comparison means nothing
  if (timed(sockit).stdout !== timed([bin, 'book']).stdout) throw new Error('sockit and the C checkopts disagree: run the tests');

  console.log(`sockit sockopt vs the book's checkopts in C, ${OPTIONS.length} options, median of ${runs} runs`);
  row('checkopts, book sockets (ms)', ms(sockit), ms([bin, 'book']), 'ms', false);
  const table = ms([...sockit, '--table']);
  const eight = median(Array.from({ length: runs }, () => kinds.reduce((t, k) => t + timed([bin, k]).ms, 0)));
  row(`${kinds.length} socket types (ms)`, table, eight, 'ms', false);
  const t0 = process.hrtime.bigint();
  const { openKind, readOption } = await import(`${root}dist/stack/sockopt.js`);
  const s = openKind('tcp4');
  let reads = 0;
  for (let i = 0; i < 200; i++)
    for (const o of OPTIONS)
      if (!o.undefined) {
        readOption(s, o);
        reads++;
      }
  s.close();
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / reads;
  console.log(`in process: ${us.toFixed(2)} us per option read through the core (getsockopt + decode), ${reads} reads`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
