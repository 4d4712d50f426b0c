// The sockit program. Commands are listed here with a one-line summary and
// loaded only when run, so start-up costs one small module.
import { Command, CommanderError } from 'commander';
import { sockitVersion } from './commands/common.js';

export interface CommandModule {
  /** run with the arguments after the command name; resolves to the exit code */
  run(argv: string[]): Promise<number>;
}

interface Entry {
  name: string;
  aliases?: string[];
  summary: string;
  load: () => Promise<CommandModule>;
}

export const commands: Entry[] = [
  { name: 'ping', summary: 'send ICMP ECHO_REQUEST to network hosts (iputils ping)', load: () => import('./commands/ping.js') },
  { name: 'traceroute', aliases: ['tracert'], summary: 'print the route packets trace to network host (traceroute 2.x)', load: () => import('./commands/traceroute.js') },
  { name: 'sock', summary: "Stevens' sock: TCP/UDP/unix client, server, source and sink with every socket option", load: () => import('./commands/sock.js') },
  { name: 'sockopt', aliases: ['checkopts'], summary: "socket options: UNP's checkopts, get/set with the kernel's adjustments, a live socket's options", load: () => import('./commands/sockopt.js') },
  { name: 'connect', summary: 'nonblocking connect with a timeout, once or as repeated probes', load: () => import('./commands/connect.js') },
  { name: 'echo', summary: "the book's echo client and server, TCP and UDP", load: () => import('./commands/echo.js') },
  { name: 'daytime', summary: 'RFC 867 daytime client and server, TCP and UDP', load: () => import('./commands/daytime.js') },
];

function find(word: string | undefined): Entry | undefined {
  return word === undefined ? undefined : commands.find((c) => c.name === word || c.aliases?.includes(word));
}

function program(): Command {
  const p = new Command('sockit')
    .description("a network toolkit in the spirit of Stevens' Unix Network Programming")
    .version(sockitVersion(), '-V, --version')
    .usage('<command> [options]')
    .exitOverride()
    .addHelpText('after', '\nRun `sockit <command> --help` for a command\'s options; `man sockit` for the whole story.');
  for (const c of commands) {
    p.command(c.name).aliases(c.aliases ?? []).description(c.summary);
  }
  return p;
}

export async function main(argv: string[]): Promise<void> {
  // `sockit ... | head`: a reader that went away ends the output, not with a stack trace
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
  const entry = find(argv[0]);
  let code: number;
  if (entry) {
    const mod = await entry.load();
    code = await mod.run(argv.slice(1));
  } else {
    code = topLevel(argv);
  }
  process.exitCode = code;
}

function topLevel(argv: string[]): number {
  const p = program();
  p.configureOutput({ writeErr: () => {}, outputError: () => {} });
  if (argv.length === 0) {
    process.stdout.write(p.helpInformation());
    return 2;
  }
  try {
    p.parse(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      const word = argv[0];
      const msg = word && !word.startsWith('-') ? `unknown command '${word}'` : e.message.replace(/^error: /, '').split('\n')[0];
      process.stderr.write(`sockit: ${msg} (see sockit --help)\n`);
      return 2;
    }
    throw e;
  }
}
