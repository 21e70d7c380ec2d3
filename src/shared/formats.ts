// How a photo's format (PhotoInfo.format, as the indexer stores it) reads for people.

/** The stored format of a camera RAW: Doppel reads it from the JPEG preview the camera embeds in it. */
export const RAW_FORMAT = 'raw';

const NAMES: Readonly<Record<string, string>> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  gif: 'GIF',
  tiff: 'TIFF',
  heif: 'HEIF',
  jxl: 'JPEG XL',
  bmp: 'BMP',
  pnm: 'Netpbm',
  [RAW_FORMAT]: "RAW, from the camera's preview",
};

/** 'JPEG', 'HEIF', "RAW, from the camera's preview", ...; '?' when unknown. */
export function formatLabel(format: string | null): string {
  if (format === null) return '?';
  return NAMES[format] ?? format.toUpperCase();
}
