import type * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import { Module } from '../core/module.js';
import { loadModelAs, saveModel, type ModelClass } from './saved-model.js';

/**
 * A {@link Module} that saves itself by name: every medvae model extends it, and a user's model
 * can too. A subclass
 * - declares `static override readonly modelName = 'MyNet'`: the name `model.json` records, given
 *   as a string because minifiers rename classes (`constructor.name` would read `Xe`);
 * - holds its options, defaults filled in, as plain JSON in `config` (what `save` records);
 * - has a `static fromConfig(config)` that checks a saved config and builds the model (see
 *   `ModelClass`), so that `registerModel('MyNet', MyNet)` lets `loadModel(path)` rebuild it.
 *
 * `save(target)` writes `config` and the weights with {@link saveModel}; `MyNet.load(target)` reads
 * them back as a `MyNet`.
 */
export abstract class SavableModel<In = tf.Tensor, Out = tf.Tensor> extends Module<In, Out> {
  /** The class name saves record. Each subclass declares its own; the base has none. */
  static readonly modelName: string = '';

  /**
   * Loads a model of this class written by `save` (see {@link loadModelAs}): `VAE.load(dir)` gives a
   * `VAE`, rebuilt with the class's `fromConfig`. `loadModel(dir)` does the same for whichever class
   * the save names.
   */
  static async load<M extends SavableModel<unknown, unknown>>(this: ModelClass<M> & { readonly modelName: string }, source: string): Promise<M> {
    return loadModelAs(source, this.modelName, this);
  }

  /** The model's options with defaults filled in (no seed), as plain JSON: what `save` records and `fromConfig` reads back. */
  abstract get config(): object;

  /** The config `save` writes; `config` unless a model saves more (e.g. the VAE inside a classifier). */
  protected savedConfig(): Record<string, unknown> {
    return { ...this.config };
  }

  /**
   * Saves config and weights (see {@link saveModel}) to a directory (Node, replaced atomically) or
   * a tfjs IO URL (`indexeddb://`, `localstorage://`, `downloads://`, `http(s)://`).
   */
  async save(target: string): Promise<void> {
    await saveModel(this, target, { className: modelNameOf(this), config: this.savedConfig() });
  }
}

/** The `modelName` a model's class declares (inherited names count: a subclass saves as its parent unless it names itself). */
export function modelNameOf(model: object): string {
  const name: unknown = (model.constructor as { modelName?: unknown }).modelName;
  if (typeof name !== 'string' || name === '') {
    throw new ValueError(
      `${model.constructor.name} cannot be saved by name: its class declares no modelName. Add \`static override readonly modelName = '${model.constructor.name}'\` ` +
        '(a string, so minified bundles keep it) and register the class with registerModel so loadModel can rebuild it.',
    );
  }
  return name;
}
