import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NiftiVolume, readNifti, writeNifti } from '../../src/index.js';
import { main, reportError } from '../../src/cli/main.js';
import { UsageError } from '../../src/cli/errors.js';
import { volumeDice } from '../../src/cli/segment.js';
import { FileFormatError } from '../../src/index.js';

const root = resolve(__dirname, '../..');

/** Runs the `medvae` command from source (as the bin runs dist/cli.js) and returns its exit code and output. */
// Asynchronous, so the test worker keeps answering vitest while the command runs.
function medvae(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

/** A 20×18×8 volume (RAS, 1.5 × 1 × 2 mm, shifted origin) with a bright ellipsoid, and its mask. */
function phantom(seed: number): { image: NiftiVolume; mask: NiftiVolume } {
  const dims = [20, 18, 8];
  const n = dims[0] * dims[1] * dims[2];
  const img = new Int16Array(n);
  const msk = new Uint8Array(n);
  let s = seed;
  for (let z = 0, i = 0; z < dims[2]; z++) {
    for (let y = 0; y < dims[1]; y++) {
      for (let x = 0; x < dims[0]; x++, i++) {
        s = (s * 1103515245 + 12345) % 2147483648;
        const inside = ((x - 10 - seed) / 6) ** 2 + ((y - 9) / 5) ** 2 + ((z - 4) / 3.5) ** 2 < 1;
        msk[i] = inside ? 1 : 0;
        img[i] = (inside ? 800 : 100) + Math.round((s / 2147483648) * 60);
      }
    }
  }
  const affine = [
    [1.5, 0, 0, -14],
    [0, 1, 0, -9],
    [0, 0, 2, 3],
    [0, 0, 0, 1],
  ];
  const header = { sformCode: 1, sform: affine, qformCode: 1, qform: affine };
  return {
    image: new NiftiVolume({ dims, data: img, spacing: [1.5, 1, 2], affine, header }),
    mask: new NiftiVolume({ dims, data: msk, spacing: [1.5, 1, 2], affine, header }),
  };
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'medvae-cli-'));
  for (const sub of ['images', 'labels']) mkdirSync(join(dir, sub));
  for (const k of [0, 1]) {
    const { image, mask } = phantom(k);
    writeFileSync(join(dir, 'images', `case${k}.nii.gz`), writeNifti(image, { gzip: true }));
    writeFileSync(join(dir, 'labels', `case${k}.nii.gz`), writeNifti(mask, { gzip: true }));
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('medvae command (spawned)', () => {
  it('prints help and exits 0; no command exits 2', async () => {
    const help = await medvae(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/info FILE.*\n.*segment IN.*\n.*train/s);
    const none = await medvae([]);
    expect(none.code).toBe(2);
  }, 300_000);

  it('info: format, shape, spacing, orientation and dtype of a NIfTI file, also as JSON', async () => {
    const file = join(dir, 'images', 'case0.nii.gz');
    const r = await medvae(['info', file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(info).toMatchObject({ format: 'NIfTI-1', shape: [20, 18, 8], spacing: [1.5, 1, 2], orientation: 'RAS', dtype: 'int16', sformCode: 1 });
    expect((info.affine as number[][])[0]).toEqual([1.5, 0, 0, -14]);
  }, 300_000);

  it('train then segment: a label volume with the input affine, and the Dice against a reference', async () => {
    const model = join(dir, 'model');
    const t = await medvae([
      'train', '--images', join(dir, 'images'), '--labels', join(dir, 'labels'), '--out', model, '--backend', 'cpu',
      '--size', '16', '--channels', '4,8', '--epochs', '3', '--batch-size', '4', '--lr', '0.01', '--intensity', 'minmax',
    ]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/2 volume\(s\) → \d+ slices/);
    expect(JSON.parse(readFileSync(join(model, 'medvae-volume.json'), 'utf8'))).toEqual({ axis: ['axial'], size: [16, 16], intensity: 'minmax', flipRows: true });
    const out = join(dir, 'mask.nii.gz');
    const s = await medvae(['segment', join(dir, 'images', 'case1.nii.gz'), '--model', model, '--out', out, '--backend', 'cpu', '--reference', join(dir, 'labels', 'case1.nii.gz')]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/slices resized to 16×16, intensity "minmax"/);
    const dice = Number(/3-D Dice vs .*: ([0-9.]+)/.exec(s.stdout)?.[1]);
    expect(dice).toBeGreaterThanOrEqual(0);
    expect(dice).toBeLessThanOrEqual(1);
    const mask = readNifti(readFileSync(out));
    const ref = phantom(1).image;
    expect(mask.dims).toEqual([20, 18, 8]);
    expect(mask.datatype).toBe('uint8');
    expect(mask.affine).toEqual(ref.affine);
    expect(mask.header.sformCode).toBe(1);
    // The printed Dice is the closed form on the written mask.
    expect(dice).toBeCloseTo(volumeDice(mask, phantom(1).mask).foreground, 4);
  }, 600_000);

  it('prints typed errors as one line with exit code 1, usage errors with exit code 2', async () => {
    const missing = await medvae(['info', join(dir, 'nope.nii.gz')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^medvae: FileFormatError: Cannot read '.*nope\.nii\.gz'/);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const bad = await medvae(['segment', 'x.nii', '--model', 'm', '--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^medvae: Unknown option '--bogus'/);
  }, 300_000);
});

describe('medvae command (in process)', () => {
  it('has --help for every command', async () => {
    for (const cmd of ['info', 'segment', 'train']) {
      const lines: string[] = [];
      expect(await main([cmd, '--help'], (l) => lines.push(l))).toBe(0);
      expect(lines.join('\n')).toMatch(new RegExp(`^usage: medvae ${cmd}`));
    }
  });

  it('names missing and malformed options', async () => {
    await expect(main(['segment', 'in.nii'], () => {})).rejects.toThrow(/needs --model/);
    await expect(main(['train', '--images', 'a', '--labels', 'b', '--out', 'c', '--size', '0'], () => {})).rejects.toThrow(UsageError);
    await expect(main(['segment', 'in.nii', '--model', 'm', '--out', 'o', '--axis', 'oblique'], () => {})).rejects.toThrow(/--axis/);
    await expect(main(['frobnicate'], () => {})).rejects.toThrow(/Unknown command 'frobnicate'/);
    const lines: string[] = [];
    expect(reportError(new FileFormatError('bad header'), (l) => lines.push(l))).toBe(1);
    expect(reportError(new UsageError('no'), (l) => lines.push(l))).toBe(2);
    expect(lines).toEqual(['medvae: FileFormatError: bad header', 'medvae: no']);
  });

  it('computes Dice in closed form', () => {
    const mk = (v: number[]) => new NiftiVolume({ dims: [4, 1, 1], data: Uint8Array.from(v) });
    expect(volumeDice(mk([1, 1, 0, 0]), mk([1, 0, 0, 0])).foreground).toBeCloseTo(2 / 3, 12);
    expect(volumeDice(mk([1, 2, 0, 0]), mk([1, 2, 2, 0])).perClass).toEqual({ 1: 1, 2: 2 / 3 });
  });
});

const pydicomCT = '/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm';
if (!existsSync(pydicomCT)) console.log(`[skip] medvae info on DICOM: ${pydicomCT} is absent (install the Debian package python3-pydicom)`);

describe.skipIf(!existsSync(pydicomCT))('medvae info on DICOM (pydicom test file)', () => {
  it('reports modality, shape and spacing of a one-slice series', async () => {
    const lines: string[] = [];
    expect(await main(['info', pydicomCT, '--json'], (l) => lines.push(l))).toBe(0);
    const info = JSON.parse(lines.join('\n')) as Record<string, unknown>;
    expect(info).toMatchObject({ format: 'DICOM', modality: 'CT', shape: [128, 128, 1], slices: 1, dtype: 'int16' });
    expect((info.spacing as number[]).slice(0, 2).map((v) => Number(v.toFixed(6)))).toEqual([0.661468, 0.661468]);
  });
});
