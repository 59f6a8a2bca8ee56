import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  RELEASE_SYNC,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';
import { API_VERSION } from './transformation-result';

export interface SandboxLimits {
  /** QuickJS heap of one run; the module's whole memory is capped at this plus BASE_BYTES. */
  memoryMb: number;
  timeoutMs: number;
  /** Largest JSON text of `result`, in UTF-8 bytes. */
  maxResultBytes: number;
}

/** How one run or compile ended. `broken`: the module failed and must not be used again. */
export type SandboxOutcome =
  { ok: true; value: unknown } | { ok: false; error: string; broken?: boolean };

const PAGE_BYTES = 65_536;
/** The module's own minimum memory (its data, stack and first heap): 256 pages. */
export const BASE_BYTES = 256 * PAGE_BYTES;
// QuickJS runs on the thread's native stack: a larger limit lets deep recursion in its C code
// (JSON.parse of deep nesting) overflow that stack before QuickJS notices.
const MAX_STACK_BYTES = 64 * 1024;
// Longest error text taken out of the sandbox.
const MAX_ERROR_CHARS = 2_000;
const INPUT = '__switchboardInput';
const FILENAME = 'transformation.js';

/**
 * Helpers made before any untrusted code runs, so that what the script changes in the global
 * scope (JSON, String.prototype, a getter on `result`) cannot change how they read. They are
 * reachable only through the host's handle.
 */
const HELPERS = `(() => {
  const global = globalThis, stringify = JSON.stringify, apply = Reflect.apply;
  const slice = String.prototype.slice, toString = String;
  const clip = (text) => apply(slice, text, [0, ${MAX_ERROR_CHARS}]);
  return {
    read() {
      const r = global.result;
      if (typeof r === 'string' || (typeof r === 'object' && r !== null)) {
        const text = stringify(r);
        if (typeof text === 'string') return text;
      }
      return 'null';
    },
    describe(e) {
      try {
        if (e === null) return null;
        if (typeof e === 'object' || typeof e === 'function') {
          const name = e.name, message = e.message;
          if (typeof message === 'string') {
            return clip((typeof name === 'string' ? name : 'Error') + ': ' + message);
          }
        }
        const text = stringify(e);
        return clip('Uncaught ' + (typeof text === 'string' ? text : toString(e)));
      } catch {
        return 'Uncaught exception that could not be described';
      }
    },
  };
})()`;
// hookshot's form: `data` is a global constant, HookshotApiVersion a global property.
const PRELUDE = `const data = JSON.parse(globalThis.${INPUT}); delete globalThis.${INPUT};`;

/**
 * The script as hookshot runs it: the body of an arrow function called at once, so a top-level
 * `return` ends it and its own declarations stay local; `result` is read from the global object.
 * The newlines let a body end in a line comment.
 */
export function wrapBody(code: string): string {
  return `(() => {\n${code}\n})();`;
}

let compiled: Promise<WebAssembly.Module> | undefined;

/** The QuickJS module, compiled once per process and shared with every runner. */
export function compileQuickJSModule(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    const fromLibrary = createRequire(require.resolve('quickjs-emscripten'));
    const path = fromLibrary.resolve('@jitl/quickjs-wasmfile-release-sync/wasm');
    return WebAssembly.compile(await readFile(path));
  })();
  return compiled;
}

class Failure extends Error {}

function broken(err: unknown): SandboxOutcome {
  return { ok: false, error: `The transformation runner failed: ${String(err)}`, broken: true };
}

/**
 * QuickJS with a fixed-size memory: the module's WebAssembly.Memory cannot grow past
 * BASE_BYTES + memoryMb, whatever QuickJS's own accounting misses (array buffers, string
 * growth). Every run gets a fresh runtime, so nothing a script does survives into the next.
 */
export class Sandbox {
  private constructor(
    private readonly quickjs: QuickJSWASMModule,
    private readonly memory: WebAssembly.Memory,
    private readonly limits: SandboxLimits,
  ) {}

  static async load(module: WebAssembly.Module, limits: SandboxLimits): Promise<Sandbox> {
    const maximum = (BASE_BYTES + limits.memoryMb * 1024 * 1024) / PAGE_BYTES;
    const memory = new WebAssembly.Memory({
      initial: BASE_BYTES / PAGE_BYTES,
      maximum: Math.ceil(maximum),
    });
    const variant = newVariant(RELEASE_SYNC, { wasmModule: module, wasmMemory: memory });
    return new Sandbox(await newQuickJSWASMModuleFromVariant(variant), memory, limits);
  }

  /** Bytes of the module's memory now; it never shrinks. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Checks the syntax without running anything. */
  compile(code: string): SandboxOutcome {
    return this.session((ctx, helpers) => {
      const compiled = ctx.evalCode(wrapBody(code), FILENAME, {
        type: 'global',
        compileOnly: true,
      });
      if (compiled.error) throw new Failure(this.describe(ctx, helpers, compiled.error));
      compiled.value.dispose();
      return null;
    });
  }

