// WebGPU training in Node: the `webgpu` package (Dawn) on Chromium's SwiftShader Vulkan driver
// (Debian's lavapipe is refused by Dawn). Dawn reads VK_ICD_FILENAMES and needs LD_LIBRARY_PATH at
// process start, so the work runs in a child process (test/backend/webgpu-node-run.ts) started
// with both set; it prints one JSON report.
//
// Checked: medvae's webgpu kernels (src/backend/webgpu) equal the cpu backend (int32/bool exactly,
// float32 within rounding), leak nothing, and the same cases do come out wrong on
// tfjs-backend-webgpu's own kernels; a small UNetSegmenter and a small DDPM train on webgpu with
// the losses of pure wasm (3 steps each by default, MEDVAE_WEBGPU_STEPS=20 for 20).
//
// Skipped, with the reason printed, where the `webgpu` package or the SwiftShader ICD
// (/usr/lib/chromium/vk_swiftshader_icd.json, from Debian's chromium, which .ci/run installs) is missing.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ICD = process.env.MEDVAE_VK_ICD ?? '/usr/lib/chromium/vk_swiftshader_icd.json';

function whySkip(): string | null {
  try {
    createRequire(import.meta.url).resolve('webgpu');
  } catch {
    return 'the webgpu package (Dawn, a devDependency) is not installed';
  }
  if (!existsSync(ICD)) return `${ICD} (SwiftShader's Vulkan driver, from Debian's chromium) is missing`;
  return null;
}
const skipReason = whySkip();
if (skipReason !== null) console.log(`[test/backend/webgpu-node] skipped: ${skipReason}`);

interface KernelResult { name: string; dtype: string; shape: number[]; maxAbsDiff: number; dtypeOk: boolean; shapeOk: boolean }
interface Curve { losses: number[]; ms: number }
interface Report {
  kernels: { results: KernelResult[]; leakedTensors: number; leakedData: number; stockWrong: string[] };
  train: Record<'unet' | 'ddpm', Record<'wasm' | 'webgpu', Curve>>;
  totalMs: number;
}

/**
 * Training steps per model and backend. SwiftShader runs WebGPU on the CPU at several
 * milliseconds per dispatch (a DDPM step is ~1,500 dispatches, ~5 s of CPU), so `npm test` trains
 * 3 steps; MEDVAE_WEBGPU_STEPS=20 runs the full 20-step comparison (several minutes).
 */
const STEPS = Number(process.env.MEDVAE_WEBGPU_STEPS ?? '3');
/** Largest relative difference allowed between the webgpu and wasm loss at each step (see below). */
const REL_TOL = 1e-4;

function runChild(): Promise<Report> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'test', 'backend', 'webgpu-node-run.ts'), String(STEPS)], {
      cwd: ROOT,
      timeout: 1_500_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, VK_ICD_FILENAMES: ICD, LD_LIBRARY_PATH: [dirname(ICD), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') },
    }, (err, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('MEDVAE_WEBGPU_REPORT '));
      if (line === undefined) return reject(new Error(`the webgpu child printed no report (${err?.message ?? 'exit 0'}):\n${stderr.slice(-4000)}`));
      resolve(JSON.parse(line.slice('MEDVAE_WEBGPU_REPORT '.length)) as Report);
    });
  });
}

describe.skipIf(skipReason !== null)('webgpu in Node (Dawn + SwiftShader)', () => {
  let report: Report;
  beforeAll(async () => {
    report = await runChild();
    const t = report.train;
    for (const model of ['unet', 'ddpm'] as const) {
      for (const b of ['wasm', 'webgpu'] as const) console.log(`[test/backend/webgpu-node] ${model} ${b} (${(t[model][b].ms / 1000).toFixed(1)} s): ${t[model][b].losses.map((l) => l.toFixed(6)).join(' ')}`);
    }
  }, 1_600_000);

  it("medvae's webgpu kernels equal the cpu backend (int32/bool exactly) and leak nothing", () => {
    for (const r of report.kernels.results) {
      expect(r.dtypeOk && r.shapeOk, `${r.name}: ${r.dtype} [${r.shape}]`).toBe(true);
      const integral = !/float32/.test(r.name) && r.dtype !== 'float32';
      // Integer results must be exact; float32 sums of a few dozen O(1) terms agree to rounding.
      expect(r.maxAbsDiff, r.name).toBeLessThanOrEqual(integral ? 0 : 1e-5);
    }
    expect(report.kernels.leakedTensors).toBe(0);
    expect(report.kernels.leakedData).toBe(0);
  });

  it("the same cases are wrong on tfjs-backend-webgpu's own kernels (what medvae's fix)", () => {
    const wrong = new Set(report.kernels.stockWrong);
    // (A failed program leaves its output buffer as the pool last held it, which may be the right
    // answer from medvae's run of the same case, so not every stock case shows up wrong.)
    for (const name of ['sum one-hot int32 over H, W (Dice)', 'addN 34 float32']) expect(wrong.has(name), name).toBe(true);
    expect(report.kernels.stockWrong.filter((n) => n.startsWith('transpose')).length, report.kernels.stockWrong.join('; ')).toBeGreaterThanOrEqual(2);
    for (const name of report.kernels.stockWrong) expect(name, 'a stock-path case').not.toMatch(/\(stock\)/);
  });

  // Both backends compute in float32 but round differently (XNNPACK vs WGSL convolutions, other
  // summation orders): single ops differ by a few float32 ulps (~1e-7 relative), and the optimizer
  // steps carry that into the weights, a few 1e-6 after 20 steps (measured); a wrong kernel moves
  // the first loss by far more than REL_TOL.
  it.each(['unet', 'ddpm'] as const)(`a small %s trains ${STEPS} steps on webgpu with the losses of pure wasm`, (model) => {
    const { wasm, webgpu } = report.train[model];
    expect(webgpu.losses).toHaveLength(STEPS);
    expect(wasm.losses).toHaveLength(STEPS);
    for (let i = 0; i < STEPS; i++) expect(Math.abs(webgpu.losses[i] - wasm.losses[i]), `step ${i}: webgpu ${webgpu.losses[i]} wasm ${wasm.losses[i]}`).toBeLessThanOrEqual(REL_TOL * Math.abs(wasm.losses[i]));
    // The segmenter's loss falls from the first step on (a DDPM's jumps with the drawn timesteps).
    if (model === 'unet') expect(webgpu.losses[STEPS - 1]).toBeLessThan(webgpu.losses[0]);
  });
});
