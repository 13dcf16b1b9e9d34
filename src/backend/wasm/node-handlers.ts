// In Node, the Emscripten glue of tfjs-backend-wasm (`tf-backend-wasm.node.js`) adds two process
// handlers while the wasm module starts:
//   process.on('uncaughtException', (ex) => { if (!(ex instanceof ExitStatus)) throw ex; })
//   process.on('unhandledRejection', (reason) => { throw reason; })
// They take over the app's error reporting: every uncaught error is re-thrown from inside the glue
// (the crash report's first line points into tf-backend-wasm.node.js and prints its minified
// source), and an error thrown while Node handles another one can lose its message entirely (a
// RangeError from `Math.max(...new Float32Array(600000))` printed as `undefined`). medvae removes
// exactly these two functions, recognised by their source text, so Node reports errors itself.

type Listener = (...args: unknown[]) => void;

interface ProcessLike {
  listeners(event: string): Listener[];
  removeListener(event: string, listener: Listener): unknown;
}

/** Whitespace-free source of a function, to compare against the glue's handlers. */
const squash = (f: Listener): string => Function.prototype.toString.call(f).replace(/\s+/g, '');

/** The glue's `uncaughtException` handler: re-throws everything but Emscripten's own ExitStatus. */
const isGlueUncaught = (f: Listener): boolean => /^function\((\w+)\)\{if\(!\(\1instanceofExitStatus\)\)\{?throw\1;?\}?\}$/.test(squash(f));
/** The glue's `unhandledRejection` handler: re-throws the reason. */
const isGlueRejection = (f: Listener): boolean => /^function\((\w+)\)\{throw\1;?\}$/.test(squash(f));

/**
 * Removes the `uncaughtException` and `unhandledRejection` handlers that tfjs-backend-wasm's
 * Emscripten glue installs in Node (and nothing else), so that an app's uncaught errors are
 * reported by Node with their own message and stack. {@link useBackend}('wasm') and
 * {@link registerWasmTrainingKernels} call it once the backend has started; calling it again,
 * or outside Node, does nothing.
 *
 * @returns how many handlers were removed.
 */
export function removeWasmGlueProcessHandlers(): number {
  const proc = (globalThis as { process?: Partial<ProcessLike> }).process;
  if (typeof proc?.listeners !== 'function' || typeof proc.removeListener !== 'function') return 0;
  const p = proc as ProcessLike;
  // The ExitStatus test is Emscripten's alone; a bare re-throwing rejection handler is only taken
  // for the glue's when the glue's exception handler is there too.
  const uncaught = p.listeners('uncaughtException').filter(isGlueUncaught);
  if (uncaught.length === 0) return 0;
  const rejection = p.listeners('unhandledRejection').filter(isGlueRejection);
  for (const listener of uncaught) p.removeListener('uncaughtException', listener);
  for (const listener of rejection) p.removeListener('unhandledRejection', listener);
  return uncaught.length + rejection.length;
}
