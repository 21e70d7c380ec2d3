// Turned views: the vectors of a photo's picture turned by 90 and by 180 degrees, so that a rotated copy (its pixels
// turned, or only its EXIF orientation changed, which Doppel applies) finds its original. The model's vector is
// the same for a picture and its mirror image, and a picture turned 270 degrees is the mirror image of the picture
// mirrored and turned 90 (F R F = R^-1): so the view turned 90 degrees of one photo matches the vector of a copy
// turned 90 degrees, and the vector of the photo matches that view of a copy turned 270. The 180-degree view covers
// the rest. Made from the model input the vector is encoded from (turning the square input is turning the picture:
// the squash to a square and the border trim commute with quarter turns), at two more encoder runs a photo.
import { viewNeighbours, type ViewPages, type ViewSearch } from './crop-views.js';

/** The model input (size x size x 3, row-major) turned 90 degrees clockwise and 180 degrees. */
export function turnInputs(input: Uint8Array, size: number): [Uint8Array, Uint8Array] {
  const quarter = new Uint8Array(input.length);
  const half = new Uint8Array(input.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const from = (y * size + x) * 3;
      // Clockwise: the pixel at (x, y) goes to (size - 1 - y, x).
      const q = (x * size + (size - 1 - y)) * 3;
      const h = ((size - 1 - y) * size + (size - 1 - x)) * 3;
      for (let c = 0; c < 3; c++) {
        quarter[q + c] = input[from + c]!;
        half[h + c] = input[from + c]!;
      }
    }
  }
  return [quarter, half];
}

/** The model inputs of every input's turned views, two an input in order (for one encoder call). */
export function allTurnInputs(inputs: readonly Uint8Array[], size: number): Uint8Array[] {
  return inputs.flatMap((input) => turnInputs(input, size));
}

/**
 * Pairs whose turned views match: each photo's views look for photos whose own vector is within `floor` (cosine),
 * both ways, at most `k` a view.
 */
export function turnNeighbours(
  pages: ViewPages,
  index: ViewSearch,
  floor: number,
  k = 4,
  onPage?: (photosDone: number) => void,
): Promise<Map<number, { id: number; score: number }[]>> {
  return viewNeighbours(pages, index, 1, floor, k, onPage);
}
