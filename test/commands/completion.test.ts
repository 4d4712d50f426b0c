// sockit completion: the bash script sourced in bash and asked for
// completions (COMP_WORDS/COMP_CWORD and the function, as bash's own
// completion calls it), fish's through `complete -C`, zsh's loaded by
// compinit. What to expect comes from each command's --help, so every
// command of the registry is checked, new ones too.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bash } from '../../src/cli/completion.js';
import { commandSpecs } from '../../src/commands/completion.js';
import { sockit } from '../helpers/cli.js';
import { checkout } from '../helpers/readable.js';

const have = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** The commands `sockit --help` lists, aliases as their own names. */
function listed(help: string): string[] {
  const section = help.slice(help.indexOf('Commands:'));
  return [...section.matchAll(/^ {2}([a-z][\w|]*)/gm)].flatMap((m) => m[1]!.split('|')).filter((n) => n !== 'help');
}

/** Every flag in the Options section of a --help: '-c', '--count', '--config.file' (dotted, as blackbox_exporter spells its flags) ... */
function flagsOf(help: string): string[] {
  const section = help.slice(help.indexOf('Options:'));
  return [...section.matchAll(/^ {2}(-\S.*?)(?: {2}|$)/gm)].flatMap((m) => [...m[1]!.matchAll(/(?:^|, )(--?[\w.-]+)/g)].map((f) => f[1]!));
}

