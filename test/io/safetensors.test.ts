import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileFormatError, decodeSafetensors, encodeSafetensors, loadSafetensors, saveSafetensors } from '../../src/index.js';
import { expectClose, setupBackend } from '../helpers/tf.js';

const fixture = new URL('../fixtures/io/mixed.safetensors', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('../fixtures/io/mixed.json', import.meta.url), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;

beforeAll(() => setupBackend('cpu'));

describe('safetensors', () => {
  it('reads a file written by an independent writer from PyTorch tensors', async () => {
    const { tensors, metadata } = await loadSafetensors(fixture.pathname);
    expect(metadata).toEqual({ format: 'pt', note: 'made by gen_safetensors.py' });
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, e] of Object.entries(expected)) {
      expect(tensors[name].shape, name).toEqual(e.shape);
      expectClose(tensors[name].dataSync() as Float32Array, e.values, 1e-7, 0, name);
    }
    expect(tensors['bn.num_batches_tracked'].dtype).toBe('int32');
    expect(tensors.mask.dtype).toBe('bool');
    tf.dispose(Object.values(tensors));
  });

  it('round-trips float32, int32 and bool tensors with metadata, written atomically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medvae-st-'));
    const file = join(dir, 'w.safetensors');
    const a = { w: tf.randomNormal([3, 2, 5], 0, 1, 'float32', 1), n: tf.tensor1d([1, -2, 3], 'int32'), b: tf.tensor1d([1, 0], 'bool') };
    await saveSafetensors(file, a, { epoch: '3' });
    expect(readdirSync(dir)).toEqual(['w.safetensors']);
    const back = await loadSafetensors(file);
    expect(back.metadata).toEqual({ epoch: '3' });
    for (const k of Object.keys(a) as (keyof typeof a)[]) {
      expect(back.tensors[k].dtype).toBe(a[k].dtype);
      expect(Array.from(back.tensors[k].dataSync())).toEqual(Array.from(a[k].dataSync()));
    }
    // The header is padded so the data section starts 8-byte aligned.
    const bytes = readFileSync(file);
    expect((8 + Number(bytes.readBigUInt64LE(0))) % 8).toBe(0);
    tf.dispose([...Object.values(a), ...Object.values(back.tensors)]);
    rmSync(dir, { recursive: true });
  });

  it('rejects truncated and lying files with FileFormatError', () => {
    const x = tf.ones([4, 4]);
    const good = encodeSafetensors({ x });
    x.dispose();
    expect(() => decodeSafetensors(good.subarray(0, good.length - 1), 'cut.safetensors')).toThrow(/cut.safetensors.*spans bytes/);
    const lying = good.slice();
    new DataView(lying.buffer).setBigUint64(0, 10n ** 15n, true);
    expect(() => decodeSafetensors(lying, 'big')).toThrow(FileFormatError);
    expect(() => decodeSafetensors(new Uint8Array(3))).toThrow(/fewer than the 8-byte/);
  });

  it('survives 1,000 mutated files with only FileFormatError', () => {
    const seedTensors = { a: tf.ones([2, 3]), b: tf.tensor1d([1, 2], 'int32') };
    const good = encodeSafetensors(seedTensors);
    tf.dispose(Object.values(seedTensors));
    const before = tf.memory().numTensors;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(good.length), (edits, cut) => {
        const bytes = good.slice(0, Math.max(cut, 1));
        for (const [i, v] of edits) if (i < bytes.length) bytes[i] = v;
        try {
          const { tensors } = decodeSafetensors(bytes);
          tf.dispose(Object.values(tensors));
        } catch (err) {
          if (!(err instanceof FileFormatError)) throw err;
        }
      }),
      { numRuns: 1000, seed: 1 },
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a tensor named __proto__ is an entry, not the prototype of the result (both ways)', () => {
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.tensor1d([4]);
    const named = Object.create(null) as Record<string, tf.Tensor>;
    named['__proto__'] = a;
    const ctorKey: string = 'constructor'; // a plain string: TypeScript types `.constructor` as Function
    named[ctorKey] = b;
    const bytes = encodeSafetensors(named);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))));
    expect(header).toContain('"__proto__":{"dtype":"F32","shape":[3]');
    const { tensors } = decodeSafetensors(bytes, 'proto.safetensors');
    expect(Object.getPrototypeOf(tensors)).toBe(null);
    expect(Object.keys(tensors).sort()).toEqual(['__proto__', 'constructor']);
    expect(Array.from(tensors['__proto__'].dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(tensors[ctorKey].dataSync())).toEqual([4]);
    tf.dispose([a, b, ...Object.values(tensors)]);
  });

  it('decoding before any backend is set up gives a BackendError saying to call useBackend', () => {
    // A fresh process: only tfjs-core is loaded, so no backend is registered at all.
    const root = new URL('../../', import.meta.url).pathname;
    const out = execFileSync(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'test', 'io', 'safetensors-no-backend.child.ts')], {
      cwd: root,
      timeout: 120_000,
      encoding: 'utf8',
    });
    const r = JSON.parse(out.trim().split('\n').pop() as string) as { ok: boolean; name: string; message: string };
    expect(r.ok).toBe(false);
    expect(r.name).toBe('BackendError');
    expect(r.message).toMatch(/Cannot decode w\.safetensors into tensors: no TensorFlow\.js backend is ready\. Call `await useBackend\(\)`/);
    expect(r.message).not.toMatch(/No backend found in registry/);
  });
});
