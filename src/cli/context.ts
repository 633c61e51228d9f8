import type { GlobalFlags } from './args.js';
import { toJson } from './json.js';
import type { Quiver, QuiverOptions } from '../quiver.js';
import type { Catalog } from '../table/catalog.js';
import type { ChunkManager } from '../chunk-manager/chunk-manager.js';

/** What every command gets: parsed global flags, output, and the store opened lazily. */
export class CommandContext {
  private store?: Promise<ChunkManager>;
  private storeOpened?: ChunkManager;
  private db?: Promise<Quiver>;
  private opened?: Quiver;
  private readonly abort = new AbortController();

  /** `commands`: the registry (for commands that describe the others: completion). */
  constructor(readonly flags: GlobalFlags, readonly stdout: NodeJS.WritableStream, readonly stderr: NodeJS.WritableStream,
    readonly commands: ReadonlyMap<string, CommandEntry> = new Map()) {}

  /**
   * The store named by --store / QUIVER_STORE / ./quiver-data, as a Quiver (which loads the
   * whole engine: Arrow, codecs, decoders; imported here, when a command first asks).
   * `options` apply when this call opens it: one-shot reads (scan, query) pass
   * `decodedCacheBytes: 0`, since a process that exits after one read gains nothing from
   * keeping its decoded pages (and decoding into the reusable buffer pool needs no cache).
   */
  open(options: QuiverOptions = {}): Promise<Quiver> {
    this.db ??= Promise.all([import('../quiver.js'), this.openStore()]).then(([{ Quiver }, store]) => Quiver.open(store, options)).then((db) => (this.opened = db));
    return this.db;
  }

  /**
   * The same store read-only through its manifests alone (src/table/catalog.ts): for commands
   * that list and describe tables, so they start without loading the engine.
   */
  async catalog(): Promise<Catalog> {
    const [{ Catalog }, store] = await Promise.all([import('../table/catalog.js'), this.openStore()]);
    return new Catalog(store);
  }

  private openStore(): Promise<ChunkManager> {
    this.store ??= import('../chunk-manager/url.js').then(({ openStore }) => openStore(this.flags.store)).then((s) => (this.storeOpened = s));
    return this.store;
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
    // A Quiver closes its store; a store opened only for the catalog (or for a Quiver that failed to open) is closed here.
    if (this.opened) await this.opened.close();
    else await this.storeOpened?.close();
  }
}

/**
 * A command as the registry (src/cli/commands/index.ts) lists it: its one line for `quiver
 * --help`, and its module, loaded when the command runs or its usage is asked.
 */
export interface CommandEntry {
  summary: string;
  load(): Promise<Command>;
}

/** A command's module (its one-line summary is its registry entry's). */
export interface Command {
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