/** An option's choices as commander's help says them: `--mode <m>  ... (choices: "dgram", "raw")`. */
function choicesOf(help: string): { flag: string; choices: string[] }[] {
  const entries = help.slice(help.indexOf('Options:')).split(/\n(?= {2}-)/); // an option and its wrapped lines
  return entries.flatMap((e) => {
    const m = /^ {2}(?:-\w, )?(--?[\w.-]+) <[^>]+>/.exec(e);
    const list = /\(choices: ([^)]*)\)/.exec(e.replace(/\s+/g, ' '));
    return m && list ? [{ flag: m[1]!, choices: [...list[1]!.matchAll(/"([^"]*)"/g)].map((c) => c[1]!) }] : [];
  });
}

/** The modes of a command whose usage is `sockit echo server [options]` / `sockit echo client ...`. */
function modesOf(cmd: string, help: string): string[] {
  return [...help.matchAll(new RegExp(`sockit ${cmd} (\\w+) \\[options\\]`, 'g'))].map((m) => m[1]!);
}

interface Case {
  cmd: string;
  mode?: string;
  flags: string[];
  choices: { flag: string; choices: string[] }[];
}

let dir: string;
let commands: string[];
const cases: Case[] = [];
const scripts: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sockit-completion-'));
  const top = await sockit(['--help']);
  commands = listed(top.stdout);
  for (const cmd of commands) {
    const help = (await sockit([cmd, '--help'])).stdout;
    const modes = modesOf(cmd, help);
    if (!modes.length) cases.push({ cmd, flags: flagsOf(help), choices: choicesOf(help) });
    for (const mode of modes) {
      const h = (await sockit([cmd, mode, '--help'])).stdout;
      cases.push({ cmd, mode, flags: flagsOf(h), choices: choicesOf(h) });
    }
  }
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = await sockit(['completion', shell]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    scripts[shell] = join(dir, `sockit.${shell}`);
    writeFileSync(scripts[shell]!, r.stdout);
  }
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Ask bash for the completions of each line (the last word is the one being completed). */
function bashComplete(lines: string[]): string[][] {
  const driver = [
    `source ${scripts.bash}`,
    ...lines.map((l) => {
      const words = l
        .split(' ')
        .map((w) => `'${w}'`)
        .join(' ');
      return `COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); COMPREPLY=(); _sockit; printf '%s ' "\${COMPREPLY[@]}"; echo`;
    }),
  ].join('\n');
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', driver], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout
    .split('\n')
    .slice(0, lines.length)
    .map((l) => l.trim().split(/\s+/).filter(Boolean));
}

/** Ask fish (`complete -C`) for the completions of each line: the words, descriptions dropped. */
function fishComplete(lines: string[]): string[][] {
  const driver = [`source ${scripts.fish}`, ...lines.map((l) => `complete -C '${l}'; echo '--end--'`)].join('\n');
  const r = spawnSync('fish', ['--no-config', '-c', driver], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  const out = r.stdout.split('--end--\n');
  return lines.map((_, i) =>
    out[i]!.split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t')[0]!),
  );
}

const prefix = (c: Case) => `sockit ${c.cmd}${c.mode ? ` ${c.mode}` : ''}`;

describe('sockit completion bash, sourced in bash', () => {
  it('the first word: every command and alias of sockit --help', () => {
    const [all, pi] = bashComplete(['sockit ', 'sockit pi']);
    expect(commands.length).toBeGreaterThan(10);
    for (const c of [...commands, 'help']) expect(all).toContain(c);
    expect(pi).toEqual(commands.filter((c) => c.startsWith('pi')));
  });

  it("after a command and '-': every flag of that command's --help (each mode's too)", () => {
    const got = bashComplete(cases.map((c) => `${prefix(c)} -`));
    cases.forEach((c, i) => {
      expect(c.flags.length, prefix(c)).toBeGreaterThan(0);
      expect(got[i], prefix(c)).toEqual(expect.arrayContaining(c.flags));
    });
  });

  it('a command with modes completes them; an option with choices completes its choices', () => {
    const moded = [...new Set(cases.filter((c) => c.mode).map((c) => c.cmd))];
    expect(moded.length).toBeGreaterThan(0);
    const modes = bashComplete(moded.map((m) => `sockit ${m} `));
    moded.forEach((m, i) =>
      expect(modes[i]!.sort()).toEqual(
        cases
          .filter((c) => c.cmd === m)
          .map((c) => c.mode!)
          .sort(),
      ),
    );
    const withChoices = cases.flatMap((c) => c.choices.map((ch) => ({ line: `${prefix(c)} ${ch.flag} `, want: ch.choices })));
    expect(withChoices.length).toBeGreaterThan(0);
    const got = bashComplete(withChoices.map((w) => w.line));
    withChoices.forEach((w, i) => expect(got[i], w.line).toEqual(w.want));
  });

  it('help <TAB> completes command names; a file option completes files', () => {
    writeFileSync(join(dir, 'capture.pcap'), '');
    const [help, file] = bashComplete(['sockit help tr', `sockit dump -r ${dir}/capt`]);
    expect(help).toEqual(commands.filter((c) => c.startsWith('tr')));
    expect(file).toEqual([join(dir, 'capture.pcap')]);
  });
});

describe.skipIf(!have('fish'))('sockit completion fish, asked with complete -C', () => {
  it('syntax (fish -n), commands, and every flag of every command', () => {
    expect(spawnSync('fish', ['-n', scripts.fish!]).status).toBe(0);
    const longs = cases.map((c) => ({ line: `${prefix(c)} --`, want: c.flags.filter((f) => f.startsWith('--')) }));
    const [first, ...rest] = fishComplete(['sockit ', ...longs.map((l) => l.line)]);
    for (const c of commands) expect(first).toContain(c);
    longs.forEach((l, i) => expect(rest[i], l.line).toEqual(expect.arrayContaining(l.want)));
  });
});

describe.skipIf(!have('zsh'))('sockit completion zsh', () => {
  it('parses (zsh -n) and compinit takes it as the completion of sockit', () => {
    expect(spawnSync('zsh', ['-n', scripts.zsh!]).status).toBe(0);
    const r = spawnSync('zsh', ['-f', '-c', `autoload -U compinit && compinit -u -D && source ${scripts.zsh} && print -r -- $_comps[sockit]`], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('_sockit');
  });
});

describe('sockit completion: bad input', () => {
  it('an unknown shell is one line, exit 2', async () => {
    const r = await sockit(['completion', 'tcsh']);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: "sockit completion: unknown shell 'tcsh' (bash, zsh or fish)\n" });
  });
});

describe('sockit completion: the option tables the build read', () => {
  it("dist/bundle/completion.json is every command's table as the sources say it now, and the script is the one written from them", async () => {
    const built = JSON.parse(readFileSync(join(checkout, 'dist', 'bundle', 'completion.json'), 'utf8'));
    const now = await commandSpecs();
    expect(now.map((c) => c.name)).toContain('ping');
    expect(built).toEqual(now);
    const r = await sockit(['completion', 'bash']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(bash(now, ['--help', '--version']));
  });
});
