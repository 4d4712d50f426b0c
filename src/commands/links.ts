// sockit links: busybox-style links. A link to bin/sockit named after a
// command (ping, traceroute, ss, netstat ...) runs that command: bin/sockit
// looks at the name it was run by.
import { lstatSync, realpathSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Failure, jsonLine, makeCommand, parseArgs, runMain, strerrorOf, UsageError } from './common.js';

/** Commands that are sockit's own business, not tools a link would stand for. */
const NOT_TOOLS = new Set(['links', 'completion']);

interface Options {
  force?: boolean;
  json?: boolean;
}

export async function run(argv: string[]): Promise<number> {
  return runMain('links', async () => {
    const cmd = makeCommand('links')
      .description('make links to sockit named after its commands in DIR (busybox style): DIR/ping runs `sockit ping`')
      .usage('[-f] [--json] DIR [command...]')
      .argument('<dir>', 'where the links go (it must exist)')
      .argument('[command...]', 'the commands to link (default: all of them, aliases too)')
      .option('-f, --force', 'replace what is there already')
      .option('--json', 'JSON lines (sockit(1) JSON OUTPUT): a link record each');
    if (!parseArgs(cmd, argv)) return 0;
    const o = cmd.opts<Options>();
    const [dir, wanted] = cmd.processedArgs as [string, string[]];
    const { commands } = await import('../cli.js');
    const all = commands.filter((c) => !NOT_TOOLS.has(c.name)).flatMap((c) => [c.name, ...(c.aliases ?? [])]);
    for (const w of wanted) if (!all.includes(w)) throw new UsageError(`not a command to link: '${w}'`);
    const target = realpathSync(process.argv[1]!); // bin/sockit itself, not a link to it
    for (const name of wanted.length ? wanted : all) {
      const path = join(dir, name);
      try {
        if (o.force && exists(path)) unlinkSync(path);
        symlinkSync(target, path);
      } catch (e) {
        throw new Failure(`${path}: ${strerrorOf(e)}${(e as NodeJS.ErrnoException).code === 'EEXIST' ? ' (-f replaces it)' : ''}`);
      }
      if (o.json) jsonLine({ type: 'link', name, path, target });
      else process.stdout.write(`${path} -> ${target}\n`);
    }
    return 0;
  });
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
