// The library grid at 100,000 photos, in headless Chromium: the built renderer against an in-page DoppelApi
// that describes a library of 100,000 photos (the desktop client: its layout's byte arrays arrive as they are).
// Only the rows in view exist in the page, and only the photos in view are fetched, at the top and after a jump to
// the end.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRenderer, launchChromium } from './bridge.js';
import { ORIGIN, routeRenderer } from './fake-library.js';

const TOTAL = 100_000;
let browser: Browser;
let page: Page;

/** Runs in the page before the app: window.doppel answering for a library of `total` photos. */
function fakeDesktop(total: number): void {
  const requests: number[][] = [];
  const photo = (i: number) => ({
    id: i + 1,
    folderId: 1,
    path: `/photos/photo-${String(i).padStart(6, '0')}.jpg`,
    size: 1000,
    mtimeMs: 0,
    hash: null,
    width: 640,
    height: 480,
    format: 'jpeg',
    takenAt: null,
    orientation: null,
    status: 'indexed',
    error: null,
  });
  const api: Record<string, unknown> = {
    info: async () => ({
      photos: total,
      errors: 0,
      folders: 1,
      model: { name: 'm', dim: 512, inputSize: 32, backend: 'wasm' },
      dbPath: '/db',
    }),
    listFolders: async () => [
      { id: 1, path: '/photos', addedAt: 0, status: 'online', reference: false, followSymlinks: false },
    ],
    indexStatus: async () => ({ state: 'idle', progress: null, watching: false }),
    listPhotos: async (q: { offset?: number; limit?: number }) => {
      const offset = q.offset ?? 0;
      const limit = q.limit ?? 100;
      const photos = [];
      for (let i = offset; i < Math.min(total, offset + limit); i++) photos.push(photo(i));
      return { total, photos };
    },
    // Every photo 4:3, one month for every 1,000 photos, in id order.
    photoLayout: async (q: { sort?: string }) => {
      const ids = new Uint32Array(total).map((_, i) => i + 1);
      const aspects = new Uint16Array(total).fill(1333);
      const sections = [];
      for (let s = 0; q.sort === 'date' && s * 1000 < total; s++)
        sections.push({
          key: `${2000 + Math.floor(s / 12)}-${String((s % 12) + 1).padStart(2, '0')}`,
          start: s * 1000,
          count: Math.min(1000, total - s * 1000),
        });
      return { count: total, ids: new Uint8Array(ids.buffer), aspects: new Uint8Array(aspects.buffer), sections };
    },
    getPhotos: async (ids: number[]) => {
      requests.push(ids);
      return ids.map((id) => photo(id - 1));
    },
    on: () => () => undefined,
    onFindSimilar: () => () => undefined,
  };
  Object.defineProperty(window, 'doppel', { value: api });
  Object.defineProperty(window, 'getPhotosRequests', { value: requests });
}

beforeAll(async () => {
  await buildRenderer();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await routeRenderer(page);
  await page.addInitScript(fakeDesktop, TOTAL);
  await page.goto(`${ORIGIN}/index.html`);
});

afterAll(async () => {
  await browser?.close();
});

/** The ids each getPhotos call asked for, in order. */
async function requests(): Promise<number[][]> {
  return page.evaluate(() => (window as unknown as { getPhotosRequests: number[][] }).getPhotosRequests);
}

describe('the library grid at 100,000 photos', () => {
  it('puts only the rows in view in the page, and fetches only their pages', async () => {
    const grid = page.getByRole('list', { name: 'Photos' });
    await grid.getByRole('img', { name: 'photo-000000', exact: true }).waitFor();
    const cells = await grid.getByRole('listitem').count();
    expect(cells).toBeGreaterThan(20);
    expect(cells).toBeLessThan(120);
    // The pages of the rows in view (and their margin): two pages of 256 photos at most.
    const fetched = (await requests()).flat();
    expect(fetched.length).toBeLessThanOrEqual(512);
    expect(Math.max(...fetched)).toBeLessThan(512);

    // Jump to the end: the last photo appears, the page still holds a screenful.
    await grid.evaluate((el) => {
      const viewport = el.parentElement!;
      viewport.scrollTop = viewport.scrollHeight;
    });
    await grid.getByRole('img', { name: `photo-${String(TOTAL - 1).padStart(6, '0')}`, exact: true }).waitFor();
    expect(await grid.getByRole('listitem').count()).toBeLessThan(120);
    const after = (await requests()).flat();
    expect(after.length).toBeLessThanOrEqual(1024);
    expect(after).toContain(TOTAL);
    // Nothing between the top and the end was fetched on the way.
    expect(after.filter((id) => id > 512 && id < TOTAL - 1024)).toEqual([]);
  }, 60_000);
});
