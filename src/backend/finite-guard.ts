// Training guard against non-finite numbers: a one-scalar, on-device test that a training loop can
// read together with its loss (no extra synchronous readback), and a detailed report for the
// error it raises when the test fails. Backend-independent: the same tensors give the same answer
// on cpu, wasm, wasm + medvae-native, WebGL and WebGPU.
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../core/module.js';
import { NumericalError, ValueError } from '../core/errors.js';

/** Tensors with names: `[name, tensor]` pairs, or an object from name to tensor. */
export type NamedTensors = Iterable<readonly [string, tf.Tensor]> | Readonly<Record<string, tf.Tensor>>;

/** What {@link findNonFinite} found in one tensor. */
export interface NonFiniteEntry {
  /** The tensor's name as given. */
  readonly name: string;
  /** Its shape. */
  readonly shape: readonly number[];
  /** How many values are NaN. */
  readonly nan: number;
  /** How many values are +Infinity. */
  readonly posInf: number;
  /** How many values are −Infinity. */
  readonly negInf: number;
}

function entries(named: NamedTensors): Array<readonly [string, tf.Tensor]> {
  if (typeof (named as Iterable<unknown>)[Symbol.iterator] === 'function') return [...(named as Iterable<readonly [string, tf.Tensor]>)];
  return Object.entries(named as Readonly<Record<string, tf.Tensor>>);
}

/** Integer and boolean tensors cannot hold NaN or ±Infinity, and complex ones are not checked. */
const isFloat = (t: tf.Tensor): boolean => t.dtype === 'float32';

/**
 * A float32 scalar that is 1 when every value of every tensor in `tensors` is finite and 0 when
 * any is NaN or ±Infinity, computed on the device without reading anything back. Stack it with
 * the step's loss and read both at once to guard a training step at no extra synchronisation.
 *
 * Each tensor is multiplied by 0 and summed: a finite value gives 0, NaN and ±Infinity give NaN,
 * so large but finite values (which a plain sum could overflow to Infinity) never count as
 * non-finite. Non-float tensors are skipped. The caller owns (and disposes) the result.
 *
 * @example
 * ```ts
 * const flag = finiteFlag([...grads, ...model.namedBuffers().map(([, b]) => b)]);
 * const [lossValue, ok] = await tf.stack([loss, flag]).data();
 * if (ok !== 1) assertFinite(trainingStateTensors(model, namedGrads), 'step 12'); // throws, naming the tensors
 * ```
 */
export function finiteFlag(tensors: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    let total: tf.Tensor = tf.scalar(0);
    for (const t of tensors) {
      if (!isFloat(t) || t.size === 0) continue;
      total = tf.add(total, tf.sum(tf.mul(t, tf.scalar(0))));
    }
    return tf.cast(tf.equal(total, tf.scalar(0)), 'float32') as tf.Scalar;
  });
}

function countValues(name: string, t: tf.Tensor, values: ArrayLike<number>): NonFiniteEntry | undefined {
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) nan++;
    else if (v === Infinity) posInf++;
    else if (v === -Infinity) negInf++;
  }
  return nan + posInf + negInf > 0 ? { name, shape: t.shape, nan, posInf, negInf } : undefined;
}

/**
 * Every float tensor in `named` that holds NaN or ±Infinity, with counts of each (reads all of
 * them back synchronously: meant for the error path, after {@link finiteFlag} said 0).
 */
export function findNonFinite(named: NamedTensors): NonFiniteEntry[] {
  const found: NonFiniteEntry[] = [];
  for (const [name, t] of entries(named)) {
    if (!isFloat(t) || t.isDisposed) continue;
    const entry = countValues(name, t, t.dataSync() as ArrayLike<number>);
    if (entry !== undefined) found.push(entry);
  }
  return found;
}

/** {@link findNonFinite} with asynchronous readbacks (WebGPU and WebGL cannot read synchronously in every context). */
export async function findNonFiniteAsync(named: NamedTensors): Promise<NonFiniteEntry[]> {
  const found: NonFiniteEntry[] = [];
  for (const [name, t] of entries(named)) {
    if (!isFloat(t) || t.isDisposed) continue;
    const entry = countValues(name, t, (await t.data()) as ArrayLike<number>);
    if (entry !== undefined) found.push(entry);
  }
  return found;
}

function describe(e: NonFiniteEntry): string {
  const parts = [e.nan > 0 ? `${e.nan} NaN` : '', e.posInf > 0 ? `${e.posInf} +Infinity` : '', e.negInf > 0 ? `${e.negInf} −Infinity` : ''].filter((s) => s !== '');
  return `${e.name} [${e.shape.join(', ')}]: ${parts.join(', ')}`;
}

/**
 * The {@link NumericalError} a training guard raises for `found` at `where` (e.g. `"epoch 2, step 14"`).
 * @throws {@link ValueError} when `found` is empty (there is nothing to report).
 */
export function nonFiniteError(found: readonly NonFiniteEntry[], where: string): NumericalError {
  if (found.length === 0) throw new ValueError('nonFiniteError needs at least one non-finite tensor to report; findNonFinite found none.');
  const shown = found.slice(0, 8).map(describe).join('; ');
  const more = found.length > 8 ? `; and ${found.length - 8} more tensors` : '';
  return new NumericalError(
    `Non-finite values at ${where}: ${shown}${more}. Expected every parameter, gradient and normalisation statistic to be finite. ` +
      'Check the batch for NaN, Infinity or huge values (e.g. 1e30), lower the learning rate, or clip gradients; ' +
      'the parameters were not updated with these values.',
  );
}

/**
 * Throws a {@link NumericalError} naming every tensor of `named` that holds NaN or ±Infinity; does
 * nothing when all are finite. One scalar is read back when all are finite; every tensor only
 * when one is not.
 *
 * @param named - e.g. {@link trainingStateTensors}(model, grads).
 * @param where - where in training this is, for the message (e.g. `"epoch 1, step 3"`).
 */
export function assertFinite(named: NamedTensors, where: string): void {
  const list = entries(named);
  const flag = finiteFlag(list.map(([, t]) => t));
  const ok = flag.dataSync()[0] === 1;
  flag.dispose();
  if (!ok) throw nonFiniteError(findNonFinite(list), where);
}

/** {@link assertFinite} with asynchronous readbacks, for backends without synchronous ones (WebGPU). */
export async function assertFiniteAsync(named: NamedTensors, where: string): Promise<void> {
  const list = entries(named);
  const flag = finiteFlag(list.map(([, t]) => t));
  const ok = (await flag.data())[0] === 1;
  flag.dispose();
  if (!ok) throw nonFiniteError(await findNonFiniteAsync(list), where);
}

/**
 * The tensors a training guard watches in `module`: every parameter (`parameter <name>`), every
 * buffer such as BatchNorm's running mean and variance (`buffer <name>`), and optionally the
 * step's gradients (`gradient <name>`, from tfjs's `variableGrads` map or `[name, tensor]` pairs).
 */
export function trainingStateTensors(module: Module<unknown, unknown>, grads?: NamedTensors): Array<[string, tf.Tensor]> {
  const out: Array<[string, tf.Tensor]> = [];
  for (const [name, p] of module.namedParameters()) out.push([`parameter ${name}`, p]);
  for (const [name, b] of module.namedBuffers()) out.push([`buffer ${name}`, b]);
  if (grads !== undefined) for (const [name, g] of entries(grads)) out.push([`gradient ${name}`, g]);
  return out;
}
