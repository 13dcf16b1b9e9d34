// Run by memory.test.ts in a fresh process, so its peak RSS is this read alone:
//   tsx memory.child.ts <nifti|jpeg> <file>
// Prints one JSON line: what happened, how long it took and the process's peak RSS.
import { readFileSync } from 'node:fs';
import { readJpeg } from '../../../src/data/readers/jpeg.js';
import { readNifti } from '../../../src/data/readers/nifti.js';

const [kind, file] = process.argv.slice(2);
const bytes = new Uint8Array(readFileSync(file));
const t0 = performance.now();
let result: Record<string, unknown>;
try {
  if (kind === 'nifti') {
    const vol = readNifti(bytes, { name: file });
    result = { ok: true, dims: vol.dims, dataBytes: vol.data.byteLength, bufferBytes: vol.data.buffer.byteLength };
  } else {
    const img = readJpeg(bytes, { name: file });
    result = { ok: true, width: img.width, height: img.height };
  }
} catch (e) {
  result = { ok: false, name: (e as Error).name, message: (e as Error).message };
}
result.ms = performance.now() - t0;
result.maxRssMB = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
console.log(JSON.stringify(result));
