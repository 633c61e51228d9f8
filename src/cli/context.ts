import type { GlobalFlags } from './args.js';
import { toJson } from './output.js';
import { Quiver } from '../quiver.js';

/** What every command gets: parsed global flags, output, and the store opened lazily. */
export class CommandContext {
  private db?: Promise<Quiver>;
  private opened?: Quiver;
  private readonly abort = new AbortController();

  /** `commands`: the registry (for commands that describe the others: completion). */
  constructor(readonly flags: GlobalFlags, readonly stdout: NodeJS.WritableStream, readonly stderr: NodeJS.WritableStream,
    readonly commands: ReadonlyMap<string, Command> = new Map()) {}

  /** The store named by --store / QUIVER_STORE / ./quiver-data. */
  open(): Promise<Quiver> {
    this.db ??= Quiver.open(this.flags.store).then((db) => (this.opened = db));
    return this.db;
  }

  /**
   * Aborted when the reader of stdout went away (a closed pipe: `quiver scan … | head`):
   * commands pass it to scans and queries so they stop reading.
   */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Called by main when stdout's reader is gone. */
  outputClosed(): void {
    this.abort.abort();
  }

  print(text: string): void {
    this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Prints `value` as JSON under --json, else the human rendering. */
  emit(value: unknown, human: () => string): void {
    this.print(this.flags.json ? toJson(value) : human());
  }

  /** Progress and notes go to stderr so stdout stays machine-readable. */
  note(text: string): void {
    this.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Closes the store if it was opened (a store that failed to open was reported already). */
  async close(): Promise<void> {
    await this.opened?.close();
  }
}

export interface Command {
  /** One line for `quiver --help`. */
  summary: string;
  /** Full usage text for `quiver CMD --help`. */
  usage: string;
  options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;
  /**
   * Words the shell completion offers (`quiver completion`): for the first positional
   * argument and for option values. Without them it offers file names.
   */
  completions?: { positional?: readonly string[]; values?: Readonly<Record<string, readonly string[]>> };
  run(ctx: CommandContext, values: Record<string, string | boolean | string[] | undefined>, positionals: string[]): Promise<number>;
}
