import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendError, useBackend } from '../../src/index.js';

describe('useBackend', () => {
  it('activates cpu and wasm, with gradients registered', async () => {
    for (const name of ['cpu', 'wasm'] as const) {
      expect(await useBackend(name)).toBe(name);
      expect(tf.getBackend()).toBe(name);
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)));
      const dx = g(tf.tensor1d([1, -2, 3]));
      expect(Array.from(dx.dataSync())).toEqual([2, -4, 6]);
      dx.dispose();
    }
  });

  it('names the missing package and the install command', async () => {
    await expect(useBackend('tensorflow')).rejects.toThrow(BackendError);
    await expect(useBackend('tensorflow-gpu')).rejects.toThrow(/npm install @tensorflow\/tfjs-node-gpu/);
    // webgl and webgpu are devDependencies: webgl refuses Node, webgpu fails without a Vulkan driver
    // Dawn accepts (or trains, see test/backend/webgpu-node.test.ts).
    await expect(useBackend('webgl')).rejects.toThrow(/Backend 'webgl' exists only in browsers/);
  });

  it('rejects unknown names', async () => {
    // @ts-expect-error testing a runtime check on an invalid name
    await expect(useBackend('metal')).rejects.toThrow(/Unknown backend 'metal'/);
  });
});
