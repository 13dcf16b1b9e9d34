import * as tf from '@tensorflow/tfjs-core';
import ndarray from 'ndarray';
import { beforeAll, describe, expect, it } from 'vitest';
import { DTypeError, fromNdarray, toNdarray, toNdarrayAsync } from '../../../src/index.js';
import { expectNoLeak, setupBackend } from '../../helpers/tf.js';

beforeAll(() => setupBackend('cpu'));

describe('fromNdarray', () => {
  it('shares memory with a contiguous float32 ndarray on the cpu backend (offset included)', () => {
    const buf = Float32Array.from({ length: 30 }, (_, i) => i);
    const nd = ndarray(buf, [2, 3, 4], [12, 4, 1], 6);
    const t = fromNdarray(nd);
    expect(t.shape).toEqual([2, 3, 4]);
    expect(t.dtype).toBe('float32');
    const stored = t.dataSync();
    expect(stored.buffer).toBe(buf.buffer); // no copy
    expect(Array.from(stored)).toEqual(Array.from({ length: 24 }, (_, i) => i + 6));
    t.dispose();
    const copied = fromNdarray(nd, { copy: true });
    expect(copied.dataSync().buffer).not.toBe(buf.buffer);
    copied.dispose();
  });

  it('copies transposed, stepped and negatively strided views in logical order', () => {
    const base = ndarray(Float64Array.from({ length: 12 }, (_, i) => i), [3, 4]);
    const cases = [base.transpose(1, 0), base.step(-1, 2), base.hi(2, 3).lo(0, 1), base.pick(null, 2)];
    for (const view of cases) {
      const t = fromNdarray(view);
      const expected: number[] = [];
      if (view.dimension === 1) for (let i = 0; i < view.shape[0]; i++) expected.push(view.get(i));
      else for (let i = 0; i < view.shape[0]; i++) for (let j = 0; j < view.shape[1]; j++) expected.push(view.get(i, j));
      expect(t.shape).toEqual(view.shape);
      expect(Array.from(t.dataSync())).toEqual(expected);
      t.dispose();
    }
  });

  it('picks int32 for integer data, honours dtype, and accepts plain arrays', () => {
    const u8 = fromNdarray(ndarray(new Uint8Array([1, 2, 255]), [3]));
    expect(u8.dtype).toBe('int32');
    expect(Array.from(u8.dataSync())).toEqual([1, 2, 255]);
    const f = fromNdarray(ndarray(new Uint8Array([1, 2, 255]), [3]), { dtype: 'float32' });
    expect(f.dtype).toBe('float32');
    const plain = fromNdarray(ndarray([1.5, 2.5, 3.5, 4.5], [2, 2]));
    expect(plain.dtype).toBe('float32');
    expect(Array.from(plain.dataSync())).toEqual([1.5, 2.5, 3.5, 4.5]);
    const b = fromNdarray(ndarray([0, 3, 0], [3]), { dtype: 'bool' });
    expect(Array.from(b.dataSync())).toEqual([0, 1, 0]);
    tf.dispose([u8, f, plain, b]);
  });

  it('leaks no tensors', async () => {
    const nd = ndarray(new Float32Array(24), [2, 3, 4]);
    await expectNoLeak(() => fromNdarray(nd.transpose(2, 0, 1)).dispose());
  });
});

describe('toNdarray', () => {
  it('wraps the tensor values row-major, sharing on cpu unless copy is asked', async () => {
    const t = tf.tensor3d(Float32Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
    const nd = toNdarray(t);
    expect(nd.shape).toEqual([2, 3, 4]);
    expect(nd.get(1, 2, 3)).toBe(23);
    expect(nd.get(0, 1, 2)).toBe(6);
    expect(nd.data.buffer).toBe(t.dataSync().buffer);
    const copy = toNdarray(t, { copy: true });
    expect(copy.data.buffer).not.toBe(t.dataSync().buffer);
    const ti = tf.cast(t, 'int32');
    const asyncNd = await toNdarrayAsync(ti);
    expect(asyncNd.data).toBeInstanceOf(Int32Array);
    expect(asyncNd.get(1, 0, 0)).toBe(12);
    // Round trip.
    const back = fromNdarray(nd);
    expect(Array.from(back.dataSync())).toEqual(Array.from(t.dataSync()));
    tf.dispose([t, back, ti]);
  });

  it('refuses string tensors', () => {
    const s = tf.tensor(['a']);
    expect(() => toNdarray(s)).toThrow(DTypeError);
    s.dispose();
  });
});
