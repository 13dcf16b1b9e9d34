import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FileFormatError, readDicomSeries, readNiftiFile, type DicomSeries, type NiftiVolume } from '../index.js';

/** A volume read from the command line, and what it was. */
export interface LoadedVolume {
  /** `'nifti'` or `'dicom'`. */
  format: 'nifti' | 'dicom';
  /** The volume (for DICOM, the stacked series). */
  volume: NiftiVolume;
  /** The DICOM series, when `format` is `'dicom'`. */
  series?: DicomSeries;
}

/**
 * Reads a NIfTI file (`.nii`, `.nii.gz`, `.hdr`-less single files), a DICOM file, or a folder of
 * DICOM slices (every regular file in it). NIfTI is recognised by name, anything else is read as
 * DICOM, so a wrong file gets the DICOM reader's message.
 */
export async function loadVolume(path: string): Promise<LoadedVolume> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new FileFormatError(`Cannot read '${path}': no such file or folder.`, { cause: err });
  }
  if (info.isDirectory()) {
    const names = (await readdir(path, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => join(path, e.name)).sort();
    if (names.length === 0) throw new FileFormatError(`The folder '${path}' holds no files; give a NIfTI file or a folder of DICOM slices.`);
    const series = await readDicomSeries(names);
    return { format: 'dicom', volume: series.volume, series };
  }
  if (/\.nii(\.gz)?$/i.test(path)) return { format: 'nifti', volume: await readNiftiFile(path) };
  const series = await readDicomSeries([path]);
  return { format: 'dicom', volume: series.volume, series };
}
