import * as tf from '@tensorflow/tfjs-core';
import type { AnyModule, StateDict } from '../core/module.js';
import { FileFormatError, MedvaeError, ValueError } from '../core/errors.js';
import { nodeFs } from './node-fs.js';
import { replaceDirAtomic, recoverableSiblings } from './atomic-dir.js';
import { canonicalJson, nonFiniteFloat32, sha256Hex } from './digest.js';
import { ChecksumError, IoError, NonFiniteError, errorCode } from './errors.js';

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
 * Checksums of saved weights, stored in the model's `modelTopology` so that every tfjs IO handler
 * (files, IndexedDB, downloads, http) carries them along with the config.
 */
export interface WeightsIntegrity {
  /** Hash algorithm; only `'sha256'` is written. */
  algorithm: 'sha256';
  /** Hex digest of the weight bytes (all weight files, concatenated in manifest order). */
  weights: string;
  /** Hex digest of the manifest's names, shapes, dtypes and byte offsets (canonical JSON). */
  manifest: string;
}

function manifestDigestInput(specs: readonly tf.io.WeightsManifestEntry[]): string {
  let offset = 0;
  const rows = specs.map((s) => {
    const row = { name: s.name, shape: s.shape, dtype: s.dtype, offset };
    offset += s.shape.reduce((a, b) => a * b, 1) * bytesPer(s.dtype);
    return row;
  });
  return canonicalJson(rows);
}

async function integrityOf(data: ArrayBuffer, specs: readonly tf.io.WeightsManifestEntry[]): Promise<WeightsIntegrity | undefined> {
  const [weights, manifest] = await Promise.all([sha256Hex(new Uint8Array(data)), sha256Hex(manifestDigestInput(specs))]);
  return weights === undefined || manifest === undefined ? undefined : { algorithm: 'sha256', weights, manifest };
}

/**
 * Checks stored weights against the checksums written with them. Saves from before checksums (no
 * `integrity`) and environments without SHA-256 (browser pages over plain http) are not checked.
 */
async function verifyIntegrity(where: string, integrity: unknown, data: ArrayBuffer, specs: readonly tf.io.WeightsManifestEntry[]): Promise<void> {
  if (integrity === undefined) return;
  const i = integrity as Partial<WeightsIntegrity>;
  if (typeof i !== 'object' || i === null || i.algorithm !== 'sha256' || typeof i.weights !== 'string' || typeof i.manifest !== 'string') {
    throw new FileFormatError(`${where}: the weights checksum record (modelTopology.integrity) is malformed: ${JSON.stringify(integrity)}. Save the model again.`);
  }
  const actual = await integrityOf(data, specs);
  if (actual === undefined) return;
  if (actual.manifest !== i.manifest) {
    throw new ChecksumError(
      `${where}: the weights manifest (tensor names, shapes, dtypes or order) does not match its checksum; model.json was edited or corrupted, so the weights cannot be assigned safely. Restore the save from a backup or save the model again.`,
    );
  }
  if (actual.weights !== i.weights) {
    throw new ChecksumError(
      `${where}: the weight bytes do not match their SHA-256 checksum (expected ${i.weights.slice(0, 12)}…, found ${actual.weights.slice(0, 12)}…); the weights file is corrupt. Restore it from a backup or save the model again.`,
    );
  }
}

/**
 * Saves a module's config and weights in the TensorFlow.js weights-manifest format:
 * `model.json` (with `modelTopology` holding medvae's {@link ModelConfig} and SHA-256 checksums of
 * the weights and of their manifest, and a `weightsManifest`) and `weights.bin`.
 *
 * `target` is a directory path in Node, or a tfjs IO URL in browsers: `indexeddb://name`,
 * `localstorage://name`, `downloads://name`, or an `http(s)://` endpoint.
 *
 * A directory is replaced atomically as a whole: the files are written and flushed into a sibling
 * temporary directory, which then takes the target's name (the previous version is renamed aside
 * first and removed last). A crash or a full disk at any moment leaves the previous save or the new
 * one complete, never new weights beside an old config. Other files in an existing target directory
 * are kept.
 *
 * @throws {@link NonFiniteError} when a weight holds NaN or infinity (nothing is written).
 * @throws {@link IoError} naming the path and the cause (ENOSPC, EROFS, EACCES, …).
 */
