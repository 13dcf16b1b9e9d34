import { DicomAsyncRequiredError, readDicom, readDicomAsync, TRANSFER_SYNTAX_NAMES, type ReadDicomOptions } from './dicom.js';
import { dicomCodecPackage } from './dicom-codecs.js';
import { formatError, readFileBytes, toBytes, type BytesLike } from './internal.js';
import { isJpeg, readJpeg, type ReadJpegOptions } from './jpeg.js';
import { isPng, readPng } from './png.js';
import type { ImageData2D } from './types.js';

/** Options of {@link readImage}: those of every 2-D reader it may dispatch to. */
export interface ReadImageOptions extends ReadJpegOptions, Pick<ReadDicomOptions, 'maxBytes'> {}

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
 * Synchronous, so it decodes uncompressed and RLE DICOM only; compressed DICOM (JPEG, JPEG-LS,
 * JPEG 2000, HTJ2K) needs {@link readImageAsync} or {@link readImageFile}.
 *
 * @throws DicomAsyncRequiredError for compressed DICOM, naming readImageAsync.
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
      try {
        return readDicom(bytes, options).toImageData(0);
      } catch (e) {
        // readDicom's own message points at readDicomAsync; a readImage user wants the image call.
        if (!(e instanceof DicomAsyncRequiredError)) throw e;
        const ts = e.transferSyntaxUID;
        const err = formatError(
          'an image',
          options.name,
          `it is DICOM with pixel data compressed as ${ts} (${TRANSFER_SYNTAX_NAMES[ts] ?? 'unknown transfer syntax'}), which the synchronous readImage does not decode`,
          `Use \`await readImageAsync(bytes)\` (or readImageFile), which decodes it with ${dicomCodecPackage(ts) ?? 'its codec'}.`,
        );
        throw new DicomAsyncRequiredError(err.message, ts);
      }
    default:
      throw unrecognised(bytes, options.name);
  }
}

/**
 * Decodes a PNG, JPEG or DICOM image like {@link readImage}, and also compressed DICOM: its DICOM
 * branch is {@link readDicomAsync}, which imports the codec for the file's transfer syntax on
 * first use (optional dependencies; a missing one gives a DicomCodecMissingError naming it).
 *
 * @throws FileFormatError for content that is not PNG, JPEG or DICOM, or is corrupt, naming the file.
 *
 * @example
 * ```ts
 * const img = await readImageAsync(await (await fetch(url)).arrayBuffer(), { name: url });
 * ```
 */
export async function readImageAsync(input: BytesLike, options: ReadImageOptions = {}): Promise<ImageData2D> {
  const bytes = toBytes(input);
  if (detectImageFormat(bytes) === 'dicom') return (await readDicomAsync(bytes, options)).toImageData(0);
  return readImage(bytes, options);
}

/**
 * Reads a PNG, JPEG or DICOM file from disk by its content (Node only), compressed DICOM included.
 * See {@link readImageAsync}.
 */
export async function readImageFile(path: string, options: ReadImageOptions = {}): Promise<ImageData2D> {
  return readImageAsync(await readFileBytes(path), { ...options, name: options.name ?? path });
}

function unrecognised(bytes: Uint8Array, name: string | undefined): Error {
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return formatError('an image', name, `unrecognised content (first bytes: ${head || 'none'})`, 'readImage reads PNG, JPEG and DICOM Part 10.');
}
