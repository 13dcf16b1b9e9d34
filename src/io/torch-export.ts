import type * as tf from '@tensorflow/tfjs-core';
import { FileFormatError, MedvaeError, ValueError } from '../core/errors.js';
import type { AnyModule, LoadStateDictResult } from '../core/module.js';
import { DCGAN, type DCGANOptions } from '../models/dcgan/dcgan.js';
import { DCGANDiscriminator, DCGANGenerator, type DCGANDiscriminatorOptions, type DCGANGeneratorOptions } from '../models/dcgan/networks.js';
import { DDPM } from '../models/ddpm/ddpm.js';
import { DiffusionUNet } from '../models/ddpm/diffusion-unet.js';
import { MonaiBasicUNet, type MonaiBasicUNetOptions } from '../models/monai/basic-unet.js';
import { DIFFUSION_UNET_SCHEMA, UNET_SCHEMA } from '../models/config-schemas.js';
import { UNet } from '../models/unet.js';
import { UNetSegmenter } from '../models/unet-segmenter.js';
import { VAE } from '../models/vae.js';
import { readConfig } from './config-schema.js';
import { resolveBatchNorm, type BatchNormSettings } from '../layers/factories.js';
import { nodeFs, writeFileAtomic } from './node-fs.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { loadTorchStateDict, toTorchStateDict } from './torch-state-dict.js';

/** The value of `format` in an export's `config.json`. */
export const TORCH_EXPORT_FORMAT = 'medvae-torch';
/** The version of the export layout this medvae writes and reads. */
export const TORCH_EXPORT_VERSION = 1;
/** File names inside an export directory. */
export const TORCH_EXPORT_FILES = { config: 'config.json', weights: 'model.safetensors' } as const;

/** The networks medvae exports to PyTorch (the `medvae_torch` Python package builds each of them). */
export type TorchArchitecture =
  | 'UNetSegmenter'
  | 'UNet'
  | 'VAE'
  | 'DCGAN'
  | 'DCGANGenerator'
  | 'DCGANDiscriminator'
  | 'DDPM'
  | 'DiffusionUNet'
  | 'MonaiBasicUNet';

/** A model {@link exportTorch} can write. */
export type TorchExportable = UNetSegmenter | UNet | VAE | DCGAN | DCGANGenerator | DCGANDiscriminator | DDPM | DiffusionUNet | MonaiBasicUNet;

/** The JSON of an export's `config.json`. */
export interface TorchExportConfig {
  /** Always {@link TORCH_EXPORT_FORMAT}. */
  format: typeof TORCH_EXPORT_FORMAT;
  /** Always {@link TORCH_EXPORT_VERSION}. */
  formatVersion: typeof TORCH_EXPORT_VERSION;
  /** Which network. */
  architecture: TorchArchitecture;
  /** The network's options (medvae's camelCase names, defaults filled in). */
  config: Record<string, unknown>;
  /** Layout of the weights and of the PyTorch module's inputs: always `'NCHW'`. */
  layout: 'NCHW';
  /** Who wrote the export (medvae, or medvae_torch with its torch version). */
  producer?: string;
}

/** An export in memory: the `config.json` text and the `model.safetensors` bytes. */
export interface TorchExportFiles {
  /** Contents of `config.json`. */
  config: string;
  /** Contents of `model.safetensors`. */
  weights: Uint8Array;
}

// The PyTorch side builds its BatchNorm layers with PyTorch's defaults, so a model's batchNorm
// settings are left out of config.json when they are those defaults and refused otherwise (an eps
// of 1e-3 would silently change every output in PyTorch).
function withoutBatchNorm<C extends { batchNorm: BatchNormSettings }>(config: C, what: string): Omit<C, 'batchNorm'> {
  const { batchNorm: settings, ...rest } = config;
  const batchNorm = resolveBatchNorm(settings);
  if (batchNorm.momentum !== 0.1 || batchNorm.eps !== 1e-5) {
    throw new ValueError(
      `exportTorch cannot export this ${what}: it uses BatchNorm momentum ${batchNorm.momentum} and eps ${batchNorm.eps}, but the PyTorch side builds BatchNorm with PyTorch's defaults (0.1, 1e-5). ` +
        'Export a model built with the default batchNorm settings, or save it with model.save().',
    );
  }
  return rest;
}

