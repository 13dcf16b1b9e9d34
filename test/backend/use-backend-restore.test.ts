// useBackend's bundler-facing paths: a failed switch leaves the previous backend active, an
// already-imported backend module can be passed in, and the GPU entry points register their
// backend by importing it.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendError, useBackend } from '../../src/index.js';

describe('useBackend', () => {
  it('restores the previous backend when a switch fails', async () => {
    await useBackend('cpu');
    await expect(useBackend('webgl')).rejects.toThrow(BackendError);
    expect(tf.getBackend()).toBe('cpu');
    await useBackend('wasm');
    const real = tf.findBackendFactory('cpu');
    // A backend that is registered but cannot initialise here (tfjs would otherwise be left on
    // whichever backend it picks next).
    tf.removeBackend('cpu');
    // Asynchronous, as webgpu's factory (which asks for an adapter) is.
    tf.registerBackend('cpu', async () => {
      throw new Error('cpu refuses to start');
    }, 50);
    await expect(useBackend('cpu')).rejects.toThrow(/Backend 'cpu' failed to initialise/);
    expect(tf.getBackend()).toBe('wasm');
    tf.removeBackend('cpu');
    tf.registerBackend('cpu', real, 1);
    expect(tf.sum(tf.tensor([1, 2])).arraySync()).toBe(3);
  });

  it('says what to pass when the given module registered nothing', async () => {
    await useBackend('cpu');
    await expect(useBackend('webgpu', { module: {} })).rejects.toThrow(/did not register the 'webgpu' backend: pass the @tensorflow\/tfjs-backend-webgpu module itself/);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('the entry points import in Node without side effects beyond registering', async () => {
    // (tfjs-backend-webgl registers only in browsers; the bundle test checks the browser side.)
    const gl = await import('../../src/backend/entries/webgl.js');
    const gpu = await import('../../src/backend/entries/webgpu.js');
    expect([gl.backend, gpu.backend]).toEqual(['webgl', 'webgpu']);
  });
});
