import { defineConfig, type Options } from 'tsup';

const library = {
  entry: {
    index: 'src/index.ts',
    // `medvae/backends/webgl|webgpu`: literal imports of the optional GPU backend packages for
    // bundled apps (see src/backend/entries).
    'backends/webgl': 'src/backend/entries/webgl.ts',
    'backends/webgpu': 'src/backend/entries/webgpu.ts',
    // `medvae/dicom-codecs`: literal imports of the optional DICOM codecs for browser bundles.
    'dicom-codecs': 'src/data/readers/dicom-codecs-entry.ts',
    // Subpath entries (`medvae/losses`, ...): one area each. They share code with the root entry
    // through chunks (splitting below), so `medvae/models`' UNetSegmenter is the root's
    // UNetSegmenter: instanceof and module state (the active backend, registered kernels) hold
    // across entries instead of each entry carrying its own copy.
    'losses/index': 'src/losses/index.ts',
    'metrics/index': 'src/metrics/index.ts',
    'data/index': 'src/data/index.ts',
    'models/index': 'src/entries/models.ts',
    'backend/index': 'src/backend/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'neutral',
  // Shared code goes to dist/chunks/ (ESM and CJS alike); package.json "sideEffects" lists that
  // folder because a chunk may hold the kernel and gradient registrations.
  splitting: true,
  esbuildOptions(options) {
    options.chunkNames = 'chunks/[name]-[hash]';
  },
  // Peer and optional peer packages stay external so the user's single tfjs-core instance is used.
  external: [
    /^@tensorflow\//,
    'webgpu',
    /^node:/,
    // Optional DICOM codecs (WebAssembly): imported lazily, never bundled into medvae.
    /^@cornerstonejs\/codec-/,
    'jpeg-lossless-decoder-js',
    'dcmjs-codecs',
  ],
  // Keep `node:` on Node built-ins (tsup strips it by default): browser bundlers recognise
  // `node:fs/promises` as a Node module they need not resolve, but fail on a bare `fs/promises`.
  removeNodeProtocol: false,
} satisfies Options;

// The `medvae` command (package.json "bin"): one ESM file for Node whose imports of the library
// barrel resolve to the package itself, so the CLI does not carry a second copy of the library.
const cli: Options = {
  entry: { cli: 'src/cli/main.ts' },
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: false,
  target: 'node20',
  platform: 'node',
  splitting: false,
  external: [/^@tensorflow\//, 'webgpu', /^node:/, 'medvae'],
  esbuildPlugins: [
    {
      name: 'medvae-self-import',
      setup(build) {
        build.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: 'medvae', external: true }));
      },
    },
  ],
};

export default defineConfig([library, cli]);
