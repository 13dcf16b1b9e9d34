// The two library changes the browser demo needed, checked in Node: file-system paths refuse to run
// outside Node with medvae's message (bundlers stub node:fs instead of failing the import), and
// models load from http(s) URLs through tfjs's http handler directly (Vite drops tfjs-core's http
// router registration from browser bundles).
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNodeFs, hasNodeFs } from '../../src/core/runtime.js';
import { MedvaeError, UNetSegmenter } from '../../src/index.js';
import { setupBackend } from '../helpers/tf.js';

/** Runs `fn` with `globalThis.process` hidden, as in a browser. `fn` must be synchronous. */
function withoutProcess<T>(fn: () => T): T {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'process');
  Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true });
  try {
    return fn();
  } finally {
    if (saved) Object.defineProperty(globalThis, 'process', saved);
  }
}

describe('Node-only paths outside Node', () => {
  it('are allowed in Node', () => {
    expect(hasNodeFs()).toBe(true);
    expect(() => assertNodeFs('x')).not.toThrow();
  });

  it('throw a MedvaeError that says what to do instead', () => {
    expect(withoutProcess(() => hasNodeFs())).toBe(false);
    const err = withoutProcess(() => {
      try {
        assertNodeFs("Reading 'ch2.nii.gz'");
      } catch (e) {
        return e;
      }
      return null;
    });
    expect(err).toBeInstanceOf(MedvaeError);
    expect((err as Error).message).toMatch(/^Reading 'ch2\.nii\.gz' reads or writes file-system paths, which only works in Node\.js\. In a browser, pass the file's bytes/);
  });
});

describe('models over http', () => {
  let dir: string;
  let url: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    await setupBackend('cpu');
    dir = await mkdtemp(join(tmpdir(), 'medvae-http-'));
    const server = createServer((req, res) => {
      const name = (req.url ?? '').split('/').pop() ?? '';
      readFile(join(dir, name)).then((b) => res.writeHead(200).end(b), () => res.writeHead(404).end());
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model/model.json`;
    close = () => new Promise((ok) => server.close(() => ok()));
  });

  afterAll(async () => {
    await close();
    await rm(dir, { recursive: true, force: true });
  });

  it('UNetSegmenter.load reads an http URL and gives the same outputs', async () => {
    const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 3 });
    await model.save(dir);
    const loaded = await UNetSegmenter.load(url);
    const x = tf.randomUniform([1, 16, 16, 1], 0, 1, 'float32', 1);
    const [a, b] = [model.predictProba(x), loaded.predictProba(x)];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('names the URL when the server has no model there', async () => {
    await expect(UNetSegmenter.load(url.replace('model.json', 'missing.json'))).rejects.toThrow(/missing\.json/);
  });
});
