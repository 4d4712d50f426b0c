// A metrics file written atomically, for node_exporter's textfile collector
// (which reads every *.prom file of its directory at each scrape): the text
// goes to a hidden temporary file beside the target, is flushed to disk,
// then renamed over it (rename(2) is atomic within a file system), so a
// scrape sees the old file or the new one, never half of one.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Write `text` to `file` atomically (a temporary file in the same directory, fsync, rename). */
export function writeFileAtomic(file: string, text: string): void {
  // hidden and without the .prom suffix: the collector never reads it
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o644);
  let written = false;
  try {
    writeSync(fd, text);
    fsyncSync(fd);
    written = true;
  } finally {
    closeSync(fd);
    if (!written) rmSync(tmp, { force: true });
  }
  try {
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
