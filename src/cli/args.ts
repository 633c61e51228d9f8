import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

/** Options every command accepts. */
export const GLOBAL_OPTIONS = {
  store: { type: 'string' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export interface GlobalFlags {
  store: string;
  /** The store was named (--store or QUIVER_STORE), not the default. */
  storeGiven: boolean;
  json: boolean;
  debug: boolean;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses one command's arguments with node:util parseArgs (strict: an unknown option is a
 * UsageError naming it), merged with the global options. A negative number after an option
 * that takes a value is that value (`--limit -1`, `--from -1000`): parseArgs would take it
 * for an option and call the argument ambiguous.
 */
export function parseCommand<O extends Options>(args: string[], options: O) {
  const all: Options = { ...GLOBAL_OPTIONS, ...options };
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') { joined.push(...args.slice(i)); break; }
    const next = args[i + 1];
    const option = arg.startsWith('--') && !arg.includes('=') ? all[arg.slice(2)] : undefined;
    if (option?.type === 'string' && next !== undefined && /^-\d/.test(next)) { joined.push(`${arg}=${next}`); i++; continue; }
    joined.push(arg);
  }
  try {
    const parsed = parseArgs({ args: joined, options: all, allowPositionals: true, strict: true });
    return parsed as unknown as { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

export function globalFlags(values: Record<string, unknown>, env: NodeJS.ProcessEnv): GlobalFlags {
  const named = (values.store as string | undefined) ?? (env.QUIVER_STORE || undefined);
  return {
    store: named ?? './quiver-data',
    storeGiven: named !== undefined,
    json: values.json === true,
    debug: values.debug === true,
  };
}

export function stringOption(values: Record<string, unknown>, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function listOption(values: Record<string, unknown>, name: string): string[] | undefined {
  const value = stringOption(values, name);
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`--${name} needs a comma-separated list, got ${JSON.stringify(value)}`);
  return items;
}

export function intOption(values: Record<string, unknown>, name: string, min = 0): number | undefined {
  const value = stringOption(values, name);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${name} expects an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

export function choiceOption<T extends string>(values: Record<string, unknown>, name: string, choices: readonly T[], fallback: T): T {
  const value = stringOption(values, name);
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/** Refuses `--name` (given) with the reason it would be ignored. */
export function refuse(values: Record<string, unknown>, name: string, reason: string): void {
  if (values[name] !== undefined) throw new UsageError(`--${name} ${reason}`);
}

