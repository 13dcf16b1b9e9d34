// Vite config of the browser demo (examples/web). Build: `node node_modules/vite/bin/vite.js build examples/web`
// (output in examples/web/dist); dev server: `node node_modules/vite/bin/vite.js examples/web`.
//
// Besides the page it ships, under the output folder:
// - wasm/*.wasm: tfjs-backend-wasm's binaries, found at run time through useBackend's `wasmPaths`;
// - models/segmenter/: the UNetSegmenter saved by `npm run example` (runs/segment-brain/model, or
//   the folder in $MEDVAE_SEGMENTER_MODEL), when it exists;
// - models/ddpm/: a DDPM saved with `ddpm.save(dir)` (runs/ddpm-generation/model, written by the
//   ddpm-generation example, or the folder in $MEDVAE_DDPM_MODEL), when it exists;
// - models.json: which of the two were bundled, so the page can say what is missing.
// Optional tfjs backends (webgl, webgpu) are compiled in only when their packages are installed.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const require = createRequire(join(repo, 'package.json'));

const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
const OPTIONAL_BACKENDS = { webgl: '@tensorflow/tfjs-backend-webgl', webgpu: '@tensorflow/tfjs-backend-webgpu' } as const;
const VIRTUAL_BACKENDS = 'virtual:medvae-optional-backends';

function installed(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

function modelDir(envName: string, fallback: string): string | null {
  const dir = resolve(repo, process.env[envName] ?? fallback);
  return existsSync(join(dir, 'model.json')) && existsSync(join(dir, 'weights.bin')) ? dir : null;
}

/** URL path inside the page's folder → file on disk, for everything the page loads besides its bundle. */
function staticFiles(): { files: Map<string, string>; models: { segmenter: boolean; ddpm: boolean } } {
  const files = new Map<string, string>();
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  for (const f of WASM_FILES) files.set(`wasm/${f}`, join(wasmDir, f));
  const segmenter = modelDir('MEDVAE_SEGMENTER_MODEL', join('runs', 'segment-brain', 'model'));
  const ddpm = modelDir('MEDVAE_DDPM_MODEL', join('runs', 'ddpm-generation', 'model'));
  for (const [name, dir] of [['segmenter', segmenter], ['ddpm', ddpm]] as const) {
    if (dir === null) continue;
    files.set(`models/${name}/model.json`, join(dir, 'model.json'));
    files.set(`models/${name}/weights.bin`, join(dir, 'weights.bin'));
  }
  return { files, models: { segmenter: segmenter !== null, ddpm: ddpm !== null } };
}

function medvaeWebAssets(): Plugin {
  return {
    name: 'medvae-web-assets',
    resolveId(id) {
      return id === VIRTUAL_BACKENDS ? `\0${VIRTUAL_BACKENDS}` : null;
    },
    load(id) {
      if (id !== `\0${VIRTUAL_BACKENDS}`) return null;
      // A loader per optional backend that is installed; the page shows the others as unavailable.
      const lines = Object.entries(OPTIONAL_BACKENDS)
        .filter(([, pkg]) => installed(pkg))
        .map(([name, pkg]) => `  ${JSON.stringify(name)}: () => import(${JSON.stringify(pkg)}),`);
      return `export const optionalBackends = {\n${lines.join('\n')}\n};\n`;
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = decodeURIComponent((req.url ?? '').split('?')[0]).replace(/^\/+/, '');
        const { files, models } = staticFiles();
        if (path === 'models.json') {
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify(models));
          return;
        }
        const file = files.get(path);
        if (file === undefined) return next();
        res.setHeader('Content-Type', path.endsWith('.wasm') ? 'application/wasm' : path.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        res.end(readFileSync(file));
      });
    },
    generateBundle() {
      const { files, models } = staticFiles();
      for (const [fileName, file] of files) this.emitFile({ type: 'asset', fileName, source: readFileSync(file) });
      this.emitFile({ type: 'asset', fileName: 'models.json', source: JSON.stringify(models) });
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  plugins: [medvaeWebAssets()],
  // medvae's errors take their name from the class (new.target.name): keep class names when minifying.
  esbuild: { keepNames: true },
  build: {
    outDir: join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      onwarn(warning, warn) {
        // medvae reaches node:fs / node:path only through lazy imports inside its Node-only
        // functions (loading by directory, the *File readers), which refuse to run in a browser
        // with their own message; Vite's stubs for them are expected, not a problem.
        const text = warning.message ?? '';
        if (/externalized for browser compatibility|__vite-browser-external/.test(text)) return;
        warn(warning);
      },
    },
  },
  server: { fs: { allow: [repo] } },
});
