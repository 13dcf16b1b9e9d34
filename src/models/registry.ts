import * as tf from '@tensorflow/tfjs-core';
import { ValueError } from '../core/errors.js';
import type { AnyModule } from '../core/module.js';
import { ConfigError } from '../io/config-schema.js';
import { loadSavedModel, rebuildSavedModel, type ModelClass } from '../io/saved-model.js';
import { AdversarialSegmenter } from './adversarial-segmenter.js';
import { DCGAN } from './dcgan/dcgan.js';
import { DDPM } from './ddpm/ddpm.js';
import { LatentClassifier } from './latent-classifier.js';
import { UNetSegmenter } from './unet-segmenter.js';
import { VAEGAN } from './vae-gan.js';
import { VAE } from './vae.js';

/** A save names a model class (its `className`) that neither medvae nor a `registerModel` call knows. */
export class UnknownModelError extends ConfigError {
  static override readonly errorName: string = 'UnknownModelError';

  /** @param className - the class name the save records. */
  constructor(message: string, readonly className: string) {
    super(message, 'className');
  }
}

// Keys are the names saves record (each class's modelName), written out so that minified bundles,
// which rename classes, still find them. A plain table rather than registrations run on import, so
// bundlers that drop side-effect-only code keep it.
const BUILT_IN: Readonly<Record<string, ModelClass>> = {
  [UNetSegmenter.modelName]: UNetSegmenter,
  [AdversarialSegmenter.modelName]: AdversarialSegmenter,
  [VAE.modelName]: VAE,
  [VAEGAN.modelName]: VAEGAN,
  [LatentClassifier.modelName]: LatentClassifier,
  [DCGAN.modelName]: DCGAN,
  [DDPM.modelName]: DDPM,
};

const userModels = new Map<string, ModelClass>();

/**
 * Makes `loadModel` rebuild saves whose `className` is `name` with `cls.fromConfig`. For a user's
 * own model class (a {@link SavableModel} subclass, or any Module saved with `saveModel(model,
 * dir, { className: name, config })`); give the name as a string, not `MyNet.name`, since
 * minifiers rename classes. Registering the same class again is a no-op.
 *
 * @throws {@link ValueError} when `name` is a built-in model's or already names another class.
 *
 * A complete example (a class, its config schema, save and load) is in docs/guides/saving-models.md.
 */
export function registerModel(name: string, cls: ModelClass): void {
  if (typeof name !== 'string' || name === '') throw new ValueError(`registerModel needs a non-empty class name, but got ${JSON.stringify(name)}.`);
  if (typeof (cls as Partial<ModelClass> | null)?.fromConfig !== 'function') {
    throw new ValueError(`registerModel('${name}', …) needs a class with a static fromConfig(config) method that builds the model from its saved config.`);
  }
  const existing = BUILT_IN[name] ?? userModels.get(name);
  if (existing === cls) return;
  if (Object.prototype.hasOwnProperty.call(BUILT_IN, name)) throw new ValueError(`'${name}' is a built-in medvae model; register your class under another name.`);
  if (existing !== undefined) throw new ValueError(`'${name}' is already registered for another class; choose another name, or call unregisterModel('${name}') first.`);
  userModels.set(name, cls);
}

/** Removes a class registered with {@link registerModel} (built-in models stay). Returns whether one was removed. */
export function unregisterModel(name: string): boolean {
  return userModels.delete(name);
}

/** The class names {@link loadModel} can rebuild: medvae's models, then the registered ones. */
export function registeredModels(): string[] {
  return [...Object.keys(BUILT_IN), ...userModels.keys()];
}

function classFor(name: string): ModelClass | undefined {
  return Object.prototype.hasOwnProperty.call(BUILT_IN, name) ? BUILT_IN[name] : userModels.get(name);
}

/**
 * Loads any saved model and returns it as the class its save names (a `UNetSegmenter`, `VAE`,
 * `DDPM`, … or a class registered with {@link registerModel}): reads `model.json` and the weights
 * (checksums verified), checks the config field by field, builds the model and loads the weights.
 * Narrow the result with `instanceof`. Saves written before this function existed load too: they
 * record the same class names.
 *
 * @param source - a directory (Node) or a tfjs IO URL, as for `model.save`.
 * @throws {@link UnknownModelError} listing the known names when the class is not known;
 *   `ConfigError` naming a wrong config field; `FileFormatError`/`ChecksumError`/`IoError` for
 *   unreadable or corrupt files; `StateDictError` when the weights do not fit the config. A failed
 *   load leaves no tensors behind.
 *
 * @example
 * ```ts
 * const model = await loadModel('runs/quickstart-model');
 * if (model instanceof UNetSegmenter) console.log(model.numClasses, model.config.channels);
 * ```
 */
export async function loadModel(source: string): Promise<AnyModule> {
  const saved = await loadSavedModel(source);
  try {
    const cls = classFor(saved.className);
    if (cls === undefined) {
      throw new UnknownModelError(
        `${source} holds a saved '${saved.className}', which medvae does not know; known model classes: ${registeredModels().join(', ')}. ` +
          `If '${saved.className}' is your own class, call registerModel('${saved.className}', ${saved.className}) before loading.`,
        saved.className,
      );
    }
    return rebuildSavedModel(saved, cls);
  } finally {
    tf.dispose(Object.values(saved.weights));
  }
}
