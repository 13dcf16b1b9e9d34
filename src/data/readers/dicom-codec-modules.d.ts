// Types for the optional DICOM codec packages, which ship JavaScript without declarations. Only
// the members medvae's DICOM reader calls are described.

/** Frame description every Cornerstone WebAssembly decoder returns after `decode()`. */
interface CornerstoneFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned: boolean;
}

/** The decoder object shape shared by the Cornerstone codecs. */
interface CornerstoneDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): CornerstoneFrameInfo;
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}

/** An instantiated Emscripten module holding one decoder class under `name`. */
type CornerstoneModule<Name extends string> = { [K in Name]: new () => CornerstoneDecoder };

declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decode' {
  const factory: (options?: object) => Promise<CornerstoneModule<'JPEGDecoder'>>;
  export default factory;
}

declare module '@cornerstonejs/codec-charls/decode' {
  const factory: (options?: object) => Promise<CornerstoneModule<'JpegLSDecoder'>>;
  export default factory;
}

declare module '@cornerstonejs/codec-openjpeg/decode' {
  const factory: (options?: object) => Promise<CornerstoneModule<'J2KDecoder'>>;
  export default factory;
}

declare module '@cornerstonejs/codec-openjph' {
  const factory: (options?: object) => Promise<CornerstoneModule<'HTJ2KDecoder'>>;
  export default factory;
}

declare module 'jpeg-lossless-decoder-js' {
  /** JPEG lossless (process 14) decoder: `decode` returns samples, interleaved for colour. */
  export class Decoder {
    constructor();
    decode(buffer: ArrayBufferLike, offset: number, length: number, numBytes?: number): Uint8Array | Uint16Array;
    /** Sample precision read from the SOF3 header. */
    precision: number;
    xDim: number;
    yDim: number;
    numComp: number;
  }
}
