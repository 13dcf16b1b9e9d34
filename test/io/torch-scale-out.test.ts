import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// examples/scale-out end to end in --quick mode: medvae trains briefly, PyTorch continues with
// DistributedDataParallel on two gloo processes, medvae imports the result; both sides' Dice agree.
const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torch, torch.distributed as d; assert d.is_available() and d.is_gloo_available(); print(torch.__version__)'], { encoding: 'utf8' });
const ready = probe.status === 0;
if (!ready) {
  console.log(`Skipping the scale-out (DistributedDataParallel) run: ${PYTHON} lacks torch with gloo (${(probe.error?.message ?? probe.stderr ?? '').trim().split('\n').pop()}). Debian: apt-get install python3-torch.`);
}
const root = resolve(__dirname, '..', '..');

describe.skipIf(!ready)('examples/scale-out (--quick): medvae → PyTorch DDP on 2 processes → medvae', () => {
  it('prints the same held-out Dice on both sides, before and after the distributed training', async () => {
    const out = mkdtempSync(join(tmpdir(), 'medvae-scale-out-'));
    const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'examples', 'scale-out', 'scale-out.ts'), '--quick', '--out', out], {
      cwd: root, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024,
    });
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      torch: { processes: number; backend: string }; heldOutDice: Record<string, number>;
    };
    const d = summary.heldOutDice;
    expect(summary.torch).toMatchObject({ processes: 2, backend: 'gloo' });
    expect(Math.abs(d.medvaeBefore - d.torchBefore)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(d.medvaeAfter - d.torchAfter)).toBeLessThanOrEqual(1e-6);
    // PyTorch's training moved the network (the imported model is not the exported one).
    expect(d.torchAfter).not.toBe(d.torchBefore);
    // Both processes took part, each with its share of the slices.
    expect(stdout).toMatch(/\[torch\] 2 processes \(gloo, CPU\)/);
    expect(stdout).toMatch(/rank 0\/2: \d+ of \d+ training slices/);
    expect(stdout).toMatch(/rank 1\/2: \d+ of \d+ training slices/);
    expect(stdout).toMatch(/held-out Dice after import: {2}\d\.\d{6}/);
    for (const f of ['torch-export/config.json', 'torch-export/model.safetensors', 'torch-trained/model.safetensors', 'torch-trained/torch-result.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    rmSync(out, { recursive: true, force: true });
  }, 300_000);
});
