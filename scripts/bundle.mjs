#!/usr/bin/env node
// Build dist/bundle/: one esbuild bundle per command of src/cli.ts's registry,
// and one for sockit itself (--version, --help, unknown commands). Each run
// loads exactly one bundle: bin/sockit picks it by the command word through
// dist/bundle/commands.json (every name and alias -> its bundle), so the
// registry stays the one list and a new command needs no edit here.
//
// A command's bundle holds src/cli.ts's main with that command's import
// inlined (the others stay lazy), so the command and main share one copy of
// output/json.ts (the summary already printed?) and cli/stdio.ts.
//
// Modules find files beside them (build/Release/sockit.node, package.json)
// from import.meta.url: in a bundle each module's import.meta.url (and
// .filename, .dirname) is made its tsc output's in dist/, so those lookups
// stay as they are.
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const out = join(root, 'dist', 'bundle');
const cliTs = join(src, 'cli.ts');

/** The registry: names, aliases and the module each command loads (from tsc's dist/cli.js). */
async function registry() {
  const { commands } = await import(pathToFileURL(join(root, 'dist', 'cli.js')).href);
  return commands.map((c) => {
    const m = /import\(\s*['"`]([^'"`]+)['"`]\s*\)/.exec(String(c.load));
    if (!m) throw new Error(`bundle: cannot see the module ${c.name}'s load() imports`);
    return { name: c.name, aliases: c.aliases ?? [], module: m[1] };
  });
}

/**
 * import.meta.url as the module's tsc output in dist/ would see it. As a
 * path where the module wants one (fileURLToPath(import.meta.url),
 * .filename, .dirname): a path joined to the bundle's __dirname, with no
 * URL made and parsed back (the first URL and fileURLToPath of a run cost
 * it most of a millisecond).
 */
const metaUrl = {
  name: 'dist-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.')) return { contents: text, loader: 'ts' };
      const asDist = join(root, 'dist', relative(src, args.path)).replace(/\.ts$/, '.js');
      const rel = JSON.stringify(relative(out, asDist).split('\\').join('/'));
      const contents = text
        .replaceAll('fileURLToPath(import.meta.url)', `__distPath(${rel})`)
        .replaceAll('import.meta.filename', `__distPath(${rel})`)
        .replaceAll('import.meta.dirname', `__distDir(${rel})`)
        .replaceAll('import.meta.url', `__distUrl(${rel})`);
      return { contents, loader: 'ts' };
    });
  },
};

/** Commands that load every other command (to read their option tables): their bundles hold them all. */
const WHOLE = new Set(['completion']);

/** In src/cli.ts: bundle the commands in `keep` (module paths), leave the others to load lazily. */
function onlyCommand(keep) {
  return {
    name: 'only-command',
    setup(b) {
      b.onResolve({ filter: /^\.\/commands\// }, (args) => {
        if (args.importer !== cliTs || args.kind !== 'dynamic-import' || keep.has(args.path)) return undefined;
        return { path: args.path, external: true }; // not reached: bin/sockit runs this command's own bundle
      });
    },
  };
}

/**
 * commander requires child_process (about 2 ms: net, dgram, streams) for
 * executable subcommands, which sockit has none of: give it on first use.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "let m; module.exports = new Proxy({}, { get: (_, k) => (m ??= require('node:child_process'))[k] });",
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  // CommonJS: no ESM loader to start, builtins without ESM facades (about 5 ms)
  format: 'cjs',
  target: 'node20.19',
  minify: process.env.SOCKIT_BUNDLE_MINIFY !== '0', // =0: readable bundles, for profiling
  keepNames: false,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  // for import.meta, above (a module's own `require` may shadow the real one)
  banner: {
    js: "var __distPath=(r)=>require('node:path').join(__dirname,r),__distDir=(r)=>require('node:path').dirname(__distPath(r)),__distUrl=(r)=>require('node:url').pathToFileURL(__distPath(r)).href;",
  },
  logLevel: 'warning',
};

async function main() {
  const commands = await registry();
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const every = new Set(commands.map((c) => c.module));
  const targets = [{ file: 'sockit', keep: new Set() }, ...commands.map((c) => ({ file: c.name, keep: WHOLE.has(c.name) ? every : new Set([c.module]) }))];
  await Promise.all(
    targets.map((t) =>
      build({ ...common, entryPoints: [cliTs], outfile: join(out, `${t.file}.cjs`), plugins: [metaUrl, lazyChildProcess, onlyCommand(t.keep)] }),
    ),
  );
  const map = {};
  for (const c of commands) for (const n of [c.name, ...c.aliases]) map[n] = c.name;
  writeFileSync(join(out, 'commands.json'), `${JSON.stringify(map)}\n`);
  // every command's option table for `sockit completion`, read now from this
  // build's commands; without the addon (the commands load it) completion
  // reads them at run time, as its bundle holds every command
  try {
    const { commandSpecs } = await import(pathToFileURL(join(root, 'dist', 'commands', 'completion.js')).href);
    writeFileSync(join(out, 'completion.json'), `${JSON.stringify(await commandSpecs())}\n`);
  } catch (e) {
    if (e.code !== 'ERR_SOCKIT_NO_ADDON') throw e;
    console.log('bundle: no completion.json (the addon is not built): sockit completion reads the option tables when it runs');
  }
  console.log(`bundle: ${targets.length} bundles in ${relative(root, out)}/`);
}

await main();
