// `import 'medvae/dicom-codecs'`: literal imports of the optional DICOM codec packages, for browser
// apps that read compressed DICOM (JPEG, JPEG-LS, JPEG 2000, HTJ2K) with readDicomAsync. medvae
// itself imports them through run-time specifiers, which bundlers do not follow (see
// dicom-codecs.ts); this entry hands the bundled modules over through a global symbol, so it works
// without sharing a module instance with the main entry. Not needed in Node. Bundles that include
// it must accept the codecs' Emscripten glue (Vite does; esbuild needs --platform=neutral or
// aliases for Node's fs and path) and dcmjs-codecs' use of eval (Vite warns about it), and serve
// dcmjs-codecs' .wasm file for 12-bit JPEG (setDicomJpeg12WasmUrl below).
import * as jpeg8 from '@cornerstonejs/codec-libjpeg-turbo-8bit/decode';
import * as jpegLs from '@cornerstonejs/codec-charls/decode';
import * as j2k from '@cornerstonejs/codec-openjpeg/decode';
import * as htj2k from '@cornerstonejs/codec-openjph';
import * as jpeg12 from 'dcmjs-codecs';

const PROVIDED = Symbol.for('medvae.dicomCodecModules');
const modules = ((globalThis as { [PROVIDED]?: Record<string, unknown> })[PROVIDED] ??= {});
Object.assign(modules, {
  '@cornerstonejs/codec-libjpeg-turbo-8bit/decode': jpeg8,
  '@cornerstonejs/codec-charls/decode': jpegLs,
  '@cornerstonejs/codec-openjpeg/decode': j2k,
  '@cornerstonejs/codec-openjph': htj2k,
  'dcmjs-codecs': jpeg12,
});

/**
 * Tells medvae where the browser fetches `dcmjs-native-codecs.wasm`, the WebAssembly file of
 * dcmjs-codecs that decodes 12-bit JPEG Extended DICOM. The app serves that file (copy it from
 * `node_modules/dcmjs-codecs/build/`, or with Vite `import url from
 * 'dcmjs-codecs/build/dcmjs-native-codecs.wasm?url'`). Without a call, dcmjs-codecs fetches
 * `dcmjs-native-codecs.wasm` relative to the page. Call it before the first 12-bit file is read.
 */
export function setDicomJpeg12WasmUrl(url: string | URL): void {
  modules['dcmjs-codecs/wasm-url'] = String(url);
}

/** The transfer-syntax families this entry point makes available in bundles. */
export const dicomCodecs = ['jpeg8', 'jpeg12', 'jpegLs', 'j2k', 'htj2k'] as const;
