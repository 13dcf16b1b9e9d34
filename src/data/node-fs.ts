// Node-only file helpers for the dataset constructors. `node:*` modules are imported lazily so
// that browser bundles which never call these functions do not pull them in. Not exported from
// the package.
import { assertNodeFs, importNode } from '../core/runtime.js';

/** `node:fs/promises`, loaded on first use. */
export async function fsp(): Promise<typeof import('node:fs/promises')> {
  assertNodeFs('This dataset loader');
  return importNode<typeof import('node:fs/promises')>('fs/promises');
}

/** `node:path`, loaded on first use. */
export async function nodePath(): Promise<typeof import('node:path')> {
  assertNodeFs('This dataset loader');
  return importNode<typeof import('node:path')>('path');
}

/** True when `path` exists (file or directory). */
export async function exists(path: string): Promise<boolean> {
  try {
    await (await fsp()).stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The directory of this module when the runtime tells it (CommonJS builds, vitest), else undefined. */
function moduleDir(): string | undefined {
  return typeof __dirname === 'string' ? __dirname : undefined;
}

/**
 * Directories to search for files that ship next to medvae (e.g. `data/colin27-slices`): the
 * current directory and its parents, and, when known, this module's directory and its parents.
 */
export async function searchRoots(): Promise<string[]> {
  const path = await nodePath();
  const roots: string[] = [];
  const add = (start: string): void => {
    let dir = path.resolve(start);
    for (;;) {
      if (!roots.includes(dir)) roots.push(dir);
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  };
  const here = moduleDir();
  if (here) add(here);
  if (typeof process !== 'undefined' && typeof process.cwd === 'function') add(process.cwd());
  return roots;
}

/**
 * The first existing `root/rel` or `root/node_modules/medvae/rel` over {@link searchRoots}, or
 * undefined.
 */
export async function findShipped(rel: string): Promise<string | undefined> {
  const path = await nodePath();
  for (const root of await searchRoots()) {
    for (const candidate of [path.join(root, rel), path.join(root, 'node_modules', 'medvae', rel)]) {
      if (await exists(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Resolves an installed package's directory from this module or the current directory, or undefined. */
export async function packageDir(name: string): Promise<string | undefined> {
  const { createRequire } = await importNode<typeof import('node:module')>('module');
  const path = await nodePath();
  const from = [moduleDir(), typeof process !== 'undefined' ? process.cwd() : undefined].filter((d): d is string => d !== undefined);
  for (const dir of from) {
    try {
      return path.dirname(createRequire(path.join(dir, 'noop.js')).resolve(`${name}/package.json`));
    } catch {
      // Not resolvable from here; try the next place.
    }
  }
  return undefined;
}

/**
 * Files under `dir`, recursively, sorted by path (as `os.walk` + `sorted` would list them), whose
 * lower-cased name ends with one of `extensions`.
 */
export async function listFiles(dir: string, extensions: readonly string[]): Promise<string[]> {
  const fs = await fsp();
  const path = await nodePath();
  const exts = extensions.map((e) => e.toLowerCase());
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = (await fs.readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (exts.some((x) => e.name.toLowerCase().endsWith(x))) out.push(full);
    }
  };
  await walk(dir);
  return out;
}
