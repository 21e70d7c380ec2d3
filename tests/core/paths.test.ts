// Path helpers every room uses (src/core/paths.ts).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isInside } from '../../src/core/paths.js';

describe('isInside', () => {
  const folder = path.resolve('/photos/2024');
  it('holds for the folder itself and what lies below it', () => {
    expect(isInside(folder, folder)).toBe(true);
    expect(isInside(path.join(folder, 'a.jpg'), folder)).toBe(true);
    expect(isInside(path.join(folder, 'trip', 'b.jpg'), folder)).toBe(true);
    // A name that merely starts with two dots is a file of the folder, not a way out of it.
    expect(isInside(path.join(folder, '..hidden.jpg'), folder)).toBe(true);
  });

  it('fails for what lies beside or above the folder', () => {
    expect(isInside(path.resolve('/photos'), folder)).toBe(false);
    expect(isInside(path.resolve('/photos/2024-old/a.jpg'), folder)).toBe(false);
    expect(isInside(path.resolve('/photos/2025/a.jpg'), folder)).toBe(false);
    expect(isInside(path.resolve('/elsewhere/a.jpg'), folder)).toBe(false);
  });
});
