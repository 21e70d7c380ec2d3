// How far a duplicate scan is, in the words the Duplicates view and `doppel dupes` show.
import { describe, expect, it } from 'vitest';
import { scanProgressText } from '../src/shared/scan-progress.js';

describe('scanProgressText', () => {
  it('counts photos for the view steps, pairs for the comparison, and nothing once done', () => {
    expect(scanProgressText({ step: 'views', done: 128, total: 9971 })).toBe(
      `looking for cropped copies: 128 of ${(9971).toLocaleString()} photos`,
    );
    expect(scanProgressText({ step: 'encode', done: 0, total: 16 })).toBe('reading cropped views: 0 of 16 photos');
    expect(scanProgressText({ step: 'turns', done: 5, total: 7 })).toBe('looking for rotated copies: 5 of 7 photos');
    expect(scanProgressText({ step: 'verify', done: 2000, total: 28051 })).toBe(
      `comparing pairs picture by picture: ${(2000).toLocaleString()} of ${(28051).toLocaleString()} pairs`,
    );
    expect(scanProgressText({ step: 'done', done: 338, total: 338 })).toBeNull();
  });
});
