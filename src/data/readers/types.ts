/**
 * Pixel storage an {@link ImageData2D} or a volume may use. Readers keep the file's own sample
 * type (8-bit PNG → `Uint8Array`, CT DICOM → `Int16Array`, ...) so nothing is lost; helpers that
 * produce intensities for a model (`toFloat32()`, {@link sliceVolume}) return `Float32Array`.
 */
export type ImageDataArray =
  | Uint8Array
  | Uint8ClampedArray
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

/**
 * A 2-D image as plain data, independent of tensors so readers work without a backend.
 *
 * Samples are row-major with interleaved channels: the value of channel `c` at row `y`, column
 * `x` is `data[(y * width + x) * channels + c]`. Turn one into an NHWC tensor with
 * `tf.tensor3d(img.data, [img.height, img.width, img.channels])` (convert non-float data first).
 */
export interface ImageData2D {
  /** Number of columns. */
  width: number;
  /** Number of rows. */
  height: number;
  /** Samples per pixel: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. */
  channels: number;
  /** The samples, `width * height * channels` long, in the layout described above. */
  data: ImageDataArray;
  /**
   * Significant bits per sample in the source when it was an integer format (1, 2, 4, 8, 12, 16):
   * the value range is `0 … 2^bitDepth − 1`. Absent for float data, whose range is free.
   */
  bitDepth?: number;
}

/**
 * Options every reader accepts.
 */
export interface ReadOptions {
  /**
   * What to call the input in error messages (a file name or URL). The `*File` readers set it to
   * the path; give it when you pass bytes so a failure says which file was bad.
   */
  name?: string;
  /**
   * Upper bound, in bytes, on any buffer the reader allocates from sizes found inside the file
   * (decompressed gzip/deflate output, pixel arrays). Declared sizes above it are refused with a
   * `FileFormatError` before anything is allocated, and decompression stops as soon as its output
   * passes it. Within the bound, buffers still grow only with data the file actually produces:
   * a declared size (gzip's ISIZE, a header's dimensions) is never allocated on trust. Default
   * 2 GiB − 1 byte (the largest `Uint8Array` every JS engine supports); lower it to bound what an
   * untrusted file may cost.
   */
  maxBytes?: number;
}

/** 4×4 matrix as rows: `m[row][col]`. Used for voxel-to-world affines. */
export type Matrix4 = number[][];

/** Bytes in any of the shapes readers accept: a Node `Buffer` is a Uint8Array and works too. */
export type BytesLike = Uint8Array | ArrayBuffer | ArrayBufferView;
