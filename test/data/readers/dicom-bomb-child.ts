// Child process for the deflate-bomb test: reads the file named on the command line with
// readDicom (with the maxBytes given as the second argument, if any) and prints what happened, how long it took and the process's peak resident memory.
import { readFileSync } from 'node:fs';
import { readDicom } from '../../../src/data/readers/dicom.js';

const path = process.argv[2];
const maxBytes = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const bytes = readFileSync(path);
const t0 = performance.now();
let outcome: { ok: boolean; error?: string; message?: string };
try {
  const img = readDicom(bytes, { name: 'bomb.dcm', maxBytes });
  outcome = { ok: true, message: `read ${img.pixelData.length} samples` };
} catch (e) {
  outcome = { ok: false, error: (e as Error).constructor.name, message: (e as Error).message };
}
const ms = performance.now() - t0;
// resourceUsage().maxRSS is the peak resident set size of this process, in KiB.
console.log(JSON.stringify({ ...outcome, ms, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
