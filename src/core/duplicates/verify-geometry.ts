// The geometry of a homography fit: the turn, scale and overlap it describes (or none, when it is no plausible
// edit), and whether what lies outside the overlap is a uniform border.
import type { Features } from './verify-features.js';

/** The quarter turn nearest a rotation (0, 90, 180 or 270) and what is left of it (degrees). */
export function quarterTurn(deg: number): { turn: number; rest: number } {
  const q = Math.round(deg / 90) * 90;
  return { turn: ((q % 360) + 360) % 360, rest: deg - q };
}

/** An angle in degrees brought into (-180, 180]. */
export const normaliseAngle = (deg: number): number => {
  let d = deg % 360;
  if (d <= -180) d += 360;
  if (d > 180) d -= 360;
  return d;
};

/** Where the homography h takes the point (x, y). */
const apply = (h: readonly number[], x: number, y: number): [number, number] => {
  const w = h[6]! * x + h[7]! * y + h[8]!;
  return [(h[0]! * x + h[1]! * y + h[2]!) / w, (h[3]! * x + h[4]! * y + h[5]!) / w];
};

/** The inverse of a homography, or null when it has none. */
export function invert(h: readonly number[]): number[] | null {
  const [a, b, c, d, e, f, g, i, j] = h as [number, number, number, number, number, number, number, number, number];
  const det = a * (e * j - f * i) - b * (d * j - f * g) + c * (d * i - e * g);
  if (Math.abs(det) < 1e-12) return null;
  return [
    (e * j - f * i) / det,
    (c * i - b * j) / det,
    (b * f - c * e) / det,
    (f * g - d * j) / det,
    (a * j - c * g) / det,
    (c * d - a * f) / det,
    (d * i - e * g) / det,
    (b * g - a * i) / det,
    (a * e - b * d) / det,
  ];
}

/** Area of a polygon clipped to the rectangle [0, w] x [0, h] (Sutherland-Hodgman), over the rectangle's area. */
function coveredShare(poly: [number, number][], w: number, h: number): number {
  const clip = (
    pts: [number, number][],
    inside: (p: [number, number]) => boolean,
    cut: (p: [number, number], q: [number, number]) => [number, number],
  ) => {
    const out: [number, number][] = [];
    for (let i = 0; i < pts.length; i++) {
      const p = pts[i]!;
      const q = pts[(i + 1) % pts.length]!;
      if (inside(q)) {
        if (!inside(p)) out.push(cut(p, q));
        out.push(q);
      } else if (inside(p)) out.push(cut(p, q));
    }
    return out;
  };
  const atX =
    (x: number) =>
    (p: [number, number], q: [number, number]): [number, number] => [
      x,
      p[1] + ((q[1] - p[1]) * (x - p[0])) / (q[0] - p[0]),
    ];
  const atY =
    (y: number) =>
    (p: [number, number], q: [number, number]): [number, number] => [
      p[0] + ((q[0] - p[0]) * (y - p[1])) / (q[1] - p[1]),
      y,
    ];
  let pts = poly;
  pts = clip(pts, (p) => p[0] >= 0, atX(0));
  pts = clip(pts, (p) => p[0] <= w, atX(w));
  pts = clip(pts, (p) => p[1] >= 0, atY(0));
  pts = clip(pts, (p) => p[1] <= h, atY(h));
  let area = 0;
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i]!;
    const q = pts[(i + 1) % pts.length]!;
    area += p[0] * q[1] - q[0] * p[1];
  }
  return Math.abs(area) / 2 / (w * h);
}

/** Rotation and overlap of a homography mapping a to b, or null when it is no plausible edit (folded, skewed). */
export function describeHomography(
  h: readonly number[],
  a: { width: number; height: number },
  b: { width: number; height: number },
): { rotation: number; scale: number; shownOfA: number; shownOfB: number } | null {
  const inv = invert(h);
  if (!inv) return null;
  // The linear part at a's centre: its determinant must be positive (no fold) and its scales alike up to a squash.
  const [cx, cy] = [a.width / 2, a.height / 2];
  const p0 = apply(h, cx, cy);
  const px = apply(h, cx + 1, cy);
  const py = apply(h, cx, cy + 1);
  const j = [px[0] - p0[0], py[0] - p0[0], px[1] - p0[1], py[1] - p0[1]] as const;
  const det = j[0] * j[3] - j[1] * j[2];
  if (!(det > 0)) return null;
  const sx = Math.hypot(j[0], j[2]);
  const sy = Math.hypot(j[1], j[3]);
  if (Math.min(sx, sy) / Math.max(sx, sy) < 0.45 || Math.sqrt(det) < 1 / 8 || Math.sqrt(det) > 8) return null;
  // Shear: the images of the axes must stay about perpendicular.
  const cos = (j[0] * j[1] + j[2] * j[3]) / (sx * sy);
  if (Math.abs(cos) > 0.3) return null;
  const corners = (w: number, hh: number): [number, number][] => [
    [0, 0],
    [w, 0],
    [w, hh],
    [0, hh],
  ];
  const aInB = corners(a.width, a.height).map(([x, y]) => apply(h, x, y));
  const bInA = corners(b.width, b.height).map(([x, y]) => apply(inv, x, y));
  if ([...aInB, ...bInA].some(([x, y]) => !Number.isFinite(x) || !Number.isFinite(y))) return null;
  return {
    rotation: normaliseAngle((Math.atan2(j[2], j[0]) * 180) / Math.PI),
    scale: Math.sqrt(det),
    shownOfA: coveredShare(bInA, a.width, a.height),
    shownOfB: coveredShare(aInB, b.width, b.height),
  };
}

/** Whether the part of one picture outside the other's outline is uniform (a border rather than more picture). */
export function uniformOutside(a: Features, b: Features, h: readonly number[], side: 'a' | 'b'): boolean {
  const inv = invert(h);
  if (!inv) return false;
  const [pic, other, toOther] = side === 'b' ? [b, a, inv] : [a, b, h];
  const data = pic.mat.data as Uint8Array;
  const histogram = new Uint32Array(256);
  let n = 0;
  for (let y = 0; y < pic.height; y += 2) {
    for (let x = 0; x < pic.width; x += 2) {
      const [ox, oy] = apply(toOther, x, y);
      // A few pixels off the outline, where resampling and JPEG blur the edge.
      if (ox >= -4 && oy >= -4 && ox < other.width + 4 && oy < other.height + 4) continue;
      histogram[data[y * pic.width + x]!]!++;
      n++;
    }
  }
  if (n < 20) return false;
  // Uniform: nine in ten of those pixels within 12 levels of the commonest level.
  const mode = histogram.indexOf(Math.max(...histogram));
  let near = 0;
  for (let v = Math.max(0, mode - 12); v <= Math.min(255, mode + 12); v++) near += histogram[v]!;
  return near >= 0.9 * n;
}
