// Device-side check that a module's parameters and float buffers (BatchNorm running statistics)
// hold only finite values. It returns a scalar flag instead of reading anything back, so the
// training loop can queue it with the step's logs and read it asynchronously; a non-finite
// gradient shows up here too, as it makes the parameter it updates non-finite.
import * as tf from '@tensorflow/tfjs-core';
import type { AnyModule } from '../core/module.js';

/** The float variables of `module` the guard watches: parameters, then float buffers. */
export function guardedVariables(module: AnyModule): Array<[string, tf.Variable]> {
  const params = module.namedParameters();
  const buffers = module.namedBuffers().filter(([, v]) => v.dtype === 'float32');
  return [...params, ...buffers];
}

/**
 * A bool scalar, true when every element of every variable is finite. One sum per variable: the
 * sum of finite float32 values is finite unless it overflows, which only weights near 1e38 do,
 * and those are as broken as a NaN.
 */
export function allFinite(variables: ReadonlyArray<readonly [string, tf.Variable]>): tf.Scalar {
  return tf.tidy(() => {
    if (variables.length === 0) return tf.scalar(true, 'bool');
    const sums = variables.map(([, v]) => tf.sum(v));
    return tf.all(tf.isFinite(tf.stack(sums))) as tf.Scalar;
  });
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
