// Fault injection for file-system tests: wraps the mutating functions of Node's `fs/promises` (the
// module medvae's I/O imports) so that a test can make the n-th write fail with an errno, or freeze
// it and every later one, which leaves the disk exactly as a `kill -9` at that moment would.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { execFileSync } from 'node:child_process';

const require = createRequire(import.meta.url);
type Fn = (...args: unknown[]) => Promise<unknown>;
const fsp = require('node:fs/promises') as Record<string, Fn>;

const MUTATORS = ['writeFile', 'appendFile', 'rename', 'rm', 'rmdir', 'unlink', 'mkdir', 'open', 'link', 'cp', 'copyFile'];

/** What to do with one mutating call: run it, fail it with this error, or freeze from here on. */
export type FaultAction = 'run' | 'freeze' | Error;

/** A mutating file-system call, as the injector saw it. */
export interface FsCall {
  op: string;
  path: string;
  /** 1-based count of mutating calls since the injection began. */
  n: number;
}

/** An active injection: the calls seen so far, whether it froze, and how to remove it. */
export interface FaultInjection {
  calls: FsCall[];
  /** Resolves when the first call freezes. */
  frozen: Promise<void>;
  restore(): void;
}

/** A Node-style system error with `code`, as `fs` throws them. */
export function errnoError(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: injected fault, '${path}'`), { code, path });
}

function isMutatingOpen(args: unknown[]): boolean {
  const flags = args[1];
  return typeof flags === 'string' ? /[wax+]/.test(flags) : typeof flags === 'number' ? flags !== 0 : false;
}

/** Starts injecting: `decide` is asked about every mutating call (opening a file only to read is not one). */
export function injectFsFaults(decide: (call: FsCall) => FaultAction): FaultInjection {
  const originals: Record<string, Fn> = {};
  const calls: FsCall[] = [];
  let frozen = false;
  let onFreeze: () => void = () => undefined;
  const frozenPromise = new Promise<void>((resolve) => {
    onFreeze = resolve;
  });
  for (const name of MUTATORS) {
    const original = fsp[name];
    originals[name] = original;
    fsp[name] = async (...args: unknown[]) => {
      if (name === 'open' && !isMutatingOpen(args)) return frozen ? new Promise(() => undefined) : original(...args);
      if (frozen) return new Promise(() => undefined);
      const call: FsCall = { op: name, path: String(args[0]), n: calls.length + 1 };
      calls.push(call);
      const action = decide(call);
      if (action === 'freeze') {
        frozen = true;
        onFreeze();
        return new Promise(() => undefined);
      }
      if (action instanceof Error) throw action;
      return original(...args);
    };
  }
  syncBuiltinESMExports();
  return {
    calls,
    frozen: frozenPromise,
    restore() {
      for (const [name, fn] of Object.entries(originals)) fsp[name] = fn;
      syncBuiltinESMExports();
    },
  };
}

/**
 * Mounts a tmpfs of `sizeKb` KiB (read-only when `readOnly`) at `dir`, returning an unmount
 * function, or a reason string when mounting is not possible here (not root, no mount permission).
 */
export function tryMountTmpfs(dir: string, sizeKb: number, readOnly = false): (() => void) | string {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k${readOnly ? ',ro' : ''}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    return `cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]})`;
  }
  return () => execFileSync('umount', [dir], { stdio: 'pipe' });
}
