// Issue 14: memory bounded by what a file can honestly produce. Each read runs in its own child
// process, which reports its peak RSS (process.resourceUsage().maxRSS); every case must stay
// under 300 MB and the refusals must be quick.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'fflate';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { writeNifti } from '../../../src/data/readers/nifti.js';
import { NiftiVolume } from '../../../src/data/readers/volume.js';
import { ROOT } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'medvae-mem-'));
const LIMIT_MB = 300;

interface ChildResult {
  ok: boolean;
  name?: string;
  message?: string;
  dims?: number[];
  dataBytes?: number;
  bufferBytes?: number;
  ms: number;
  maxRssMB: number;
}

function runChild(kind: 'nifti' | 'jpeg', file: string): ChildResult {
  const out = execFileSync(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'test', 'data', 'readers', 'memory.child.ts'), kind, file], {
    cwd: ROOT,
    timeout: 120_000,
    encoding: 'utf8',
  });
  const r = JSON.parse(out.trim().split('\n').pop() as string) as ChildResult;
  console.log(`[memory] ${file.split('/').pop()}: ${r.ok ? 'read' : r.name}, ${r.ms.toFixed(0)} ms, peak RSS ${r.maxRssMB.toFixed(0)} MB`);
  return r;
}

/** A realistic ~7 MB .nii.gz: 256×256×160 int16 with noisy low bits (20 MiB of voxels). */
function realisticNiftiGz(): Uint8Array {
  const dims = [256, 256, 160];
  const data = new Int16Array(dims[0] * dims[1] * dims[2]);
  let s = 7;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = ((i >> 8) & 0x3ff) + ((s >>> 24) & 0x3f);
  }
  return writeNifti(new NiftiVolume({ dims, data }), { gzip: true, level: 1 });
}

/** A NIfTI-1 header (+ 4-byte extension flag) for dims of a datatype, voxels at 352. */
function niftiHeader(dims: number[], datatype: number, bitpix: number): Uint8Array {
  const h = new Uint8Array(352);
  const v = new DataView(h.buffer);
  v.setInt32(0, 348, true);
  v.setInt16(40, 3, true);
  dims.forEach((d, i) => v.setInt16(42 + 2 * i, d, true));
  v.setInt16(70, datatype, true);
  v.setInt16(72, bitpix, true);
  for (let i = 0; i < 4; i++) v.setFloat32(76 + 4 * i, 1, true);
  v.setFloat32(108, 352, true);
  h.set([0x6e, 0x2b, 0x31, 0], 344);
  return h;
}

/** 3 GiB of decompressed data as gzip members of 64 MiB of zeros each (~3 MB on disk), after `first`. */
function bomb(first: Uint8Array): Uint8Array {
  const zeros = gzipSync(new Uint8Array(64 << 20), { level: 9 });
  const parts = [gzipSync(first)];
  for (let i = 0; i < 48; i++) parts.push(zeros);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('peak memory of refused and honest reads (child processes)', () => {
  it(`a ~7 MB .nii.gz reads into buffers of its honest size, under ${LIMIT_MB} MB; with ISIZE 2^31−1 it is refused`, () => {
    const gz = realisticNiftiGz();
    expect(gz.length).toBeGreaterThan(4 << 20);
    const honest = join(dir, 'honest.nii.gz');
    writeFileSync(honest, gz);
    const r = runChild('nifti', honest);
    expect(r.ok).toBe(true);
    expect(r.dataBytes).toBe(256 * 256 * 160 * 2);
    expect(r.bufferBytes).toBe(352 + 256 * 256 * 160 * 2); // header + voxels, nothing more
    expect(r.maxRssMB).toBeLessThan(LIMIT_MB);

    const lying = gz.slice();
    new DataView(lying.buffer).setUint32(lying.length - 4, 2 ** 31 - 1, true);
    const liar = join(dir, 'isize.nii.gz');
    writeFileSync(liar, lying);
    const l = runChild('nifti', liar);
    expect(l.ok).toBe(false);
    expect(l.name).toBe('FileFormatError');
    expect(l.message).toMatch(/isize\.nii\.gz.*ISIZE trailer says 2147483647 bytes but it decompressed to 20971872/);
    expect(l.maxRssMB).toBeLessThan(LIMIT_MB);
  }, 180_000);

  it(`3 GiB .nii.gz bombs are refused quickly, under ${LIMIT_MB} MB`, () => {
    // Header declaring 1024×1024×768 float32 (3 GiB): refused as soon as the header is inflated.
    const big = join(dir, 'bomb-declared.nii.gz');
    writeFileSync(big, bomb(niftiHeader([1024, 1024, 768], 16, 32)));
    const a = runChild('nifti', big);
    expect(a.ok).toBe(false);
    expect(a.message).toMatch(/bomb-declared\.nii\.gz.*the voxel data \(dim 1024×1024×768 of float32\) would need 3221225472 bytes, above the limit of 2147483647 \(maxBytes\)/);
    expect(a.ms).toBeLessThan(3000); // generous: the test machine may be shared; ~0.1 s when idle
    expect(a.maxRssMB).toBeLessThan(LIMIT_MB);
    // Honest small header (64³ uint8) followed by 3 GiB of zeros: refused after 16 MiB of tail.
    const small = niftiHeader([64, 64, 64], 2, 8);
    const tail = join(dir, 'bomb-tail.nii.gz');
    writeFileSync(tail, bomb(new Uint8Array([...small, ...new Uint8Array(64 ** 3)])));
    const b = runChild('nifti', tail);
    expect(b.ok).toBe(false);
    expect(b.message).toMatch(/bomb-tail\.nii\.gz.*holds more than 16777216 bytes beyond the 262496 bytes its header declares/);
    expect(b.ms).toBeLessThan(5000);
    expect(b.maxRssMB).toBeLessThan(LIMIT_MB);
  }, 180_000);

  it(`a sub-kilobyte JPEG declaring 10000×10000 is refused before allocating, under ${LIMIT_MB} MB`, () => {
    const rgba = new Uint8Array(8 * 8 * 4).map((_, i) => (i * 13) & 255);
    const b = new Uint8Array(jpeg.encode({ width: 8, height: 8, data: rgba }, 90).data);
    let at = -1;
    for (let i = 2; i + 1 < b.length; i++) if (b[i] === 0xff && b[i + 1] === 0xc0) { at = i + 5; break; }
    b.set([10000 >> 8, 10000 & 255, 10000 >> 8, 10000 & 255], at);
    expect(b.length).toBeLessThan(1024);
    const file = join(dir, 'liar.jpg');
    writeFileSync(file, b);
    const r = runChild('jpeg', file);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/liar\.jpg.*declares 10000×10000 pixels/);
    expect(r.maxRssMB).toBeLessThan(LIMIT_MB);
  }, 60_000);
});