/** The architecture name and options of a model, as written to `config.json`. */
export function torchExportSpec(model: TorchExportable): { architecture: TorchArchitecture; config: Record<string, unknown> } {
  if (model instanceof UNetSegmenter) {
    const { outChannels, ...rest } = withoutBatchNorm(model.net.config, 'UNetSegmenter');
    void outChannels;
    return { architecture: 'UNetSegmenter', config: { ...rest, numClasses: model.numClasses } };
  }
  if (model instanceof UNet) return { architecture: 'UNet', config: withoutBatchNorm(model.config, 'UNet') };
  if (model instanceof VAE) return { architecture: 'VAE', config: withoutBatchNorm(model.config, 'VAE') };
  if (model instanceof DCGAN) return { architecture: 'DCGAN', config: withoutBatchNorm(model.config, 'DCGAN') };
  if (model instanceof DCGANGenerator) {
    withoutBatchNorm({ batchNorm: model.batchNorm }, 'DCGANGenerator');
    return { architecture: 'DCGANGenerator', config: { latentDim: model.latentDim, imageSize: [...model.imageSize], outChannels: model.outChannels, channels: [...model.channels] } };
  }
  if (model instanceof DCGANDiscriminator) {
    return {
      architecture: 'DCGANDiscriminator',
      config: {
        inChannels: model.inChannels, imageSize: model.imageSize ? [...model.imageSize] : null, channels: [...model.channels],
        norm: model.norm, negativeSlope: model.negativeSlope, patch: model.patch,
      },
    };
  }
  if (model instanceof DDPM) return { architecture: 'DDPM', config: { ...model.config } };
  if (model instanceof DiffusionUNet) return { architecture: 'DiffusionUNet', config: { ...model.config } };
  if (model instanceof MonaiBasicUNet) return { architecture: 'MonaiBasicUNet', config: { ...model.config } };
  const name = (model as AnyModule | null)?.constructor?.name ?? String(model);
  throw new ValueError(
    `exportTorch cannot export a ${name}: it exports UNetSegmenter, UNet, VAE, DCGAN, DCGANGenerator, DCGANDiscriminator, DDPM, DiffusionUNet and MonaiBasicUNet. ` +
      'For another module, write toTorchStateDict(module) with saveSafetensors and build the PyTorch side yourself.',
  );
}

/**
 * The export of `model` in memory: `config.json` (architecture and options) and
 * `model.safetensors` (the state dict with PyTorch names and layouts: conv weights
 * `[out, in, kh, kw]`, transposed-conv weights `[in, out, kh, kw]`, linear `[out, in]`). Works in
 * browsers too (offer the two files for download).
 */
export function encodeTorchExport(model: TorchExportable): TorchExportFiles {
  const spec = torchExportSpec(model);
  const meta: TorchExportConfig = {
    format: TORCH_EXPORT_FORMAT, formatVersion: TORCH_EXPORT_VERSION, ...spec, layout: 'NCHW', producer: 'medvae',
  };
  const state = toTorchStateDict(model);
  try {
    return { config: `${JSON.stringify(meta, null, 2)}\n`, weights: encodeSafetensors(state, { format: 'pt' }) };
  } finally {
    for (const t of Object.values(state)) t.dispose();
  }
}

/**
 * Writes `model` to directory `dir` for PyTorch (Node): `config.json` and `model.safetensors`
 * (see {@link encodeTorchExport}). In Python, `medvae_torch.load(dir)` (the package in this
 * repository's `python/` folder) returns the same network as a `torch.nn.Module` (NCHW inputs),
 * whose outputs in eval mode equal medvae's. The weights are written before the config, each
 * atomically, so a directory with a config always has its weights.
 *
 * @example
 * ```ts
 * await exportTorch(segmenter, 'runs/torch-export');
 * // python: net = medvae_torch.load('runs/torch-export').eval()
 * ```
 */
export async function exportTorch(model: TorchExportable, dir: string): Promise<void> {
  const files = encodeTorchExport(model);
  const { path } = await nodeFs();
  await writeFileAtomic(path.join(dir, TORCH_EXPORT_FILES.weights), files.weights);
  await writeFileAtomic(path.join(dir, TORCH_EXPORT_FILES.config), files.config);
}

/** Parses and checks the text of an export's `config.json`. */
export function parseTorchExportConfig(text: string, source = 'config.json'): TorchExportConfig {
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch (err) {
    throw new FileFormatError(`${source} is not valid JSON (${(err as Error).message}); expected the config.json of a medvae torch export.`, { cause: err });
  }
  const m = meta as Partial<TorchExportConfig> | null;
  if (m === null || typeof m !== 'object' || m.format !== TORCH_EXPORT_FORMAT) {
    throw new FileFormatError(`${source} is not a medvae torch export: expected "format": "${TORCH_EXPORT_FORMAT}", got ${JSON.stringify(m?.format)}.`);
  }
  if (m.formatVersion !== TORCH_EXPORT_VERSION) {
    throw new FileFormatError(`${source} has format version ${String(m.formatVersion)}, but this medvae reads version ${TORCH_EXPORT_VERSION}; update medvae or re-export.`);
  }
  if (typeof m.architecture !== 'string' || m.config === null || typeof m.config !== 'object') {
    throw new FileFormatError(`${source} lacks "architecture" (a string) or "config" (an object).`);
  }
  return m as TorchExportConfig;
}

