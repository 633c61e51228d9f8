import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { COMMANDS as registry } from '../../src/cli/commands/index.js';
import type { Command, CommandEntry } from '../../src/cli/context.js';
import { bashScript, commandSpecs, zshScript } from '../../src/cli/commands/completion.js';

// Shell completion: the script `quiver completion bash|zsh` prints, loaded in a real shell.
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'quiver.js');

function quiver(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
}

function shell(name: 'bash' | 'zsh'): string {
  const r = spawnSync(name, ['-c', 'command -v ' + name], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`the completion tests need ${name}: as root run \`apt-get install -y ${name}\` (\`scripts/test-packages.sh install ${name}\` does it)`);
  return name;
}

/** COMPREPLY after completing the last word of `line` with the bash script at `script`. */
function complete(script: string, line: string): string[] {
  const words = line.split(' ');
  const program = `source ${JSON.stringify(script)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; COMP_LINE=${JSON.stringify(line)}; COMP_POINT=${line.length}
_quiver quiver "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync(shell('bash'), ['--norc', '--noprofile', '-c', program], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout.split('\n').filter((l) => l !== '');
}

test('bash completion from `quiver completion bash`: commands, flags of a command, option values, positionals', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-completion-'));
  try {
    const out = quiver('completion', 'bash');
    assert.equal(out.status, 0, out.stderr);
    const script = join(dir, 'quiver.bash');
    writeFileSync(script, out.stdout);
    assert.deepEqual(complete(script, 'quiver im'), ['import']);
    assert.deepEqual(complete(script, 'quiver '), Object.keys(registry).sort());
    assert.deepEqual(complete(script, 'quiver import data.csv --ta'), ['--table', '--tags']);
    assert.deepEqual(complete(script, 'quiver scan cpu --li'), ['--limit']);
    assert.deepEqual(complete(script, 'quiver report cpu --'), ['--out', '--store', '--json', '--debug', '--help']);
    // Global options before the command, with their value.
    assert.deepEqual(complete(script, 'quiver --store /tmp/x --json sc'), ['scan']);
    assert.deepEqual(complete(script, 'quiver --'), ['--store', '--json', '--debug', '--help', '--version']);
    // A value of an option: the shell's file names (nothing of ours).
    assert.deepEqual(complete(script, 'quiver report cpu --out '), []);
    // The first positional of a command that names its words, and none after it.
    assert.deepEqual(complete(script, 'quiver completion '), ['bash', 'zsh']);
    assert.deepEqual(complete(script, 'quiver completion z'), ['zsh']);
    assert.deepEqual(complete(script, 'quiver completion bash '), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('completion is generated from the registry: a new command and its options complete with no change to completion code', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-completion-'));
  try {
    const toy: Command = {
      usage: 'Usage: quiver toy', options: { shiny: { type: 'boolean' }, mode: { type: 'string' } },
      completions: { values: { mode: ['fast', 'slow'] } },
      async run() { return 0; },
    };
    const commands = new Map<string, CommandEntry>([...Object.entries(registry), ['toy', { summary: 'a toy', load: async () => toy }]]);
    const script = join(dir, 'quiver.bash');
    writeFileSync(script, bashScript(await commandSpecs(commands)));
    assert.deepEqual(complete(script, 'quiver to'), ['toy']);
    assert.deepEqual(complete(script, 'quiver toy --sh'), ['--shiny']);
    assert.deepEqual(complete(script, 'quiver toy --mode '), ['fast', 'slow']);
    assert.deepEqual(complete(script, 'quiver toy --mode s'), ['slow']);
    // zsh names the same command and options.
    const zsh = zshScript(await commandSpecs(commands));
    assert.match(zsh, /'toy:a toy'/);
    assert.match(zsh, /toy\) _arguments -s --shiny'' --mode':mode:\(fast slow\)'/);
    // Names that are not plain words would be shell code: refused, not quoted by hope.
    const bad = new Map<string, CommandEntry>([['x;rm', { summary: 'a toy', load: async () => toy }]]);
    await assert.rejects(commandSpecs(bad), /not a plain word/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('zsh completion from `quiver completion zsh` loads in a real zsh and registers _quiver for quiver', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-completion-'));
  try {
    const out = quiver('completion', 'zsh');
    assert.equal(out.status, 0, out.stderr);
    const script = join(dir, '_quiver');
    writeFileSync(script, out.stdout);
    const syntax = spawnSync(shell('zsh'), ['-n', script], { encoding: 'utf8' });
    assert.equal(syntax.status, 0, syntax.stderr);
    const r = spawnSync('zsh', ['-f', '-c', `autoload -Uz compinit && compinit -u -d ${JSON.stringify(join(dir, 'zcompdump'))} && source ${JSON.stringify(script)} && print -r -- $_comps[quiver] && print -r -- \${+functions[_quiver]}`], { encoding: 'utf8', env: { ...process.env, HOME: dir } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(r.stdout.trim().split('\n'), ['_quiver', '1']);
    for (const name of Object.keys(registry)) assert.match(out.stdout, new RegExp(`'${name}:`), `${name} is offered`);
    assert.match(out.stdout, /report\) _arguments -s --out':out:_files'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('completion: one shell, bash or zsh', () => {
  for (const args of [[], ['fish'], ['bash', 'zsh']]) {
    const r = quiver('completion', ...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /completion takes one shell: bash or zsh/);
  }
});
