// Internal (not re-exported): guards for the few Node-only code paths (file-system paths).
import { MedvaeError } from './errors.js';

/** True under Node.js (not in a browser, a web worker or Deno without Node compatibility). */
export function hasNodeFs(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

/**
 * Throws a readable error when a file-system path is used outside Node. In a browser bundle,
 * `import('node:fs/promises')` does not fail by itself (bundlers replace it with a stub that only
 * throws when a member is used, with the bundler's own message), so the check must come first.
 */
export function assertNodeFs(what: string): void {
  if (!hasNodeFs()) {
    throw new MedvaeError(
      `${what} reads or writes file-system paths, which only works in Node.js. In a browser, pass the file's bytes ` +
        "(new Uint8Array(await file.arrayBuffer())) to the reader, or a tfjs IO URL (http(s)://, indexeddb://name) to save/load.",
    );
  }
}

/**
 * Imports a Node built-in (`importNode('fs/promises')` is `import('node:fs/promises')`). The
 * specifier is built at run time so that browser bundlers neither fail on it (esbuild with
 * `--platform=browser`) nor warn about it (Vite); callers only reach it in Node (see
 * {@link assertNodeFs}).
 */
export function importNode<T>(name: string): Promise<T> {
  const specifier = `node:${name}`;
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<T>;
}
