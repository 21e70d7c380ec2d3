// The indexer's read budget (src/core/indexer/read-budget.ts): the weighted semaphore that bounds the bytes of
// files read whole, how a file of a given size is read, and a large file given as its streamed hash and descriptor.
// What it does for a whole indexing run's memory: indexer-memory.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  IN_FLIGHT_BUDGET_BYTES,
  ReadBudget,
  readPlan,
  WeightedSemaphore,
  WHOLE_READ_MAX_BYTES,
} from '../../src/core/indexer/read-budget.js';
import { contentHash } from '../../src/core/library/fingerprint.js';
import { openRegularFileStat } from '../../src/core/library/read-file.js';
import { photos, tempDir } from '../helpers.js';

const tmp = tempDir('doppel-budget-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const MiB = 1024 * 1024;

describe('the read budget', () => {
  it('lets weights in first come first served, a large one not passed by small ones behind it', async () => {
    const sem = new WeightedSemaphore(10);
    const order: string[] = [];
    const take = (name: string, weight: number) =>
      sem.acquire(weight).then((release) => {
        order.push(name);
        return release;
      });
    const a = await take('a', 6);
    const b = take('b', 8); // does not fit beside a
    const c = take('c', 3); // would fit beside a, but waits behind b (and does not fit beside it)
    await Promise.resolve();
    expect(order).toEqual(['a']);
    a();
    a(); // giving back twice gives back once
    const releaseB = await b;
    expect(order).toEqual(['a', 'b']);
    releaseB();
    (await c)();
    expect(order).toEqual(['a', 'b', 'c']);
    await expect(sem.acquire(11)).rejects.toThrow(RangeError);
    await expect(sem.use(10, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await sem.use(10, async () => undefined); // what failed gave its weight back
  });

  it('reads ordinary files whole, streams large ones where it can, and refuses what it cannot hold', () => {
    expect(WHOLE_READ_MAX_BYTES).toBeLessThanOrEqual(IN_FLIGHT_BUDGET_BYTES);
    expect(readPlan(30 * MiB, true)).toBe('whole');
    expect(readPlan(WHOLE_READ_MAX_BYTES, false)).toBe('whole');
    expect(readPlan(WHOLE_READ_MAX_BYTES + 1, true)).toBe('stream');
    // Without a path to the open descriptor: whole under the budget, or not at all.
    expect(readPlan(WHOLE_READ_MAX_BYTES + 1, false)).toBe('whole');
    expect(readPlan(IN_FLIGHT_BUDGET_BYTES + 1, false)).toBe('refuse');
    expect(readPlan(1900 * MiB, true)).toBe('stream');
  });

  it.skipIf(process.platform !== 'linux')('gives a large file as its streamed hash and its descriptor', async () => {
    const file = path.join(tmp, 'streamed.png');
    fs.copyFileSync(photos('CBSD68', 1)[0]!, file);
    const bytes = fs.readFileSync(file);
    const small = new ReadBudget({ wholeReadMaxBytes: 1024, inFlightBudgetBytes: 4096 });
    const opened = await openRegularFileStat(file);
    try {
      const content = await small.read(opened);
      expect(content).toMatchObject({ hash: contentHash(bytes), size: bytes.length });
      expect(content.image).toEqual({ file: `/proc/self/fd/${opened.handle.fd}` });
      content.release();
      const whole = await new ReadBudget().read(opened);
      expect(whole).toMatchObject({ hash: contentHash(bytes), size: bytes.length });
      expect(Buffer.from(whole.image as Uint8Array).equals(bytes)).toBe(true);
      whole.release();
    } finally {
      await opened.handle.close();
    }
  });
});
