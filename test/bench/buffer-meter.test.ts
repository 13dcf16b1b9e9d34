// The benchmark's buffer meter (bench/buffer-meter.ts) must count each data buffer once, however
// many tensor objects share it, since bench:memory's "distinct buffers" column rests on it.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BufferMeter, measureBuffers } from '../../bench/buffer-meter.js';
import { setupBackend } from '../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

describe('BufferMeter', () => {
  it('counts a new buffer once, not its reshapes or clones, and subtracts it when freed', () => {
    const meter = new BufferMeter();
    meter.start();
    const a = tf.zeros([256, 256]); // 256 KiB
    const views = [tf.reshape(a, [65536]), tf.clone(a), tf.reshape(a, [128, 512])];
    const b = tf.add(a, a); // a second buffer
    tf.dispose(views);
    a.dispose(); // the buffer goes with its last tensor
    const counts = meter.stop();
    expect(counts).toEqual({ peak: 2 * 262144, live: 262144, allocated: 2 * 262144 });
    // After stop the engine is unhooked: new tensors are not counted.
    const c = tf.ones([10]);
    expect(meter.stop()).toEqual(counts);
    tf.dispose([b, c]);
  });

  it('ignores buffers that existed before it started, and unhooks when the measured function throws', async () => {
    const before = tf.ones([1000]);
    const counts = await measureBuffers(() => {
      tf.reshape(before, [10, 100]).dispose();
      before.dispose();
      return tf.tidy(() => tf.sum(tf.square(tf.ones([100]))));
    });
    // ones (400 B), square (400 B), sum (4 B) were new; the sum survives.
    expect(counts.allocated).toBe(804);
    expect(counts.live).toBe(4);
    counts.result.dispose();
    const engine = tf.engine() as unknown as { trackTensor: unknown; removeDataId: unknown };
    const hooks = [engine.trackTensor, engine.removeDataId];
    await expect(
      measureBuffers(() => {
        throw new Error('x');
      }),
    ).rejects.toThrow('x');
    expect([engine.trackTensor, engine.removeDataId]).toEqual(hooks);
  });
});
