import * as tf from '@tensorflow/tfjs-core';
import type { AnyModule, StateDict } from '../core/module.js';
import { FileFormatError, MedvaeError, ValueError } from '../core/errors.js';
import { nodeFs, writeFileAtomic } from './node-fs.js';

/** The JSON-serialisable description of a saved model: which class, built with which options. */
export interface ModelConfig {
  /** Class name, checked when loading (e.g. `"UNetSegmenter"`). */
  className: string;
  /** Constructor options, as given to the class. */
  config: Record<string, unknown>;
}

/** A saved model read back: its config and its weights (the caller owns the tensors). */
export interface SavedModel extends ModelConfig {
  /** Parameters and buffers by dotted name. */
  weights: StateDict;
}

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

function isUrl(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(target) && !target.startsWith('file://');
}

// http(s) URLs get tfjs's http handler directly rather than through its router registry: bundlers
// such as Vite tree-shake tfjs-core's registration of the http router, which left browser builds
// with "no load handler" for http(s) URLs.
function isHttp(target: string): boolean {
  return /^https?:\/\//i.test(target);
}

function stripFile(target: string): string {
  return target.startsWith('file://') ? target.slice('file://'.length) : target;
}

/**
 * Saves a module's config and weights in the TensorFlow.js weights-manifest format:
 * `model.json` (with `modelTopology` holding medvae's {@link ModelConfig} and a `weightsManifest`)
 * and `weights.bin`.
 *
 * `target` is a directory path in Node (files are written atomically: a temporary file renamed
 * into place, weights before the manifest), or a tfjs IO URL in browsers: `indexeddb://name`,
 * `localstorage://name`, `downloads://name`, or an `http(s)://` endpoint.
 */
export async function saveModel(module: AnyModule, target: string, modelConfig: ModelConfig): Promise<void> {
  const state = module.stateDict();
  const { data, specs } = await tf.io.encodeWeights(state);
  if (isUrl(target)) {
    const handler = isHttp(target) ? tf.io.http(target) : tf.io.getSaveHandlers(target)[0];
    if (handler?.save === undefined) throw new MedvaeError(`No tfjs save handler for '${target}'. Use a directory path in Node, or indexeddb://, localstorage://, downloads:// or http(s):// in a browser.`);
    await handler.save({ modelTopology: { ...modelConfig }, format: 'medvae', generatedBy: 'medvae', weightSpecs: specs, weightData: data });
    return;
  }
  const { path } = await nodeFs();
  const dir = stripFile(target);
  await writeFileAtomic(path.join(dir, WEIGHTS_FILE), new Uint8Array(data as ArrayBuffer));
  const manifest = {
    format: 'medvae',
    generatedBy: 'medvae',
    modelTopology: modelConfig,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }],
  };
  await writeFileAtomic(path.join(dir, MODEL_FILE), JSON.stringify(manifest, null, 2));
}

/**
 * Reads a model saved by {@link saveModel} from a directory (Node) or a tfjs IO URL.
 *
 * @throws {@link FileFormatError} when the files are missing, not JSON, or the weights do not
 *   match the manifest.
 */
export async function loadSavedModel(source: string): Promise<SavedModel> {
  let topology: unknown;
  let specs: tf.io.WeightsManifestEntry[];
  let data: ArrayBuffer;
  const where = source;
  if (isUrl(source)) {
    const handler = isHttp(source) ? tf.io.http(source) : tf.io.getLoadHandlers(source)[0];
    if (handler?.load === undefined) throw new MedvaeError(`No tfjs load handler for '${source}'.`);
    const artifacts = await handler.load();
    topology = artifacts.modelTopology;
    specs = artifacts.weightSpecs ?? [];
    const wd = artifacts.weightData;
    data = wd === undefined ? new ArrayBuffer(0) : Array.isArray(wd) ? concatBuffers(wd) : wd;
  } else {
    const { fs, path } = await nodeFs();
    const dir = stripFile(source);
    let manifestText: string;
    try {
      manifestText = await fs.readFile(path.join(dir, MODEL_FILE), 'utf8');
    } catch (err) {
      throw new FileFormatError(`Cannot read ${path.join(dir, MODEL_FILE)}: ${(err as Error).message}. Is '${dir}' a directory written by model.save()?`, { cause: err });
    }
    let manifest: { modelTopology?: unknown; weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
    try {
      manifest = JSON.parse(manifestText) as typeof manifest;
    } catch (err) {
      throw new FileFormatError(`${path.join(dir, MODEL_FILE)} is not valid JSON (${(err as Error).message}).`, { cause: err });
    }
    if (!Array.isArray(manifest.weightsManifest)) throw new FileFormatError(`${path.join(dir, MODEL_FILE)} has no weightsManifest.`);
    topology = manifest.modelTopology;
    specs = [];
    const buffers: ArrayBuffer[] = [];
    for (const group of manifest.weightsManifest) {
      specs.push(...group.weights);
      for (const p of group.paths) {
        const file = path.join(dir, p);
        try {
          const b = await fs.readFile(file);
          buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
        } catch (err) {
          throw new FileFormatError(`Cannot read weights file ${file}: ${(err as Error).message}.`, { cause: err });
        }
      }
    }
    data = concatBuffers(buffers);
  }
  const cfg = topology as Partial<ModelConfig> | undefined;
  if (!cfg || typeof cfg.className !== 'string' || typeof cfg.config !== 'object' || cfg.config === null) {
    throw new FileFormatError(`${where} has no medvae model config (modelTopology.className / config); it was not written by model.save().`);
  }
  const expectedBytes = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * bytesPer(s.dtype), 0);
  if (expectedBytes !== data.byteLength) {
    throw new FileFormatError(`${where}: the manifest describes ${expectedBytes} bytes of weights but ${data.byteLength} were found; the weights file is truncated or belongs to another model.`);
  }
  const weights = tf.io.decodeWeights(data, specs) as StateDict;
  return { className: cfg.className, config: cfg.config as Record<string, unknown>, weights };
}

function bytesPer(dtype: string): number {
  return dtype === 'bool' ? 1 : dtype === 'float16' ? 2 : 4;
}

function concatBuffers(buffers: ArrayBuffer[]): ArrayBuffer {
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  let pos = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), pos);
    pos += b.byteLength;
  }
  return out.buffer;
}

/**
 * Reads a model written by {@link saveModel} and rebuilds it: checks that it holds `className`,
 * builds the module from the saved config with `build`, loads the weights into it (names and shapes
 * checked) and frees the read tensors. Every model's static `load` is this call.
 *
 * @param build - makes an untrained module from the saved config; it also sees the saved weights'
 *   names, for models whose structure depends on what was saved (e.g. an EMA copy).
 */
export async function loadModelAs<M extends AnyModule>(
  source: string,
  className: string,
  build: (config: Record<string, unknown>, weights: StateDict) => M,
): Promise<M> {
  const saved = await loadSavedModel(source);
  try {
    if (saved.className !== className) {
      throw new ValueError(`${source} holds a saved ${saved.className}, but ${className}.load was called; load it with ${saved.className}.load instead.`);
    }
    const model = build(saved.config, saved.weights);
    model.loadStateDict(saved.weights);
    return model;
  } finally {
    tf.dispose(Object.values(saved.weights));
  }
}
