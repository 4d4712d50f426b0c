// sockit completion: bash, zsh and fish completions written from every
// command's own option table (src/cli/completion.ts), so they always match
// the build that prints them (read at build time: scripts/bundle.mjs).
import { readFileSync } from 'node:fs';
import { bash, type CommandSpec, commandSpec, fish, zsh } from '../cli/completion.js';
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
    const specs = builtSpecs() ?? (await commandSpecs());
    process.stdout.write(SHELLS[shell as keyof typeof SHELLS](specs, ['--help', '--version']));
    return 0;
  });
}

/** Every command's options, from its own table (each command run to the point where it would parse). */
export async function commandSpecs(): Promise<CommandSpec[]> {
  const { commands } = await import('../cli.js');
  const specs = [];
  for (const entry of commands) {
    const command = await entry.load();
    specs.push(commandSpec(entry, await optionTables(() => command.run([]))));
  }
  return specs;
}

/**
 * The specs scripts/bundle.mjs wrote from this build's commands beside their
 * bundles (dist/bundle/completion.json): loading and running every command
 * to read its table took a shell's `source <(sockit completion bash)` 77 ms,
 * against 26 for `node -e 0`. Null when there is none (a run from src/).
 */
function builtSpecs(): CommandSpec[] | null {
  let text: string;
  try {
    text = readFileSync(new URL('../bundle/completion.json', import.meta.url), 'utf8');
  } catch {
    return null;
  }
  return JSON.parse(text) as CommandSpec[];
}
