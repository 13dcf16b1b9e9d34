// Counts memory by data buffer rather than by tensor object. tf.memory().numBytes and tf.profile's
// peakBytes add a tensor's size for every tensor object, so a Reshape, a clone, or a tensor the
// engine saves for the backward pass (a clone sharing the original's buffer) counts as a full copy.
// This meter hooks the engine's bookkeeping (benchmark instrumentation only, not part of the
// library): a buffer counts from the moment the engine first tracks its dataId until the backend
// frees it. Scratch memory a kernel allocates and frees inside itself is not seen by either count.
import * as tf from '@tensorflow/tfjs-core';

interface EngineHooks {
  trackTensor: (t: tf.Tensor, backend: unknown) => void;
  removeDataId: (dataId: object, backend: unknown) => void;
  state: { tensorInfo: WeakMap<object, { bytes: number }> };
}

/** What a {@link BufferMeter} counted, in bytes of distinct data buffers created after it started. */
export interface BufferCounts {
  /** The most that were live at once. */
  peak: number;
  /** Still live when it stopped. */
  live: number;
  /** All created, whether freed since or not. */
  allocated: number;
}

/** Counts distinct data buffers created after {@link BufferMeter.start}. */
export class BufferMeter {
  private live = 0;
  private peak = 0;
  private allocated = 0;
  private restore: (() => void) | null = null;

  /** Starts counting from zero (buffers that already exist are not counted, nor their release). */
  start(): void {
    if (this.restore !== null) throw new Error('BufferMeter already started');
    const engine = tf.engine() as unknown as EngineHooks;
    const track = engine.trackTensor;
    const remove = engine.removeDataId;
    const mine = new WeakSet<object>();
    engine.trackTensor = (t, backend) => {
      const fresh = !engine.state.tensorInfo.has(t.dataId);
      track.call(engine, t, backend);
      if (!fresh) return;
      mine.add(t.dataId);
      const bytes = engine.state.tensorInfo.get(t.dataId)?.bytes ?? 0;
      this.live += bytes;
      this.allocated += bytes;
      this.peak = Math.max(this.peak, this.live);
    };
    engine.removeDataId = (dataId, backend) => {
      const info = engine.state.tensorInfo.get(dataId);
      if (info !== undefined && mine.has(dataId)) {
        mine.delete(dataId);
        this.live -= info.bytes;
      }
      remove.call(engine, dataId, backend);
    };
    this.live = 0;
    this.peak = 0;
    this.allocated = 0;
    this.restore = () => {
      engine.trackTensor = track;
      engine.removeDataId = remove;
    };
  }

  /** Stops counting and returns the counts since {@link BufferMeter.start}. */
  stop(): BufferCounts {
    // Safe to call twice: the second call only reads the counters.
    this.restore?.();
    this.restore = null;
    return { peak: this.peak, live: this.live, allocated: this.allocated };
  }
}

/** Runs `f` (awaited) under a {@link BufferMeter}; returns its result and the counts. */
export async function measureBuffers<T>(f: () => T | Promise<T>): Promise<BufferCounts & { result: T }> {
  const meter = new BufferMeter();
  meter.start();
  try {
    const result = await f();
    return { result, ...meter.stop() };
  } finally {
    meter.stop();
  }
}
