// Shared by the norm/activation/block tests: runs a module once and returns its output together
// with the gradients of L = sum(y * g) w.r.t. the input and the given parameters.
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Output and gradients of one forward/backward pass, as plain arrays. */
export interface PassResult {
  y: number[];
  dx: number[];
  dParams: number[][];
}

/**
 * One forward pass of `forward` inside `tf.variableGrads` (so layers that update buffers do it
 * exactly once, as in a real training step), returning y, dL/dx and dL/dparams.
 */
export function forwardWithGrads(
  forward: (x: tf.Tensor) => tf.Tensor,
  x: number[],
  shape: number[],
  g: number[],
  params: tf.Variable[],
): PassResult {
  const xVar = tf.variable(tf.tensor(x, shape), true);
  const gT = tf.tensor(g, shape);
  let y: tf.Tensor | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const out = forward(xVar);
    y = tf.keep(out);
    return tf.sum(tf.mul(out, gT)) as tf.Scalar;
  }, [xVar, ...params]);
  const result: PassResult = {
    y: Array.from((y as unknown as tf.Tensor).dataSync()),
    dx: Array.from(grads[xVar.name].dataSync()),
    dParams: params.map((p) => Array.from(grads[p.name].dataSync())),
  };
  (y as unknown as tf.Tensor).dispose();
  value.dispose();
  Object.values(grads).forEach((t) => t.dispose());
  gT.dispose();
  xVar.dispose();
  return result;
}

/** Loads a JSON fixture from test/fixtures/layers. */
export function loadFixture<T>(name: string): T {
  const url = new URL(`../fixtures/layers/${name}`, import.meta.url);
  return JSON.parse(readFileSync(fileURLToPath(url), 'utf8')) as T;
}