  /** Runs the script on the payload (JSON text); the value is what it left in `result`. */
  run(code: string, inputJson: string): SandboxOutcome {
    return this.session((ctx, helpers) => {
      const input = ctx.newString(inputJson);
      ctx.setProp(ctx.global, INPUT, input);
      input.dispose();
      const version = ctx.newString(API_VERSION);
      ctx.setProp(ctx.global, 'HookshotApiVersion', version);
      version.dispose();
      this.evaluate(ctx, helpers, PRELUDE);
      this.evaluate(ctx, helpers, wrapBody(code));
      const read = helpers.call('read');
      if (read.error) throw new Failure(this.describe(ctx, helpers, read.error));
      const text = this.takeString(ctx, read.value, this.limits.maxResultBytes);
      if (text === undefined || Buffer.byteLength(text) > this.limits.maxResultBytes) {
        throw new Failure(
          `Transformation result exceeds ${this.limits.maxResultBytes} bytes (as JSON)`,
        );
      }
      return JSON.parse(text) as unknown;
    });
  }

  private evaluate(ctx: QuickJSContext, helpers: Helpers, code: string): void {
    const result = ctx.evalCode(code, FILENAME, { type: 'global' });
    if (result.error) throw new Failure(this.describe(ctx, helpers, result.error));
    result.value.dispose();
  }

  /** A string handle's text if it has at most `maxChars` characters; disposes the handle. */
  private takeString(
    ctx: QuickJSContext,
    handle: QuickJSHandle,
    maxChars: number,
  ): string | undefined {
    try {
      if (ctx.typeof(handle) !== 'string') return undefined;
      // A string's length is read without running any script code.
      const length = ctx.getProp(handle, 'length');
      const chars = ctx.getNumber(length);
      length.dispose();
      return chars <= maxChars ? ctx.getString(handle) : undefined;
    } finally {
      handle.dispose();
    }
  }

  private describe(ctx: QuickJSContext, helpers: Helpers, error: QuickJSHandle): string {
    if (helpers.interrupted()) {
      error.dispose();
      return `Transformation function exceeded ${this.limits.timeoutMs} ms`;
    }
    const described = helpers.call('describe', error);
    error.dispose();
    if (described.error) {
      described.error.dispose();
      return helpers.interrupted()
        ? `Transformation function exceeded ${this.limits.timeoutMs} ms`
        : 'Uncaught exception that could not be described';
    }
    if (ctx.typeof(described.value) === 'object') {
      described.value.dispose();
      // QuickJS throws null when memory runs out before it can even make the error object.
      return `Transformation function threw null or ran out of its ${this.limits.memoryMb} MB of memory`;
    }
    return (
      this.takeString(ctx, described.value, MAX_ERROR_CHARS) ??
      'Uncaught exception that could not be described'
    );
  }

  private session(body: (ctx: QuickJSContext, helpers: Helpers) => unknown): SandboxOutcome {
    let interrupted = false;
    // The helpers are ours: the time limit starts once they exist.
    let deadline = Infinity;
    let runtime: QuickJSRuntime;
    try {
      runtime = this.quickjs.newRuntime();
    } catch (err) {
      return broken(err);
    }
    try {
      runtime.setMemoryLimit(this.limits.memoryMb * 1024 * 1024);
      runtime.setMaxStackSize(MAX_STACK_BYTES);
      runtime.setInterruptHandler(() => {
        if (Date.now() < deadline) return false;
        interrupted = true;
        return true;
      });
      const ctx = runtime.newContext();
      const made = ctx.evalCode(HELPERS, 'helpers.js', { type: 'global' });
      if (made.error) {
        made.error.dispose();
        ctx.dispose();
        throw new Failure('The transformation runner could not prepare a context');
      }
      const helpers = new Helpers(ctx, made.value, () => interrupted);
      deadline = Date.now() + this.limits.timeoutMs;
      try {
        return { ok: true, value: body(ctx, helpers) };
      } finally {
        helpers.dispose();
        ctx.dispose();
      }
    } catch (err) {
      if (err instanceof Failure) return { ok: false, error: err.message };
      // Not a script error: the module itself failed (native stack overflow, a trap); what
      // state it was left in is unknown.
      return broken(err);
    } finally {
      try {
        runtime.dispose();
      } catch {
        // A module that failed may not free cleanly; the runner is replaced anyway.
      }
    }
  }
}

/** Handles of the HELPERS functions in one context. */
class Helpers {
  private readonly functions = new Map<string, QuickJSHandle>();

  constructor(
    private readonly ctx: QuickJSContext,
    private readonly object: QuickJSHandle,
    readonly interrupted: () => boolean,
  ) {
    for (const name of ['read', 'describe']) this.functions.set(name, ctx.getProp(object, name));
  }

  call(name: 'read' | 'describe', ...args: QuickJSHandle[]) {
    return this.ctx.callFunction(this.functions.get(name)!, this.ctx.undefined, ...args);
  }

  dispose(): void {
    for (const handle of this.functions.values()) handle.dispose();
    this.object.dispose();
  }
}
