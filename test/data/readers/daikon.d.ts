// Minimal typing of the parts of daikon (a DICOM reader used only as a test reference).
declare module 'daikon' {
  interface DaikonImage {
    getInterpretedData(asArray: boolean, asObject: boolean, frameIndex?: number): ArrayLike<number>;
  }
  const daikon: {
    Parser: { verbose: boolean };
    Series: { parseImage(data: DataView): DaikonImage };
  };
  export default daikon;
}
