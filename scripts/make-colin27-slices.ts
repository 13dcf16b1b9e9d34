/**
 * Builds medvae's embedded default data set, data/colin27-slices/, from the Colin27 ("ch2") MNI
 * template shipped by Debian's mricron-data package:
 *
 *   image: /usr/share/mricron/templates/ch2.nii.gz    (T1, 181×217×181, 1 mm, uint8)
 *   mask:  /usr/share/mricron/templates/ch2bet.nii.gz (skull-stripped; brain = value > 0)
 *
 * Axial, coronal and sagittal slices with at least 1 % brain pixels (every `STEP`-th slice) are
 * zero-padded to a square and resized to 128×128 (bilinear image, nearest mask), then stored as
 * gzipped uint8 stacks plus a manifest. Run from the repository root:
 *
 *   npx tsx scripts/make-colin27-slices.ts [templatesDir] [outDir]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gzipSync } from 'fflate';
import { niftiSliceDataset } from '../src/data/nifti-slices.js';
import { COLIN27_AXES, type Colin27Manifest } from '../src/data/colin27.js';

const SIZE = 128;
const STEP = 1;
const MIN_FOREGROUND = 0.01;

async function main(): Promise<void> {
  const templates = process.argv[2] ?? '/usr/share/mricron/templates';
  const outDir = resolve(process.argv[3] ?? 'data/colin27-slices');
  const imagePath = join(templates, 'ch2.nii.gz');
  const maskPath = join(templates, 'ch2bet.nii.gz');

  const ds = await niftiSliceDataset({
    image: imagePath,
    mask: maskPath,
    axis: [...COLIN27_AXES],
    size: SIZE,
    step: STEP,
    minForeground: MIN_FOREGROUND,
    normalize: 'none',
    flipRows: true,
  });
  const n = ds.length;
  const px = SIZE * SIZE;
  const images = new Uint8Array(n * px);
  const masks = new Uint8Array(n * px);
  for (let i = 0; i < n; i++) {
    const s = ds.get(i);
    const img = s.image.data;
    const msk = s.mask!.data;
    for (let p = 0; p < px; p++) {
      // ch2 is stored as uint8 already; bilinear resampling only needs rounding back.
      images[i * px + p] = Math.min(255, Math.max(0, Math.round(img[p])));
      masks[i * px + p] = msk[p] > 0 ? 1 : 0;
    }
  }
  const counts = Object.fromEntries(COLIN27_AXES.map((a) => [a, ds.slices.filter((s) => s.axis === a).length]));
  const manifest: Colin27Manifest = {
    format: 'medvae-slices',
    version: 1,
    description:
      'Colin27 (MNI "ch2") T1 template slices with brain masks (ch2bet > 0): axial, coronal and sagittal slices ' +
      `with at least ${MIN_FOREGROUND * 100}% brain, zero-padded to square and resized to ${SIZE}x${SIZE} ` +
      '(bilinear image, nearest mask).',
    size: [SIZE, SIZE],
    count: n,
    counts,
    dtype: 'uint8',
    files: { images: 'images.u8.gz', masks: 'masks.u8.gz' },
    layout: 'images and masks: gzip of n x height x width uint8, row-major; image values are ch2 intensities (0-255), masks 0/1',
    source: {
      image: 'ch2.nii.gz',
      mask: 'ch2bet.nii.gz',
      package: 'Debian mricron-data (/usr/share/mricron/templates)',
      grid: [181, 217, 181],
      spacingMm: [1, 1, 1],
      orientation: 'RAS; rows flipped so anterior (axial) or superior (coronal, sagittal) is at the top',
      step: STEP,
      minForeground: MIN_FOREGROUND,
      script: 'scripts/make-colin27-slices.ts',
    },
    slices: ds.slices.map((s) => ({ axis: s.axis as Colin27Manifest['slices'][number]['axis'], index: s.index, foreground: Number(s.foreground.toFixed(4)) })),
  };
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'images.u8.gz'), gzipSync(images, { level: 9, mtime: 0 }));
  await writeFile(join(outDir, 'masks.u8.gz'), gzipSync(masks, { level: 9, mtime: 0 }));
  await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  const sizes = await Promise.all(['images.u8.gz', 'masks.u8.gz', 'manifest.json'].map(async (f) => (await readFile(join(outDir, f))).length));
  console.log(`wrote ${n} slices (${JSON.stringify(counts)}) to ${outDir}: ${sizes.map((b) => `${(b / 1024).toFixed(0)} KiB`).join(', ')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
