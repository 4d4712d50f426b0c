// The sockit program. Commands are listed here with a one-line summary and
// loaded only when run, so start-up costs one small module. Nothing here
// imports the native addon: --help, --version and help work without it, and
// --version needs no commander (it loads for the help and the errors).
import type { Command } from 'commander';
import { guardStdout, stdoutSink } from './cli/stdio.js';
import { reportError, sockitVersion } from './cli/run.js';
import { hasSummary, jsonLine } from './output/json.js';

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
  { name: 'ping', summary: 'send ICMP ECHO_REQUEST to network hosts (iputils ping)', load: () => import('./commands/ping/index.js') },
  { name: 'fping', summary: 'send ICMP ECHO_REQUEST to many network hosts at once (fping)', load: () => import('./commands/fping/index.js') },
  {
    name: 'traceroute',
    aliases: ['tracert'],
    summary: 'print the route packets trace to network host (traceroute 2.x)',
    load: () => import('./commands/traceroute.js'),
  },
  { name: 'sock', summary: "Stevens' sock: TCP/UDP/unix client, server, source and sink with every socket option", load: () => import('./commands/sock.js') },
  {
    name: 'sockopt',
    aliases: ['checkopts'],
    summary: "socket options: UNP's checkopts, get/set with the kernel's adjustments, a live socket's options",
    load: () => import('./commands/sockopt.js'),
  },
  { name: 'connect', summary: 'nonblocking connect with a timeout, once or as repeated probes', load: () => import('./commands/connect.js') },
  { name: 'echo', summary: "the book's echo client and server, TCP and UDP", load: () => import('./commands/echo.js') },
  {
    name: 'capture',
    summary: 'capture packets live as tcpdump does: AF_PACKET, the filter in the kernel, a TPACKET_V3 ring',
    load: () => import('./commands/capture/index.js'),
  },
  { name: 'dump', summary: 'read pcap and pcapng files as tcpdump -n -r does, with pcap-filter expressions', load: () => import('./commands/dump/index.js') },
  { name: 'ss', summary: 'socket statistics over netlink sock_diag (iproute2 ss)', load: () => import('./commands/ss/index.js') },
  { name: 'netstat', summary: 'network connections, as net-tools netstat prints them, over sock_diag', load: () => import('./commands/netstat/index.js') },
  {
    name: 'ifaces',
    summary: "the interfaces and their addresses as UNP's prifinfo prints them, over rtnetlink",
    load: () => import('./commands/ifaces/index.js'),
  },
  { name: 'lookup', summary: 'getaddrinfo, getnameinfo and getservbyname as getent prints them (UNP ch.11)', load: () => import('./commands/lookup.js') },
  { name: 'sntp', summary: "SNTP client (RFC 4330) as ntpdig prints it, and the book's ssntp listener", load: () => import('./commands/sntp.js') },
  {
    name: 'exporter',
    summary: 'a blackbox_exporter-compatible prober for Prometheus (icmp, tcp, udp, dns), with continuous pinging',
    load: () => import('./commands/exporter/index.js'),
  },
  {
    name: 'links',
    summary: 'make links named after the commands (busybox style): a link named ping runs sockit ping',
    load: () => import('./commands/links.js'),
  },
  { name: 'completion', summary: "bash, zsh and fish completions from the commands' own option tables", load: () => import('./commands/completion.js') },
  { name: 'daytime', summary: 'RFC 867 daytime client and server, TCP and UDP', load: () => import('./commands/daytime.js') },
];

function find(word: string | undefined): Entry | undefined {
  return word === undefined ? undefined : commands.find((c) => c.name === word || c.aliases?.includes(word));
}

async function program(): Promise<Command> {
  const { Command } = await import('commander');
  const p = new Command('sockit')
    .description("a network toolkit in the spirit of Stevens' Unix Network Programming")
    .version(sockitVersion(), '-V, --version')
    .usage('<command> [options]')
    .helpOption('-h, --help', 'display help for command')
    .exitOverride()
    .addHelpText('after', "\nRun `sockit help <command>` (or `sockit <command> --help`) for a command's options; `man sockit` for the whole story.");
  p.command('help [command]').description('display help for a command');
  for (const c of commands) {
    p.command(c.name)
      .aliases(c.aliases ?? [])
      .description(c.summary);
  }
  return p;
}

/** --json among the options (not after `--`). */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

export async function main(argv: string[]): Promise<void> {
  if (argv.length === 1 && (argv[0] === '-V' || argv[0] === '--version')) {
    stdoutSink().write(`${sockitVersion()}\n`); // no commander, no stdout stream: start-up close to node's own
    return;
  }
  let entry = find(argv[0]);
  // `sockit help ping` is `sockit ping --help`
  if (argv[0] === 'help' && find(argv[1])) {
    entry = find(argv[1]);
    argv = [argv[1]!, '--help'];
  }
  guardStdout(entry?.name ?? '');
  let code: number;
  if (entry) {
    try {
      code = await (await entry.load()).run(argv.slice(1)); // a missing addon: reportError adds the fix
    } catch (e) {
      code = reportError(entry.name, e);
    }
  } else {
    code = await topLevel(argv);
  }
  // --json: the last line of every run is a summary with the exit code, also when it ended early
  if (entry && wantsJson(argv) && !hasSummary()) jsonLine({ type: 'summary', exit_code: code });
  process.exitCode = code;
}

async function topLevel(argv: string[]): Promise<number> {
  const { CommanderError } = await import('commander');
  const p = await program();
  p.configureOutput({ writeErr: () => {}, outputError: () => {} });
  if (argv.length === 0) {
    process.stderr.write(p.helpInformation());
    return 2;
  }
  if (argv[0] === 'help') {
    if (argv.length === 1) {
      p.outputHelp(); // as --help: with the text added after it
      return 0;
    }
    process.stderr.write(`sockit: unknown command '${argv[1]}' (see sockit --help)\n`);
    return 2;
  }
  try {
    p.parse(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      const word = argv[0] === 'help' ? argv[1] : argv[0];
      const msg = word && !word.startsWith('-') ? `unknown command '${word}'` : e.message.replace(/^error: /, '').split('\n')[0];
      process.stderr.write(`sockit: ${msg} (see sockit --help)\n`);
      return 2;
    }
    throw e;
  }
}
