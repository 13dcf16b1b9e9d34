import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'neutral',
  splitting: false,
  // Peer and optional peer packages stay external so the user's single tfjs-core instance is used.
  external: [
    /^@tensorflow\//,
    'webgpu',
    /^node:/,
    // Optional DICOM codecs (WebAssembly): imported lazily, never bundled into medvae.
    /^@cornerstonejs\/codec-/,
    'jpeg-lossless-decoder-js',
  ],
  // nifti-reader-js ships ESM only (its exports map has no "require"), so the CJS build could not
  // load it; bundling it makes both builds self-sufficient.
  noExternal: ['nifti-reader-js'],
});
