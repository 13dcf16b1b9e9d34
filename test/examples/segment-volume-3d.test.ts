import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

const haveColin27 = existsSync('/usr/share/mricron/templates/ch2.nii.gz') && existsSync('/usr/share/mricron/templates/ch2bet.nii.gz');
if (!haveColin27) console.warn('[segment-volume-3d.test] Debian mricron-data absent: only the synthetic-ellipsoid part of the 3-D example is checked.');

interface Fit { lossFirstEpoch: number; lossLastEpoch: number }

describe('npm run example:3d (segment-volume-3d --quick)', () => {
  it('trains 3-D U-Nets on one Colin27 hemisphere and on ellipsoids, scores held-out data, writes the planes', async () => {
    const { out, summary } = await runExample('segment-volume-3d');
    // Ellipsoids: the loss falls and held-out Dice beats calling every voxel foreground.
    const ell = summary.ellipsoids as Fit & { heldOutDice: number; allForegroundDice: number; heldOutDicePerVolume: number[] };
    expect(ell.lossLastEpoch).toBeLessThan(ell.lossFirstEpoch * 0.9);
    expect(ell.heldOutDice).toBeGreaterThan(ell.allForegroundDice);
    expect(ell.heldOutDicePerVolume).toHaveLength(4);
    expect(readFileSync(join(out, 'ellipsoid-planes.png')).subarray(1, 4).toString()).toBe('PNG');
    if (haveColin27) {
      const brain = summary.brain as { allForegroundDice: number; unet3d: Fit & { heldOut: { dice: number; hd95: number } }; unet2dSliceWise: Fit & { heldOut: { dice: number; hd95: number } } };
      // The 3-D model learns from the left half what the right half looks like: above the all-brain floor.
      expect(brain.unet3d.lossLastEpoch).toBeLessThan(brain.unet3d.lossFirstEpoch * 0.9);
      expect(brain.unet3d.heldOut.dice).toBeGreaterThan(brain.allForegroundDice + 0.05);
      expect(Number.isFinite(brain.unet3d.heldOut.hd95)).toBe(true);
      // The 2-D comparison ran and learned something (3 quick epochs are too few to rank it).
      expect(brain.unet2dSliceWise.lossLastEpoch).toBeLessThan(brain.unet2dSliceWise.lossFirstEpoch);
      expect(brain.unet2dSliceWise.heldOut.dice).toBeGreaterThan(0);
      expect(readFileSync(join(out, 'brain-planes.png')).subarray(1, 4).toString()).toBe('PNG');
    } else {
      expect((summary.brain as { skipped: string }).skipped).toMatch(/mricron-data/);
    }
    expect(summary.seconds).toBeGreaterThan(0);
    rmSync(out, { recursive: true, force: true });
  }, 600_000);
});