export async function saveModel(module: AnyModule, target: string, modelConfig: ModelConfig): Promise<void> {
  const state = module.stateDict();
  const { data, specs } = await tf.io.encodeWeights(state);
  const buffer = data as ArrayBuffer;
  const bad = nonFiniteFloat32(buffer, specs);
  if (bad.length > 0) {
    throw new NonFiniteError(
      `Refusing to save ${modelConfig.className} to '${target}': ${bad.length} tensor(s) hold NaN or infinite values (${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''}). ` +
        'A previous save there is left as it was. Train from the last good checkpoint with a lower learning rate or gradient clipping.',
      bad,
    );
  }
  const integrity = await integrityOf(buffer, specs);
  const topology = { className: modelConfig.className, config: modelConfig.config, ...(integrity ? { integrity } : {}) };
  if (isUrl(target)) {
    const handler = isHttp(target) ? tf.io.http(target) : tf.io.getSaveHandlers(target)[0];
    if (handler?.save === undefined) throw new MedvaeError(`No tfjs save handler for '${target}'. Use a directory path in Node, or indexeddb://, localstorage://, downloads:// or http(s):// in a browser.`);
    await handler.save({ modelTopology: topology, format: 'medvae', generatedBy: 'medvae', weightSpecs: specs, weightData: buffer });
    return;
  }
  const dir = stripFile(target);
  const manifest = {
    format: 'medvae',
    generatedBy: 'medvae',
    modelTopology: topology,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }],
  };
  await replaceDirAtomic(dir, { [WEIGHTS_FILE]: new Uint8Array(buffer), [MODEL_FILE]: JSON.stringify(manifest, null, 2) }, `Saving ${modelConfig.className} to '${dir}'`);
}

interface RawSave {
  topology: unknown;
  specs: tf.io.WeightsManifestEntry[];
  data: ArrayBuffer;
}

async function readSaveDir(dir: string): Promise<RawSave> {
  const { fs, path } = await nodeFs();
  let manifestText: string;
  try {
    manifestText = await fs.readFile(path.join(dir, MODEL_FILE), 'utf8');
  } catch (err) {
    // A missing file means "not a save"; anything else (EACCES, EIO, EISDIR) is the disk's problem.
    if (errorCode(err) !== 'ENOENT' && errorCode(err) !== 'ENOTDIR') throw new IoError('read', path.join(dir, MODEL_FILE), err, 'Loading a model');
    throw new FileFormatError(`Cannot read ${path.join(dir, MODEL_FILE)}: ${(err as Error).message}. Is '${dir}' a directory written by model.save()?`, { cause: err });
  }
  let manifest: { modelTopology?: unknown; weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  try {
    manifest = JSON.parse(manifestText) as typeof manifest;
  } catch (err) {
    throw new FileFormatError(`${path.join(dir, MODEL_FILE)} is not valid JSON (${(err as Error).message}).`, { cause: err });
  }
  if (!Array.isArray(manifest.weightsManifest)) throw new FileFormatError(`${path.join(dir, MODEL_FILE)} has no weightsManifest.`);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const file = path.join(dir, p);
      try {
        const b = await fs.readFile(file);
        buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') throw new IoError('read', file, err, 'Loading a model');
        throw new FileFormatError(`Cannot read weights file ${file}: ${(err as Error).message}.`, { cause: err });
      }
    }
  }
  return { topology: manifest.modelTopology, specs, data: concatBuffers(buffers) };
}

/**
 * Reads a model saved by {@link saveModel} from a directory (Node) or a tfjs IO URL, and verifies
 * the weights against their checksums. Saves written before medvae stored checksums load without
 * that check.
 *
 * In Node, when the directory is missing because a save into it was interrupted at the moment the
 * previous version was set aside (`<dir>.medvae-old-…`), that previous version is loaded.
 *
 * @throws {@link FileFormatError} when the files are missing, not JSON, or the weights do not
 *   match the manifest; {@link ChecksumError} (a FileFormatError) when the weights or the manifest
 *   do not match their checksums.
 */
