// The one similarity scale users read and type (src/shared/similarity.ts).
import { describe, expect, it } from 'vitest';
import { cosineToPercent, formatSimilarity, parseSimilarity, percentToCosine } from '../src/shared/similarity.js';

describe('the similarity scale', () => {
  it('writes a cosine as a percentage with two decimals', () => {
    expect(formatSimilarity(0.8693552466686002)).toBe('86.94%');
    expect(formatSimilarity(1)).toBe('100.00%');
    expect(formatSimilarity(0.9786)).toBe('97.86%');
    expect(cosineToPercent(0.8693552466686002)).toBe(86.94);
  });

  it('reads a percentage or a cosine, and refuses anything else', () => {
    expect(parseSimilarity('95.12%')).toBe(0.9512);
    expect(parseSimilarity(' 95.12 % ')).toBe(0.9512);
    expect(parseSimilarity('0.9512')).toBe(0.9512);
    expect(parseSimilarity('1')).toBe(1);
    expect(parseSimilarity('-0.5')).toBe(-0.5);
    expect(parseSimilarity('-50%')).toBe(-0.5);
    for (const bad of ['', 'abc', '120%', '95.12', '1.5', '-101%', 'NaN', '1e3', '0.9%%'])
      expect(parseSimilarity(bad)).toBeNull();
  });

  it('turns a form percentage back into the cosine as its literal parses', () => {
    for (const [pct, cos] of [
      [95.12, 0.9512],
      [86.94, 0.8694],
      [0.01, 0.0001],
      [-12.34, -0.1234],
    ] as const)
      expect(percentToCosine(pct)).toBe(cos);
  });
});
