// heic-decode ships no types: libheif (HEVC included) compiled to wasm, decoding to RGBA.
declare module 'heic-decode' {
  interface DecodedHeic {
    width: number;
    height: number;
    /** width * height * 4 bytes of RGBA, with the file's rotation and mirroring (irot/imir) applied. */
    data: Uint8ClampedArray;
  }
  function decode(input: { buffer: Uint8Array | ArrayBuffer }): Promise<DecodedHeic>;
  export default decode;
}
