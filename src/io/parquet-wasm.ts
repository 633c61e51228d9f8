/**
 * parquet-wasm instances that a panic cannot take the process down with, and that are never
 * used again after one.
 *
 * parquet-wasm is Rust compiled with panic=abort: a damaged file can make the decoder panic,
 * which is a WebAssembly trap (`RuntimeError: unreachable`). After a trap the instance's
 * state is undefined (its shadow stack pointer was never restored, RefCells stay borrowed,
 * an allocation may be half done), so the instance must be dropped. Worse, the async
 * readers run Rust futures from JS callbacks (queueMicrotask, promise reactions): a trap
 * there is an uncaught exception that kills the process, and the promise our code awaits
 * never settles.
 *
 * parquet-wasm's Node glue (wasm-bindgen's CommonJS output) instantiates the module once,
 * at load, and offers no way to make a second instance. So the glue is evaluated here, as
 * the CommonJS loader would, once per instance, with two hooks:
 * - every Rust closure handed to JS (wasm-bindgen's `makeMutClosure`) is wrapped so that a
 *   trap inside it marks the instance dead instead of escaping to the event loop;
 * - its FinalizationRegistry frees nothing once the instance is dead (the whole memory goes
 *   with it, and freeing into a trapped instance could trap again in a finalizer).
 * `settle()` races every promise of the instance against its death, and `call()` marks it
 * dead when a synchronous call traps. `parquetWasm()` returns the live instance, making a
 * fresh one after a trap (from the compiled module, which is kept: instantiating it again
 * takes milliseconds).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

export type ParquetWasmModule = typeof import('parquet-wasm/node');

/** WebAssembly's RuntimeError (a trap), not in this project's TypeScript lib. */
const WasmRuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: abstract new () => Error } }).WebAssembly.RuntimeError;

/** True for a WebAssembly trap (a Rust panic under panic=abort shows as `unreachable`). */
export function isWasmTrap(error: unknown): error is Error {
  return error instanceof WasmRuntimeError;
}

/** The wasm-bindgen function every Rust closure given to JS passes through (hooked). */
const CLOSURE_HOOK_SITE = 'function makeMutClosure(arg0, arg1, f) {';

export class ParquetWasm {
  /** The trap that killed this instance. */
  dead?: Error;
  private readonly died: Promise<never>;
  private kill!: (error: Error) => void;

  constructor(readonly module: ParquetWasmModule) {
    this.died = new Promise<never>((_, reject) => {
      this.kill = (error) => {
        if (this.dead) return;
        this.dead = error;
        if (current === this) current = undefined;
        reject(error);
      };
    });
    this.died.catch(() => undefined);
  }

  /** Marks the instance dead when `error` is a WebAssembly trap; returns the error. */
  noteError(error: unknown): unknown {
    if (isWasmTrap(error)) this.kill(error);
    return error;
  }

  /** `promise`, or the trap that kills the instance meanwhile (its promises then never settle). */
  settle<T>(promise: Promise<T>): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    return Promise.race([promise, this.died]).catch((error: unknown) => { throw this.noteError(error); });
  }

  /** A synchronous call into the instance; a trap marks it dead. */
  call<T>(step: () => T): T {
    if (this.dead) throw this.dead;
    try {
      return step();
    } catch (error) {
      throw this.noteError(error);
    }
  }

  /** Called by the glue's hooks. */
  trapped(error: Error): void {
    this.kill(error);
  }
}

let current: ParquetWasm | undefined;
let glue: { path: string; source: string } | undefined;
/** The compiled module, shared by every instance (compiling takes 0.1–0.3 s). */
let compiled: object | undefined;
type WasmNamespace = { Module: new (bytes: Uint8Array) => object };
const wasmNamespace = (globalThis as unknown as { WebAssembly: WasmNamespace }).WebAssembly;
/** WebAssembly as the glue sees it: `new WebAssembly.Module(bytes)` compiles once. */
const cachingWasm = Object.create(wasmNamespace, {
  Module: { value: function Module(bytes: Uint8Array) { return (compiled ??= new wasmNamespace.Module(bytes)); } },
}) as WasmNamespace;

/** The live parquet-wasm instance (a new one after a trap killed the last). */
export function parquetWasm(): ParquetWasm {
  if (current) return current;
  const require = createRequire(import.meta.url);
  if (!glue) {
    const path = require.resolve('parquet-wasm/node');
    const source = readFileSync(path, 'utf8');
    if (source.split(CLOSURE_HOOK_SITE).length !== 2) throw new Error(`parquet-wasm's glue (${path}) no longer has ${CLOSURE_HOOK_SITE}: update src/io/parquet-wasm.ts`);
    glue = { path, source: source.replace(CLOSURE_HOOK_SITE, `${CLOSURE_HOOK_SITE}\n  f = __quiverGuard(f);`) };
  }
  const exports = {} as ParquetWasmModule;
  const module = { exports };
  let instance: ParquetWasm | undefined;
  const trapped = (error: unknown) => instance?.trapped(error as Error);
  const guard = (f: (...args: unknown[]) => unknown) => (...args: unknown[]) => {
    try {
      return f(...args);
    } catch (error) {
      if (!isWasmTrap(error)) throw error;
      trapped(error);
      return undefined;
    }
  };
  class GuardedRegistry<T> extends FinalizationRegistry<T> {
    constructor(cleanup: (held: T) => void) {
      super((held) => {
        if (instance?.dead) return;
        try { cleanup(held); } catch (error) { trapped(error); }
      });
    }
  }
  const evaluate = new Function('exports', 'require', 'module', '__filename', '__dirname', '__quiverGuard', 'FinalizationRegistry', 'WebAssembly', glue.source);
  evaluate(exports, createRequire(glue.path), module, glue.path, dirname(glue.path), guard, GuardedRegistry, cachingWasm);
  instance = new ParquetWasm(module.exports);
  current = instance;
  return instance;
}