export async function loadSavedModel(source: string): Promise<SavedModel> {
  let raw: RawSave;
  let where = source;
  if (isUrl(source)) {
    const handler = isHttp(source) ? tf.io.http(source) : tf.io.getLoadHandlers(source)[0];
    if (handler?.load === undefined) throw new MedvaeError(`No tfjs load handler for '${source}'.`);
    const artifacts = await handler.load();
    const wd = artifacts.weightData;
    raw = {
      topology: artifacts.modelTopology,
      specs: artifacts.weightSpecs ?? [],
      data: wd === undefined ? new ArrayBuffer(0) : Array.isArray(wd) ? concatBuffers(wd) : wd,
    };
  } else {
    const dir = stripFile(source);
    try {
      raw = await readSaveDir(dir);
    } catch (err) {
      const { fs } = await nodeFs();
      const dirExists = await fs.stat(dir).then(
        () => true,
        () => false,
      );
      const candidates = dirExists ? [] : await recoverableSiblings(dir);
      if (candidates.length === 0) throw err;
      raw = await readSaveDir(candidates[0]);
      where = candidates[0];
    }
  }
  return decodeSave(where, raw);
}

async function decodeSave(where: string, raw: RawSave): Promise<SavedModel> {
  const { topology, specs, data } = raw;
  const cfg = topology as (Partial<ModelConfig> & { integrity?: unknown }) | undefined;
  if (!cfg || typeof cfg.className !== 'string' || typeof cfg.config !== 'object' || cfg.config === null) {
    throw new FileFormatError(`${where} has no medvae model config (modelTopology.className / config); it was not written by model.save().`);
  }
  const expectedBytes = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * bytesPer(s.dtype), 0);
  if (expectedBytes !== data.byteLength) {
    throw new FileFormatError(`${where}: the manifest describes ${expectedBytes} bytes of weights but ${data.byteLength} were found; the weights file is truncated or belongs to another model.`);
  }
  await verifyIntegrity(where, cfg.integrity, data, specs);
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

/** What a model class sees when it is rebuilt from a save, besides its config. */
export interface ModelLoadContext {
  /**
   * Names of the saved weights, for models whose structure depends on what was saved (a DDPM
   * saved with its EMA copy has `ema.*` weights).
   */
  readonly weightNames: readonly string[];
}

/**
 * A model class that can be rebuilt from a saved config: what {@link loadModelAs} and
 * `registerModel` take. `fromConfig` must check the config (it comes from a file that may have been
 * edited) and throw a typed error naming a wrong field (e.g. with `readConfig` and a schema).
 */
export interface ModelClass<M extends AnyModule = AnyModule> {
  /** Builds an untrained model from a saved config; the weights are loaded into it afterwards. */
  fromConfig(config: Record<string, unknown>, context?: ModelLoadContext): M;
}

/**
 * Rebuilds a model from a save read by {@link loadSavedModel}: `fromConfig`, then the weights
 * (names and shapes checked). A model that cannot take the weights is disposed before the error
 * goes on, so a failed load leaves no tensors behind. The save's own weight tensors stay the
 * caller's.
 */
export function rebuildSavedModel<M extends AnyModule>(saved: SavedModel, cls: ModelClass<M>): M {
  const model = cls.fromConfig(saved.config, { weightNames: Object.keys(saved.weights) });
  try {
    model.loadStateDict(saved.weights);
  } catch (err) {
    // The caller never sees this model, so nobody else could free its variables.
    model.dispose();
    throw err;
  }
  return model;
}

/**
 * Reads a model written by {@link saveModel}, checks that it holds `className`, and rebuilds it
 * with `cls` (see {@link rebuildSavedModel}); the read tensors are freed. Every built-in model's
 * static `load` is this call; `loadModel` does the same for whatever class the save names.
 */
export async function loadModelAs<M extends AnyModule>(source: string, className: string, cls: ModelClass<M>): Promise<M> {
  const saved = await loadSavedModel(source);
  try {
    if (saved.className !== className) {
      throw new ValueError(`${source} holds a saved ${saved.className}, but ${className}.load was called; load it with ${saved.className}.load or with loadModel instead.`);
    }
    return rebuildSavedModel(saved, cls);
  } finally {
    tf.dispose(Object.values(saved.weights));
  }
}
