import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../core/errors.js';
import { isMedvaeKernel, kernelOverrides } from './kernels/registry.js';

/** Options of {@link backendReport}. Give either `fn` or `kernels`. */
export interface BackendReportOptions {
  /**
   * One step of the computation to check, returning its loss (a non-scalar result is summed).
   * It runs once, on `probeBackend`, so give it a tiny batch: the kernels a model needs do not
   * depend on the batch or image size, and the probe backend (the pure-JS cpu backend by default)
   * is slow. It runs with its side effects: batch-norm running statistics of a module in training
   * mode are updated, and seeded generators it draws from advance.
   */
  fn?: () => tf.Tensor;
  /** Kernel names to check directly (for example from an earlier report), instead of running `fn`. */
  kernels?: readonly string[];
  /** The backend to check, by its tfjs name (`'wasm'`, `'webgpu'`, …). Default: the active backend. */
  backend?: string;
  /**
   * Whether the backward pass counts too (default true): training needs the gradient kernels
   * (`Conv2DBackpropFilter`, `MaxPoolGrad`, …), inference only the forward ones.
   */
  backward?: boolean;
  /**
   * The variables the backward pass differentiates with respect to, or a module whose
   * `trainableParameters()` those are. Default: every trainable variable that `fn` uses.
   */
  parameters?: readonly tf.Variable[] | TrainableParameterSource;
  /**
   * The backend that runs `fn` to record which kernels it calls. It must have every kernel `fn`
   * needs; default `'cpu'`, the most complete one.
   */
  probeBackend?: string;
}

/** Anything that lists its trainable variables, such as a medvae `Module`. */
export interface TrainableParameterSource {
  /** The variables an optimizer would update. */
  trainableParameters(): tf.Variable[];
}

/** What {@link backendReport} found. `toString()` gives the text of {@link formatBackendReport}. */
export interface BackendReport {
  /** The backend checked. */
  readonly backend: string;
  /** How `required` was found: the probe backend's name, or `'given'` for the `kernels` option. */
  readonly probedOn: string;
  /** Whether `required` includes the backward pass. */
  readonly backward: boolean;
  /** Every kernel the computation runs, sorted. */
  readonly required: readonly string[];
  /** Required kernels the backend does not register: running the computation there would throw. */
  readonly missing: readonly string[];
  /** Required kernels that run on medvae's own implementation on this backend. */
  readonly replacedByMedvae: readonly string[];
  /**
   * Those of `replacedByMedvae` that run on the optional `medvae-native` addon (OpenBLAS; see
   * {@link nativeKernelsStatus}); absent in reports made before this field existed.
   */
  readonly native?: readonly string[];
  /** True when nothing is missing. */
  readonly ok: boolean;
  /** The report as readable text. */
  toString(): string;
}

function isRegisteredBackend(name: string): boolean {
  return tf.findBackendFactory(name) != null;
}

async function ensureProbeBackend(name: string): Promise<void> {
  if (isRegisteredBackend(name)) return;
  if (name === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
    return;
  }
  throw new BackendError(`backendReport: the probe backend '${name}' is not registered. Activate it once with useBackend('${name}') (or import its package), or leave probeBackend out to use 'cpu'.`);
}

function toParameterList(parameters: BackendReportOptions['parameters']): tf.Variable[] | undefined {
  if (parameters === undefined) return undefined;
  return Array.isArray(parameters) ? [...parameters] : (parameters as TrainableParameterSource).trainableParameters();
}

/**
 * Runs `fn` (and its backward pass) once on `probe` and lists the kernels the engine dispatched.
 * Every kernel of the probe backend is wrapped for the duration by one that records its name:
 * unlike `tf.profile`, this lets an error thrown by `fn` surface as a normal exception (under the
 * profiler the cpu backend turns it into an unhandled promise rejection), and it records kernel
 * names only, never custom-gradient scope names.
 */
async function probeKernels(fn: () => tf.Tensor, probe: string, backward: boolean, parameters: tf.Variable[] | undefined): Promise<string[]> {
  await ensureProbeBackend(probe);
  const previous = tf.getBackend();
  const seen = new Set<string>();
  const originals = tf.getKernelsForBackend(probe);
  // Kernels that call other kernels directly (medvae's own do) would record those too, though the
  // engine never dispatches them: only the outermost call counts.
  let depth = 0;
  for (const config of originals) {
    tf.unregisterKernel(config.kernelName, probe);
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        if (depth === 0) seen.add(config.kernelName);
        depth++;
        try {
          return config.kernelFunc(args);
        } finally {
          depth--;
        }
      },
    });
  }
  try {
    await tf.setBackend(probe);
    tf.tidy(() => {
      if (!backward) {
        fn();
        return;
      }
      tf.variableGrads(() => {
        const y = fn();
        return (y.rank === 0 ? y : tf.sum(y)) as tf.Scalar;
      }, parameters);
    });
  } catch (err) {
    throw new BackendError(`backendReport: running the function on the '${probe}' backend failed: ${(err as Error).message}`, { cause: err });
  } finally {
    for (const config of originals) {
      tf.unregisterKernel(config.kernelName, probe);
      tf.registerKernel(config);
    }
    if (previous !== probe) await tf.setBackend(previous);
  }
  return [...seen];
}

