import * as tf from '@tensorflow/tfjs-core';

/** Counts synchronous readbacks (dataSync / arraySync / bufferSync) on the active backend. */
export interface ReadbackCounter {
  /** Synchronous readbacks since the counter was made. */
  readonly sync: number;
  /** Asynchronous reads (`await t.data()`) since the counter was made. */
  readonly async: number;
  /** Puts the backend's methods back. */
  restore(): void;
}

/**
 * Wraps the engine's `readSync` (what `dataSync`, `arraySync` and `bufferSync` call) and `read`
 * (what `await t.data()` calls). Kernels that look at their inputs' memory directly (wasm's Slice
 * reads its heap) are not readbacks and do not go through the engine, so they are not counted.
 */
export function countReadbacks(): ReadbackCounter {
  const backend = tf.engine() as unknown as {
    readSync: (dataId: object) => unknown;
    read: (dataId: object) => Promise<unknown>;
  };
  const readSync = backend.readSync;
  const read = backend.read;
  let sync = 0;
  let async = 0;
  let insideRead = 0;
  backend.readSync = function (this: unknown, dataId: object) {
    if (insideRead === 0) sync += 1;
    return readSync.call(this, dataId);
  };
  backend.read = function (this: unknown, dataId: object) {
    async += 1;
    insideRead += 1;
    try {
      return read.call(this, dataId);
    } finally {
      insideRead -= 1;
    }
  };
  return {
    get sync() {
      return sync;
    },
    get async() {
      return async;
    },
    restore() {
      backend.readSync = readSync;
      backend.read = read;
    },
  };
}
