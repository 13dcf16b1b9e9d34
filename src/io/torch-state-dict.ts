import * as tf from '@tensorflow/tfjs-core';
import type { AnyModule, LoadStateDictResult, StateDict } from '../core/module.js';
import { StateDictError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';

/** How medvae names map to PyTorch names: a table (medvae → torch) or a function. Unlisted names map to themselves. */
export type TorchNameMap = Record<string, string> | ((medvaeName: string) => string);

/** Options of {@link loadTorchStateDict}. */
export interface TorchImportOptions {
  /** Renames from medvae keys to the PyTorch keys to read them from. */
  nameMap?: TorchNameMap;
  /** Require every medvae key to be found and every PyTorch key to be used (default true). */
  strict?: boolean;
}

function mapName(map: TorchNameMap | undefined, name: string): string {
  if (map === undefined) return name;
  return typeof map === 'function' ? map(name) : map[name] ?? name;
}

/** Finds the module that owns a dotted state-dict key and the key's local name there. */
function owner(module: AnyModule, key: string): { mod: AnyModule; local: string } {
  const modules = new Map(module.namedModules());
  const dot = key.lastIndexOf('.');
  const path = dot < 0 ? '' : key.slice(0, dot);
  return { mod: modules.get(path) ?? module, local: key.slice(dot + 1) };
}

function inverse(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/**
 * Loads a PyTorch state dict (NCHW layouts: conv weights `[out, in, kh, kw]`, linear `[out, in]`) into
 * a medvae module (NHWC layouts), transposing each tensor as the owning layer declares through
 * {@link Module.torchLayout} and casting to the module's dtype (e.g. int64 `num_batches_tracked`).
 * Typically fed from {@link loadSafetensors}.
 *
 * @throws {@link StateDictError} naming missing/unexpected keys and shape mismatches (after layout conversion).
 */
export function loadTorchStateDict(module: AnyModule, torchTensors: StateDict, options: TorchImportOptions = {}): LoadStateDictResult {
  const strict = options.strict ?? true;
  const own = module.stateDict();
  const converted: StateDict = {};
  const used = new Set<string>();
  const problems: string[] = [];
  try {
    for (const [key, target] of Object.entries(own)) {
      const torchKey = mapName(options.nameMap, key);
      const source = torchTensors[torchKey];
      if (source === undefined) continue;
      used.add(torchKey);
      const { mod, local } = owner(module, key);
      const perm = mod.torchLayout(local);
      if (perm && source.rank !== perm.length) {
        problems.push(`${key} (torch '${torchKey}'): expected rank ${perm.length} in PyTorch layout, got shape ${formatShape(source.shape)}`);
        continue;
      }
      converted[key] = tf.tidy(() => {
        const t = perm ? tf.transpose(source, perm.slice()) : source.clone();
        return t.dtype === target.dtype ? t : tf.cast(t, target.dtype);
      });
    }
    if (problems.length > 0) throw new StateDictError(`Cannot load PyTorch state dict into ${module.constructor.name}:\n  - ${problems.join('\n  - ')}`);
    const unexpected = Object.keys(torchTensors).filter((k) => !used.has(k));
    if (strict && unexpected.length > 0) {
      throw new StateDictError(
        `Cannot load PyTorch state dict into ${module.constructor.name}: unexpected keys: ${unexpected.join(', ')}. ` +
          'Map them with the nameMap option or pass { strict: false }.',
      );
    }
    const result = module.loadStateDict(converted, { strict });
    return { missingKeys: result.missingKeys, unexpectedKeys: unexpected };
  } finally {
    tf.dispose(Object.values(converted));
  }
}

/**
 * The module's state in PyTorch layouts and names (the inverse of {@link loadTorchStateDict}),
 * ready for {@link saveSafetensors}. The caller owns the returned tensors.
 */
export function toTorchStateDict(module: AnyModule, options: { nameMap?: TorchNameMap } = {}): StateDict {
  const out: StateDict = {};
  for (const [key, t] of Object.entries(module.stateDict())) {
    const { mod, local } = owner(module, key);
    const perm = mod.torchLayout(local);
    out[mapName(options.nameMap, key)] = perm ? tf.transpose(t, inverse(perm)) : t.clone();
  }
  return out;
}
