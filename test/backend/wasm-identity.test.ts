// medvae's wasm Identity and Cast (src/backend/wasm/identity.ts, cast.ts): a second handle on the
// input's data instead of a copy, so the usual aliasing bug (freeing data another tensor still
// uses) is what these tests look for, besides parity with stock wasm and cpu.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { isMedvaeKernel } from '../../src/backend/wasm/register.js';
import { expectNoLeak } from '../helpers/tf.js';
import { expectParity, filled, useParityBackends } from './wasm-parity.js';

/** The wasm heap offset of a tensor's data (equal offsets: shared storage). */
function offset(t: tf.Tensor): number {
  return (tf.backend() as unknown as { getMemoryOffset(id: object): number }).getMemoryOffset(t.dataId);
}

useParityBackends();

describe('wasm Identity', () => {
  it('is medvae\'s and matches stock wasm and cpu on float32, int32 and bool', async () => {
    expect(isMedvaeKernel(tf.Identity, 'wasm')).toBe(true);
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      await expectParity(() => tf.clone(filled([3, 5, 7], dtype)), [tf.Identity], `clone ${dtype}`);
    }
    await expectParity(() => tf.clone(tf.scalar(2.5)), [tf.Identity], 'clone of a scalar');
    await expectParity(() => tf.clone(tf.zeros([0, 4])), [tf.Identity], 'clone of an empty tensor');
  });

  it('shares the data: disposing the input keeps the output, and the other way round', async () => {
    await tf.setBackend('wasm');
    const bytes0 = tf.memory().numBytes;
    const ids0 = tf.engine().backend.numDataIds();
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const y = tf.clone(x);
    expect(offset(y)).toBe(offset(x)); // no copy
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    const z = tf.add(y, 1); // new allocations must not land on y's data
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    tf.dispose([y, z]);
    const a = tf.tensor([5, 6, 7]);
    const b = tf.clone(a);
    b.dispose();
    const c = tf.mul(a, 2);
    expect(Array.from(a.dataSync())).toEqual([5, 6, 7]);
    tf.dispose([a, c]);
    expect(tf.memory().numBytes).toBe(bytes0);
    expect(tf.engine().backend.numDataIds()).toBe(ids0);
  });

  it('keeps string tensors working (stock kernel)', async () => {
    await tf.setBackend('wasm');
    const s = tf.tensor(['a', 'bc']);
    const c = tf.clone(s);
    s.dispose();
    expect(c.arraySync()).toEqual(['a', 'bc']);
    c.dispose();
  });

  it('passes gradients as cpu does and leaks nothing', async () => {
    const f = (): tf.Tensor => {
      const x = filled([4, 3, 3, 2]);
      return tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.clone(v))))(x);
    };
    await expectParity(f, [tf.Identity, tf.Cast], 'gradient through clone');
    await tf.setBackend('wasm');
    const bytes0 = tf.memory().numBytes;
    await expectNoLeak(() => tf.dispose(tf.tidy(f)));
    expect(tf.memory().numBytes).toBe(bytes0);
  });
});

describe('wasm Cast', () => {
  it('matches stock wasm and cpu for conversions and same-dtype casts', async () => {
    expect(isMedvaeKernel(tf.Cast, 'wasm')).toBe(true);
    const pairs: [('float32' | 'int32' | 'bool'), tf.DataType][] = [
      ['float32', 'float32'],
      ['int32', 'int32'],
      ['bool', 'bool'],
      ['int32', 'float32'],
      ['bool', 'float32'],
      ['bool', 'int32'],
    ];
    for (const [from, to] of pairs) {
      await expectParity(() => tf.cast(filled([2, 3, 5], from), to), [tf.Cast], `cast ${from} → ${to}`);
    }
    // float → int32 truncates on wasm and cpu alike.
    await expectParity(() => tf.cast(tf.tensor([-2.5, -0.5, 0.5, 2.5, 7.9]), 'int32'), [tf.Cast], 'cast float32 → int32');
  });

  it('shares data only for a same-dtype cast, safely in either disposal order', async () => {
    await tf.setBackend('wasm');
    const bytes0 = tf.memory().numBytes;
    const x = tf.tensor([1.5, -2, 3]);
    const same = tf.cast(x, 'float32');
    const other = tf.cast(x, 'int32');
    expect(offset(same)).toBe(offset(x));
    expect(offset(other)).not.toBe(offset(x));
    x.dispose();
    expect(Array.from(same.dataSync())).toEqual([1.5, -2, 3]);
    expect(Array.from(other.dataSync())).toEqual([1, -2, 3]);
    const y = tf.tensor([4, 5], [2], 'int32');
    const yi = tf.cast(y, 'int32');
    yi.dispose();
    expect(Array.from(y.dataSync())).toEqual([4, 5]);
    tf.dispose([same, other, y]);
    expect(tf.memory().numBytes).toBe(bytes0);
  });
});