/**
 * Lists the kernels a computation needs and which of them a backend lacks, before a long training
 * run fails halfway with "Cannot find registered kernel".
 *
 * With `fn`, the computation (by default forward and backward) runs once on the probe backend
 * (`cpu`), recording every kernel the engine dispatches; each is then looked up in the kernel
 * registry of the checked backend. With `kernels`, the given names are looked up directly.
 * The report also says which kernels run on medvae's own implementations there (see
 * {@link WASM_TRAINING_KERNELS} and {@link CPU_TRAINING_KERNELS}).
 *
 * Variables `fn` touches are moved to the probe backend while it runs; tfjs moves them back on
 * their next use. Nothing else changes on the active backend.
 *
 * @throws {@link BackendError} when the backend to check or the probe backend is not registered,
 *   when `fn` fails on the probe backend, or when neither `fn` nor `kernels` is given.
 *
 * @example
 * ```ts
 * await useBackend('wasm');
 * const net = new Conv2d(1, 8, 3, { seed: 0 });
 * const x = tf.zeros([1, 16, 16, 1]);
 * const report = await backendReport({ fn: () => tf.mean(tf.square(net.forward(x))), parameters: net });
 * console.log(String(report));
 * // Backend 'wasm': all 11 kernels of forward + backward are available.
 * //   medvae's own kernels: Conv2DBackpropFilter.
 * //   Required: Add, Cast, Conv2D, Conv2DBackpropFilter, Identity, Mean, Multiply, RealDiv, Reshape, Square, Sum.
 * if (!report.ok) throw new Error(`missing: ${report.missing.join(', ')}`);
 * ```
 */
export async function backendReport(options: BackendReportOptions): Promise<BackendReport> {
  const backend = options.backend ?? tf.getBackend();
  if (!isRegisteredBackend(backend)) {
    throw new BackendError(`backendReport: backend '${backend}' is not registered. Activate it once with useBackend('${backend}') or import its package, so that its kernels are known.`);
  }
  const backward = options.backward ?? true;
  let required: string[];
  let probedOn: string;
  if (options.kernels !== undefined) {
    required = [...new Set(options.kernels)];
    probedOn = 'given';
  } else if (options.fn !== undefined) {
    probedOn = options.probeBackend ?? 'cpu';
    required = await probeKernels(options.fn, probedOn, backward, toParameterList(options.parameters));
  } else {
    throw new BackendError('backendReport needs either `fn` (a function computing a loss, run once to record its kernels) or `kernels` (kernel names to check).');
  }
  required.sort();
  const missing = required.filter((name) => tf.getKernel(name, backend) === undefined);
  const replacedByMedvae = required.filter((name) => isMedvaeKernel(name, backend));
  const overridden = new Set(kernelOverrides(backend));
  const native = required.filter((name) => overridden.has(name));
  const report: BackendReport = {
    backend,
    probedOn,
    backward,
    required,
    missing,
    replacedByMedvae,
    native,
    ok: missing.length === 0,
    toString: () => formatBackendReport(report),
  };
  return report;
}

/**
 * Formats a {@link BackendReport} as a few lines of text: a summary, the missing kernels and
 * what to do about them, medvae's replacements, and the full list of required kernels.
 */
export function formatBackendReport(report: BackendReport): string {
  const { backend, required, missing, replacedByMedvae } = report;
  const what = report.probedOn === 'given' ? 'given' : report.backward ? 'of forward + backward' : 'of the forward pass';
  const lines: string[] = [];
  if (missing.length === 0) {
    lines.push(`Backend '${backend}': all ${required.length} kernels ${what} are available.`);
  } else {
    lines.push(`Backend '${backend}': ${missing.length} of ${required.length} kernels ${what} are missing: ${missing.join(', ')}.`);
    const hint = backend === 'wasm' && missing.includes(tf.Conv2DBackpropFilter)
      ? " medvae provides Conv2DBackpropFilter for wasm: activate the backend with useBackend('wasm') or call registerWasmTrainingKernels()."
      : ' Running the computation there throws "Cannot find registered kernel"; use another backend (cpu has every kernel) or register the kernels with tf.registerKernel.';
    lines.push(`  What to do:${hint}`);
  }
  if (replacedByMedvae.length > 0) lines.push(`  medvae's own kernels: ${replacedByMedvae.join(', ')}.`);
  if (report.native !== undefined && report.native.length > 0) lines.push(`  of which native (medvae-native, OpenBLAS): ${report.native.join(', ')}.`);
  lines.push(`  Required: ${required.join(', ')}.`);
  return lines.join('\n');
}
