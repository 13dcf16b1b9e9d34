// The tiny app the bundle test builds with Vite and esbuild against medvae's dist: it imports the
// package as a user would (plus the webgl/webgpu entry points) and trains a small U-Net.
import { ArrayDataset, UNetSegmenter, currentBackend, useBackend } from 'medvae';
import 'medvae/backends/webgl';
import 'medvae/backends/webgpu';

/** 8 synthetic 16x16 images: a bright square on noise, its mask the square (deterministic). */
function samples() {
  const out = [];
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < 8; i++) {
    const image = new Float32Array(256);
    const mask = new Float32Array(256);
    const x0 = 2 + (i % 4) * 2;
    const y0 = 3 + (i % 3) * 2;
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
      const inside = x >= x0 && x < x0 + 6 && y >= y0 && y < y0 + 6;
      image[y * 16 + x] = (inside ? 0.8 : 0.1) + 0.1 * rand();
      mask[y * 16 + x] = inside ? 1 : 0;
    }
    out.push({ image: { data: image, shape: [16, 16, 1] }, mask: { data: mask, shape: [16, 16, 1] } });
  }
  return new ArrayDataset(out);
}

window.medvaeTrain = async (backend, steps) => {
  // The wasm binaries are served beside the bundle.
  await useBackend(backend, backend === 'wasm' ? { wasmPaths: new URL('./', location.href).href } : {});
  const model = new UNetSegmenter({ inChannels: 1, numClasses: 2, channels: [4, 8], seed: 0 });
  const losses = [];
  await model.fit(samples(), {
    epochs: steps, batchSize: 4, lr: 1e-2, seed: 0, maxSteps: steps,
    callbacks: [{ onBatchEnd: (_p, logs) => { losses.push(logs.loss); } }],
  });
  const active = currentBackend();
  // A failed switch (no WebGPU adapter here) must leave the backend that was active.
  let webgpuError = null;
  try {
    await useBackend('webgpu');
    await useBackend(backend);
  } catch (err) {
    webgpuError = `${err.name}: ${err.message}`;
  }
  const afterFailedSwitch = currentBackend();
  let saved = null;
  try {
    await model.save('downloads://medvae-bundle-test');
    saved = 'ok';
  } catch (err) {
    saved = `${err.name}: ${err.message}`;
  }
  model.dispose?.();
  return { active, losses, webgpuError, afterFailedSwitch, saved };
};
window.medvaeReady = true;
