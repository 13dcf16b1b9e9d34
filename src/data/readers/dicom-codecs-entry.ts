// `import 'medvae/dicom-codecs'`: literal imports of the optional DICOM codec packages, for browser
// apps that read compressed DICOM (JPEG, JPEG-LS, JPEG 2000, HTJ2K) with readDicomAsync. medvae
// itself imports them through run-time specifiers, which bundlers do not follow (see
// dicom-codecs.ts); this entry hands the bundled modules over through a global symbol, so it works
// without sharing a module instance with the main entry. Not needed in Node. Bundles that include
// it must accept the codecs' Emscripten glue (Vite does; esbuild needs --platform=neutral or
// aliases for Node's fs and path).
import * as jpeg8 from '@cornerstonejs/codec-libjpeg-turbo-8bit/decode';
import * as jpegLs from '@cornerstonejs/codec-charls/decode';
import * as j2k from '@cornerstonejs/codec-openjpeg/decode';
import * as htj2k from '@cornerstonejs/codec-openjph';

const PROVIDED = Symbol.for('medvae.dicomCodecModules');
(globalThis as { [PROVIDED]?: Record<string, unknown> })[PROVIDED] = {
  '@cornerstonejs/codec-libjpeg-turbo-8bit/decode': jpeg8,
  '@cornerstonejs/codec-charls/decode': jpegLs,
  '@cornerstonejs/codec-openjpeg/decode': j2k,
  '@cornerstonejs/codec-openjph': htj2k,
};

/** The transfer-syntax families this entry point makes available in bundles. */
export const dicomCodecs = ['jpeg8', 'jpegLs', 'j2k', 'htj2k'] as const;
