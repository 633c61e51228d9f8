import { globalFlags, parseCommand } from './args.js';
import { CommandContext, type Command, type CommandEntry } from './context.js';
import { QuiverError, UsageError } from '../errors.js';
import { COMMANDS as REGISTRY } from './commands/index.js';
import { nativeStatus, nativeStatusLine, packageVersion } from './about.js';

/** Every command by name (src/cli/commands/index.ts: one line each); each module loads when its command runs. */
const COMMANDS: ReadonlyMap<string, CommandEntry> = new Map(Object.entries(REGISTRY));

const GLOBAL_HELP = `Global options:
  --store URL   where the tables live: a directory (default ./quiver-data, env QUIVER_STORE),
                file://…, s3://bucket/prefix?endpoint=…, az://container/prefix, gs://bucket/prefix
  --json        machine-readable output
  --debug       stack traces on errors; says whether the native addon or the JS twins are in use
  -h, --help    help
  --version     the version (with --debug: native addon or JS twins, and why)`;

function usage(): string {
  const width = Math.max(...[...COMMANDS.keys()].map((n) => n.length));
  const lines = [...COMMANDS].map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `quiver — an Arrow-based columnar storage engine for time series

Usage: quiver COMMAND [options]

Commands:
${lines.join('\n')}

${GLOBAL_HELP}

Run 'quiver COMMAND --help' for a command's options.`;
}

export interface MainIo {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
  /** A run the light CLI bundle handed over (bin/quiver.js): its `--debug` line was printed already. */
  handedOver?: boolean;
}

/**
 * Error listeners of the output streams, kept for the life of the stream: a reader that
 * goes away (`quiver scan … | head -2`) makes the next write fail with EPIPE, reported as an
 * 'error' event, possibly after the command has returned, and an 'error' event nobody
 * listens to kills the process. Each run of main() listens while it runs.
 */
const outputListeners = new WeakMap<NodeJS.WritableStream, Set<(error: Error) => void>>();

function watchOutput(stream: NodeJS.WritableStream, listener: (error: Error) => void): () => void {
  let listeners = outputListeners.get(stream);
  if (!listeners) {
    const set = new Set<(error: Error) => void>();
    outputListeners.set(stream, set);
    stream.on('error', (error: Error) => { for (const l of set) l(error); });
    listeners = set;
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** A write to a reader that went away (or to the stream closed because of it). */
function isClosedOutput(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

/**
 * Runs the CLI; returns the exit code: 0 ok, 1 failure (bad data, store errors, failed
 * verify), 2 usage error. Errors are one line, printed once; stack traces only with
 * --debug. When the reader of stdout goes away (a closed pipe), the command stops quietly
 * with exit code 0, like other command-line tools.
 */
export async function main(argv: string[], io: MainIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  const debug = argv.includes('--debug');
  // Global options may come before the command (`quiver --store s3://b/p tables`): move them after it.
  const leading: string[] = [];
  let at = 0;
  while (at < argv.length) {
    const a = argv[at]!;
    if (a === '--json' || a === '--debug') { leading.push(a); at++; continue; }
    if (a === '--store' && at + 1 < argv.length) { leading.push(a, argv[at + 1]!); at += 2; continue; }
    if (a.startsWith('--store=')) { leading.push(a); at++; continue; }
    break;
  }
  const [name, ...afterName] = argv.slice(at);
  const rest = [...afterName, ...leading];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    const extra = argv.slice(at + 1).filter((a) => a !== '--debug' && a !== '--json');
    if (extra.length > 0) {
      stderr.write(`quiver: --version takes only --debug and --json, got ${extra.join(' ')}\n`);
      return 2;
    }
    if (argv.includes('--json')) {
      const { native, reason } = nativeStatus();
      stdout.write(`${JSON.stringify({ version: packageVersion(), native, ...(reason !== undefined ? { nativeReason: reason } : {}) })}\n`);
    } else {
      stdout.write(`quiver ${packageVersion()}\n`);
      if (debug) stdout.write(`${nativeStatusLine()}\n`);
    }
    return 0;
  }
  const entry = COMMANDS.get(name);
  if (!entry) {
    stderr.write(`quiver: unknown command ${JSON.stringify(name)} (commands: ${[...COMMANDS.keys()].join(', ')})\n`);
    return 2;
  }
  let ctx: CommandContext | undefined;
  let outputGone = false;
  let outputError: Error | undefined;
  const onOutputError = (error: Error) => {
    if (isClosedOutput(error)) { outputGone = true; ctx?.outputClosed(); } else outputError ??= error;
  };
  // Scan and query rows go to process.stdout (src/cli/output.ts), whatever io.stdout is.
  const unwatch = [...new Set([stdout, process.stdout])].map((s) => watchOutput(s, onOutputError));
  unwatch.push(watchOutput(stderr, () => {}));
  let code = 0;
  let failure: unknown;
  let fullCli: unknown;
  try {
    const command: Command = await entry.load();
    const { values, positionals } = parseCommand(rest, command.options);
    if (values.help) {
      stdout.write(`${command.usage}\n\n${GLOBAL_HELP}\n`);
      return 0;
    }
    if (debug && !io.handedOver) stderr.write(`quiver: ${nativeStatusLine()}\n`);
    ctx = new CommandContext(globalFlags(values, env), stdout, stderr, COMMANDS);
    code = await command.run(ctx, values, positionals);
    if (outputError) { failure = outputError; code = report(outputError, stderr, debug, name); }
  } catch (error) {
    failure = error;
    // The light CLI bundle lacks a module this run needs (scripts/bundle-cli.mjs): bin/quiver.js
    // runs the full bundle with the same arguments. The light commands import what the light
    // bundle leaves out before they print anything.
    if ((error as { code?: unknown })?.code === 'QUIVER_FULL_CLI') fullCli = error;
    // The reader went away: what failed is the writing (EPIPE) or the scan we cancelled.
    else code = outputGone && (isClosedOutput(error) || (error as Error)?.name === 'AbortError') ? 0 : report(error, stderr, debug, name);
  } finally {
    try {
      await ctx?.close();
    } catch (error) {
      // One line per failure: the command's own error was reported already.
      if (failure === undefined || (error as Error)?.message !== (failure as Error)?.message) {
        const closeCode = report(error, stderr, debug, name);
        if (code === 0) code = closeCode;
      }
    }
    for (const stop of unwatch) stop();
  }
  if (fullCli !== undefined) throw fullCli;
  return code;
}

function report(error: unknown, stderr: NodeJS.WritableStream, debug: boolean, command: string): number {
  const err = error as Error;
  const message = (err?.message ?? String(error)).split('\n')[0];
  if (error instanceof UsageError) {
    stderr.write(`quiver ${command}: ${message}\n(see 'quiver ${command} --help')\n`);
    if (debug) stderr.write(`${err.stack}\n`);
    return 2;
  }
  const kind = error instanceof QuiverError ? '' : `${err?.name ?? 'Error'}: `;
  stderr.write(`quiver ${command}: ${kind}${message}\n`);
  if (debug && err?.stack) stderr.write(`${err.stack}\n`);
  return 1;
}
