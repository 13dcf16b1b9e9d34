import { readDicom } from './dicom.js';
import { formatError, readFileBytes, toBytes, type BytesLike } from './internal.js';
import { isJpeg, readJpeg, type ReadJpegOptions } from './jpeg.js';
import { isPng, readPng } from './png.js';
import type { ImageData2D } from './types.js';

/** Options of {@link readImage}: those of every 2-D reader it may dispatch to. */
export interface ReadImageOptions extends ReadJpegOptions {}

/** The 2-D formats {@link readImage} recognises by their magic bytes. */
export type ImageFormat = 'png' | 'jpeg' | 'dicom';

/** Which 2-D format the bytes are, from their magic bytes (not the file name), or null. */
export function detectImageFormat(input: BytesLike): ImageFormat | null {
  const bytes = toBytes(input);
  if (isPng(bytes)) return 'png';
  if (isJpeg(bytes)) return 'jpeg';
  if (bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d) return 'dicom';
  return null;
}

/**
 * Decodes a PNG, JPEG or DICOM image, chosen by magic bytes so a misnamed file still reads. PNG
 * and JPEG keep their integer samples (see {@link readPng}, {@link readJpeg}); DICOM gives its
 * first frame as rescaled float32 ({@link DicomImage.toImageData}).
 *
 * @throws FileFormatError for any other content, naming the file.
 */
export function readImage(input: BytesLike, options: ReadImageOptions = {}): ImageData2D {
  const bytes = toBytes(input);
  switch (detectImageFormat(bytes)) {
    case 'png':
      return readPng(bytes, options);
    case 'jpeg':
      return readJpeg(bytes, options);
    case 'dicom':
      return readDicom(bytes, options).toImageData(0);
    default: {
      const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
      throw formatError('an image', options.name, `unrecognised content (first bytes: ${head || 'none'})`, 'readImage reads PNG, JPEG and DICOM Part 10.');
    }
  }
}

/** Reads a PNG, JPEG or DICOM file from disk by its content (Node only). See {@link readImage}. */
export async function readImageFile(path: string, options: ReadImageOptions = {}): Promise<ImageData2D> {
  return readImage(await readFileBytes(path), { ...options, name: options.name ?? path });
}
