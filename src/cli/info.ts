import { orientationCodes } from '../index.js';
import { loadVolume } from './load-volume.js';

/** What `medvae info` reports about a volume (also its `--json` output). */
export interface VolumeInfo {
  file: string;
  format: string;
  shape: number[];
  spacing: number[];
  spatialUnit: string;
  orientation: string;
  dtype: string;
  scaling: { slope: number; intercept: number } | null;
  range: [number, number];
  affine: number[][];
  qformCode?: number;
  sformCode?: number;
  modality?: string;
  slices?: number;
  sortedBy?: string;
  transferSyntax?: string;
  warnings?: string[];
}

/** Reads `file` (NIfTI, DICOM file or folder of slices) and summarises its grid and voxel type. */
export async function volumeInfo(file: string): Promise<VolumeInfo> {
  const { format, volume, series } = await loadVolume(file);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of volume.toFloat32()) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scaled = volume.sclSlope !== 1 || volume.sclInter !== 0;
  const out: VolumeInfo = {
    file,
    format: format === 'nifti' ? `NIfTI-${volume.header.version}` : 'DICOM',
    shape: volume.dims.slice(),
    spacing: volume.spacing.slice(),
    spatialUnit: volume.header.spatialUnit,
    orientation: orientationCodes(volume.affine),
    dtype: volume.datatype,
    scaling: scaled ? { slope: volume.sclSlope, intercept: volume.sclInter } : null,
    range: [lo, hi],
    affine: volume.affine.map((r) => r.slice()),
  };
  if (format === 'nifti') {
    out.qformCode = volume.header.qformCode;
    out.sformCode = volume.header.sformCode;
  } else if (series) {
    const first = series.images[0];
    out.modality = first.modality;
    out.slices = series.images.length;
    out.sortedBy = series.sortedBy;
    out.transferSyntax = first.transferSyntaxUID;
    out.warnings = series.warnings;
  }
  return out;
}

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, ''));

/** The human-readable form of {@link VolumeInfo}. */
export function formatInfo(i: VolumeInfo): string {
  const lines = [
    `${i.file}`,
    `  format       ${i.format}${i.modality ? ` (${i.modality})` : ''}`,
    `  shape        ${i.shape.join(' × ')}`,
    `  spacing      ${i.spacing.map(fmt).join(' × ')} ${i.spatialUnit}`,
    `  orientation  ${i.orientation} (RAS+ world axes of voxel axes i, j, k)`,
    `  dtype        ${i.dtype}${i.scaling ? ` (scaled: ${fmt(i.scaling.slope)}·v + ${fmt(i.scaling.intercept)})` : ''}`,
    `  range        ${fmt(i.range[0])} … ${fmt(i.range[1])}`,
  ];
  if (i.qformCode !== undefined) lines.push(`  xform codes  qform ${i.qformCode}, sform ${i.sformCode}`);
  if (i.slices !== undefined) lines.push(`  slices       ${i.slices}, sorted by ${i.sortedBy}`);
  if (i.transferSyntax) lines.push(`  transfer     ${i.transferSyntax}`);
  lines.push('  affine');
  for (const r of i.affine) lines.push(`    [${r.map((v) => fmt(v).padStart(10)).join(' ')} ]`);
  for (const w of i.warnings ?? []) lines.push(`  warning: ${w}`);
  return lines.join('\n');
}
