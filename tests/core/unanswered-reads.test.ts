// The bookkeeping behind "a drive that stopped answering" (library/read-file.ts), on operations that answer when
// the test says so: a given-up operation counts against its drive until it settles, a cancel counts only after a
// second of waiting, and a drive with one unanswered is refused at once. (tests/cli-hung-reads.test.ts shows the
// same on a real FUSE file system whose reads never answer, where one can be mounted.)
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  answeredWithin,
  CANCELLED_WAIT_MS,
  deviceNotAnswering,
  unansweredReads,
  UnreadableFile,
} from '../../src/core/library/read-file.js';

/** An operation that answers with `value` when `answer` is called. */
function pending<T>(): { work: Promise<T>; answer: (value: T) => void } {
  let answer!: (value: T) => void;
  const work = new Promise<T>((resolve) => (answer = resolve));
  return { work, answer };
}

afterEach(() => vi.useRealTimers());

describe('operations given up on', () => {
  it('count against their drive until they answer; the drive is refused at once meanwhile', async () => {
    vi.useFakeTimers();
    const device = 101;
    const before = unansweredReads();
    const slow = pending<string>();
    const late: string[] = [];
    const given = answeredWithin(() => slow.work, { device, timeoutMs: 2000, late: (v) => late.push(v) });
    const failed = expect(given).rejects.toMatchObject({ message: 'Did not answer within 2 s', retry: true });
    await vi.advanceTimersByTimeAsync(2000);
    await failed;
    expect(deviceNotAnswering(device)).toBe(true);
    expect(unansweredReads()).toBe(before + 1);

    // Another file there is not asked: the operation is never started.
    let started = false;
    const refused = answeredWithin(
      () => {
        started = true;
        return Promise.resolve('x');
      },
      { device, timeoutMs: 2000 },
    );
    await expect(refused).rejects.toThrow(/^Not read: its drive stopped answering/);
    expect(started).toBe(false);
    // Other drives are asked as ever.
    await expect(answeredWithin(() => Promise.resolve('ok'), { device: 102, timeoutMs: 2000 })).resolves.toBe('ok');

    // Once it answers, the drive is asked again, and what it gave is handed over (a handle to close).
    slow.answer('handle');
    await vi.advanceTimersByTimeAsync(0);
    expect(late).toEqual(['handle']);
    expect(deviceNotAnswering(device)).toBe(false);
    expect(unansweredReads()).toBe(before);
  });

  it('a cancel gives up at once, and counts against the drive only after a second of waiting', async () => {
    vi.useFakeTimers();
    const before = unansweredReads();
    // Cancelled at once: a working drive's read answers a moment later; the next run must be able to read there.
    const quick = pending<number>();
    const cancel = new AbortController();
    const first = answeredWithin(() => quick.work, { device: 201, timeoutMs: 30_000, signal: cancel.signal });
    cancel.abort();
    await expect(first).rejects.toBeInstanceOf(UnreadableFile);
    expect(deviceNotAnswering(201)).toBe(false);
    expect(unansweredReads()).toBe(before + 1); // still waited on: the process could not exit yet
    quick.answer(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(unansweredReads()).toBe(before);

    // Cancelled after waiting a second: the drive is taken for not answering until the read does.
    const stuck = pending<number>();
    const cancelLate = new AbortController();
    const second = answeredWithin(() => stuck.work, { device: 202, timeoutMs: 30_000, signal: cancelLate.signal });
    const failed = expect(second).rejects.toThrow(/cancelled/);
    await vi.advanceTimersByTimeAsync(CANCELLED_WAIT_MS);
    cancelLate.abort();
    await failed;
    expect(deviceNotAnswering(202)).toBe(true);
    stuck.answer(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(deviceNotAnswering(202)).toBe(false);
    expect(unansweredReads()).toBe(before);
  });

  it('an operation that answers in time leaves nothing behind', async () => {
    vi.useFakeTimers();
    const before = unansweredReads();
    const op = pending<string>();
    const answered = answeredWithin(() => op.work, { device: 301, timeoutMs: 2000 });
    await vi.advanceTimersByTimeAsync(1999);
    op.answer('in time');
    await expect(answered).resolves.toBe('in time');
    await vi.advanceTimersByTimeAsync(10_000); // the limit's timer was cleared: nothing fires later
    expect(deviceNotAnswering(301)).toBe(false);
    expect(unansweredReads()).toBe(before);
  });
});