// Keys whose values must agree between the file and the model; JSON equality is exact enough for
// options (numbers, strings, booleans, arrays of them, null).
function configDifferences(want: Record<string, unknown>, got: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const key of new Set([...Object.keys(want), ...Object.keys(got)])) {
    const a = JSON.stringify(want[key]);
    const b = JSON.stringify(got[key]);
    if (a !== b) out.push(`${key}: model ${a ?? 'absent'}, file ${b ?? 'absent'}`);
  }
  return out;
}

/**
 * Loads an export (from medvae, or a module trained in PyTorch and written by
 * `medvae_torch.save`) held in memory into `model`, which must be the same architecture with the
 * same options; weights are converted back to medvae's NHWC layouts.
 *
 * @throws {@link ValueError} when the architecture or an option differs; {@link StateDictError}
 *   when names or shapes do not match; {@link FileFormatError} for a malformed config.
 */
export function decodeTorchExportInto(model: TorchExportable, files: TorchExportFiles, source = 'torch export'): LoadStateDictResult {
  const meta = parseTorchExportConfig(files.config, `${source}/config.json`);
  const own = torchExportSpec(model);
  if (meta.architecture !== own.architecture) {
    throw new ValueError(`${source} holds a ${meta.architecture}, but the model is a ${own.architecture}; load it into a ${meta.architecture} (or use loadTorchExport).`);
  }
  const diff = configDifferences(own.config, meta.config);
  if (diff.length > 0) {
    throw new ValueError(`${source} was made for other ${own.architecture} options:\n  - ${diff.join('\n  - ')}\nBuild the model with the file's options (loadTorchExport does).`);
  }
  const { tensors } = decodeSafetensors(files.weights, `${source}/model.safetensors`);
  try {
    return loadTorchStateDict(model, tensors);
  } finally {
    for (const t of Object.values(tensors)) (t as tf.Tensor).dispose();
  }
}

async function readFiles(dir: string): Promise<TorchExportFiles> {
  const { fs, path } = await nodeFs();
  const configFile = path.join(dir, TORCH_EXPORT_FILES.config);
  const weightsFile = path.join(dir, TORCH_EXPORT_FILES.weights);
  const read = async <T>(file: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw new MedvaeError(`Cannot read ${file} (${(err as Error).message}); a medvae torch export directory holds ${TORCH_EXPORT_FILES.config} and ${TORCH_EXPORT_FILES.weights}.`, { cause: err });
    }
  };
  const config = await read(configFile, () => fs.readFile(configFile, 'utf8'));
  const weights = await read(weightsFile, () => fs.readFile(weightsFile));
  return { config, weights: new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength) };
}

/**
 * Loads the export in directory `dir` (Node) into `model` (see {@link decodeTorchExportInto}):
 * the way back from PyTorch for a model that continued training there.
 */
export async function importTorch(model: TorchExportable, dir: string): Promise<LoadStateDictResult> {
  return decodeTorchExportInto(model, await readFiles(dir), dir);
}

/** Builds the model a `config.json` describes (weights freshly initialised). */
export function buildFromTorchExportConfig(meta: TorchExportConfig): TorchExportable {
  const c = meta.config;
  switch (meta.architecture) {
    case 'UNetSegmenter':
      return UNetSegmenter.fromConfig(c);
    case 'UNet':
      return new UNet(readConfig(c, UNET_SCHEMA, 'UNet config'));
    case 'VAE':
      return VAE.fromConfig(c);
    case 'DCGAN':
      return new DCGAN(c as DCGANOptions);
    case 'DCGANGenerator':
      return new DCGANGenerator(c as DCGANGeneratorOptions);
    case 'DCGANDiscriminator':
      return new DCGANDiscriminator({ ...(c as DCGANDiscriminatorOptions), imageSize: (c.imageSize ?? undefined) as [number, number] | undefined });
    case 'DDPM':
      return DDPM.fromConfig(c);
    case 'DiffusionUNet':
      return new DiffusionUNet(readConfig(c, DIFFUSION_UNET_SCHEMA, 'DiffusionUNet config'));
    case 'MonaiBasicUNet':
      return new MonaiBasicUNet(c as MonaiBasicUNetOptions);
    default:
      throw new ValueError(`Unknown architecture '${String(meta.architecture)}' in a torch export; medvae builds ${['UNetSegmenter', 'UNet', 'VAE', 'DCGAN', 'DCGANGenerator', 'DCGANDiscriminator', 'DDPM', 'DiffusionUNet', 'MonaiBasicUNet'].join(', ')}.`);
  }
}

/**
 * Builds the model an export directory describes and loads its weights (Node): for a network
 * trained in PyTorch and written with `medvae_torch.save(net, dir)`. The model is returned in
 * training mode, as a new model is; call `eval()` for inference.
 */
export async function loadTorchExport(dir: string): Promise<TorchExportable> {
  const files = await readFiles(dir);
  const model = buildFromTorchExportConfig(parseTorchExportConfig(files.config, `${dir}/config.json`));
  try {
    decodeTorchExportInto(model, files, dir);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}
