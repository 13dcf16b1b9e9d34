// Device-side check that a module's parameters and float buffers (BatchNorm running statistics)
// hold only finite values. It returns a scalar flag instead of reading anything back, so the
// training loop can queue it with the step's logs and read it asynchronously; a non-finite
// gradient shows up here too, as it makes the parameter it updates non-finite.
import * as tf from '@tensorflow/tfjs-core';
import type { AnyModule } from '../core/module.js';

/**
 * The float variables of `module` the guard watches: the parameters a training step can change
 * (those in `updated`, e.g. the optimizers' lists; all when omitted), then float buffers
 * (BatchNorm statistics). A frozen encoder's weights cannot turn non-finite, so they are not summed
 * every step.
 */
export function guardedVariables(module: AnyModule, updated?: ReadonlySet<tf.Variable>): Array<[string, tf.Variable]> {
  const params = module.namedParameters().filter(([, v]) => updated === undefined || updated.has(v));
  const buffers = module.namedBuffers().filter(([, v]) => v.dtype === 'float32');
  return [...params, ...buffers];
}

/**
 * A float32 scalar, 1 when every element of every variable is finite, 0 otherwise. One sum per
 * variable and one sum of sums (a third of the kernels of the backend's `finiteFlag`, which runs per step
 * here): a sum of finite float32 values is finite unless it overflows, which only weights near
 * 1e38 do, and those are as broken as a NaN.
 */
export function allFinite(variables: ReadonlyArray<readonly [string, tf.Variable]>): tf.Scalar {
  const floats = variables.filter(([, v]) => v.dtype === 'float32' && v.size > 0);
  if (floats.length === 0) return tf.scalar(1);
  return tf.tidy(() => tf.cast(tf.isFinite(tf.addN(floats.map(([, v]) => tf.sum(v)))), 'float32') as tf.Scalar);
}

/** Names of the variables that hold a NaN or infinity (reads them back: for error messages only). */
export async function nonFiniteNames(variables: ReadonlyArray<readonly [string, tf.Variable]>): Promise<string[]> {
  const bad: string[] = [];
  for (const [name, v] of variables) {
    const flag = tf.tidy(() => tf.any(tf.logicalNot(tf.isFinite(v))));
    const [value] = await flag.data();
    flag.dispose();
    if (value) bad.push(name);
  }
  return bad;
}
