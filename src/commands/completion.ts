// sockit completion: bash, zsh and fish completions written from every
// command's own option table (src/cli/completion.ts), so they always match
// the build that prints them.
import { bash, commandSpec, fish, zsh } from '../cli/completion.js';
import { makeCommand, optionTables, parseArgs, runMain, UsageError } from './common.js';

const SHELLS = { bash, zsh, fish };

export async function run(argv: string[]): Promise<number> {
  return runMain('completion', async () => {
    const cmd = makeCommand('completion')
      .description('print the completion script for a shell: bash, zsh or fish')
      .argument('<shell>', 'bash, zsh or fish')
      .usage('bash|zsh|fish')
      .addHelpText(
        'after',
        '\nbash: source <(sockit completion bash)\nzsh:  sockit completion zsh > ~/.zfunc/_sockit (~/.zfunc in fpath before compinit)\nfish: sockit completion fish > ~/.config/fish/completions/sockit.fish\nSee sockit-completion(1).',
      );
    if (!parseArgs(cmd, argv)) return 0;
    const shell = cmd.args[0]!;
    if (!Object.hasOwn(SHELLS, shell)) throw new UsageError(`unknown shell '${shell}' (bash, zsh or fish)`);
    const { commands } = await import('../cli.js');
    const specs = [];
    for (const entry of commands) {
      const command = await entry.load();
      specs.push(commandSpec(entry, await optionTables(() => command.run([]))));
    }
    process.stdout.write(SHELLS[shell as keyof typeof SHELLS](specs, ['--help', '--version']));
    return 0;
  });
}
