// The built renderer in headless Chromium against a described library of any size: the page is the browser client
// (as under `doppel serve`), and its API calls, thumbnails and event stream are answered here, in Node, through
// Playwright's routing. Photos have camera-like aspect ratios and dates over many months; thumbnails are real JPEGs
// of those shapes (one per shape, each photo its own URL, so the page decodes every one it shows). Used by
// tests/e2e/grid-layout.test.ts and the grid bench (bench/grid.ts).
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page, Route } from 'playwright-core';
import {
  ASPECT_SCALE,
  type FolderInfo,
  type LibraryInfo,
  type PhotoInfo,
  type PhotoLayout,
  type PhotoSection,
  type TrashReport,
  type UndoReport,
} from '../../src/shared/api.js';
import { fromWire, toWire } from '../../src/shared/wire.js';
import { REPO } from '../helpers.js';

export const ORIGIN = 'http://doppel.test';

/** Width : height of the photos, in turn by a fixed pattern: mostly 4:3 and 3:2 both ways, squares, 16:9, panoramas. */
const SHAPES: [number, number][] = [
  [4000, 3000],
  [3000, 4000],
  [6000, 4000],
  [4000, 3000],
  [4000, 6000],
  [3000, 3000],
  [4000, 3000],
  [1920, 1080],
  [4000, 3000],
  [3000, 4000],
  [9000, 2000],
  [6000, 4000],
];

export interface FakeLibraryOptions {
  total: number;
  /** Months the photos' dates spread over (the date sort's sections), from January 2015 on. */
  months?: number;
}

export interface ApiCall {
  member: string;
  args: unknown[];
}

/** A library that exists only as numbers: photo i (from 0) is in date order, with id i + 1. */
export class FakeLibrary {
  readonly total: number;
  readonly months: number;
  /** Ids of the photos present (trash removes, undo puts back). */
  readonly present: Set<number>;
  readonly calls: ApiCall[] = [];
  #trashed: number[][] = [];

  constructor(options: FakeLibraryOptions) {
    this.total = options.total;
    this.months = options.months ?? Math.max(1, Math.ceil(options.total / 60));
    this.present = new Set(Array.from({ length: this.total }, (_, i) => i + 1));
  }

  /** 'YYYY-MM' of photo i's date. */
  monthOf(i: number): string {
    const m = Math.floor((i * this.months) / this.total);
    return `${2015 + Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}`;
  }

  shapeOf(i: number): [number, number] {
    return SHAPES[i % SHAPES.length]!;
  }

  photo(i: number): PhotoInfo {
    const [width, height] = this.shapeOf(i);
    const month = this.monthOf(i);
    const day = String((i % 28) + 1).padStart(2, '0');
    // Every seventh photo has no EXIF date: its modification time (UTC) in the same month stands in.
    const exif = i % 7 !== 3;
    return {
      id: i + 1,
      folderId: 1,
      path: `/photos/${month.slice(0, 4)}/IMG_${String(i).padStart(6, '0')}.jpg`,
      size: 2_000_000 + (i % 1000) * 1000,
      mtimeMs: exif ? 1.7e12 : Date.parse(`${month}-${day}T12:00:00Z`),
      hash: `h${i}`,
      width,
      height,
      format: 'jpeg',
      takenAt: exif ? `${month}-${day}T10:00:00` : null,
      orientation: 1,
      status: 'indexed',
      error: null,
    };
  }

  /** The present photos' positions (i), in the grid's order (the same under every sort: this is a fake). */
  order(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.total; i++) if (this.present.has(i + 1)) out.push(i);
    return out;
  }

  layout(sort: string | undefined): PhotoLayout {
    const order = this.order();
    const ids = new Uint32Array(order.length);
    const aspects = new Uint16Array(order.length);
    const sections: PhotoSection[] = [];
    order.forEach((i, at) => {
      ids[at] = i + 1;
      const [w, h] = this.shapeOf(i);
      aspects[at] = Math.round((w / h) * ASPECT_SCALE);
      if (sort !== 'date') return;
      const key = this.monthOf(i);
      const last = sections[sections.length - 1];
      if (last?.key === key) last.count++;
      else sections.push({ key, start: at, count: 1 });
    });
    return {
      count: order.length,
      ids: new Uint8Array(ids.buffer),
      aspects: new Uint8Array(aspects.buffer),
      sections,
    };
  }

  /** Answers one API call as the service would (what the Library and Similar views ask). */
  answer(member: string, args: unknown[]): unknown {
    this.calls.push({ member, args });
    const folder: FolderInfo = {
      id: 1,
      path: '/photos',
      addedAt: 0,
      status: 'online',
      reference: false,
      followSymlinks: false,
    };
    switch (member) {
      case 'info':
        return {
          photos: this.present.size,
          errors: 0,
          folders: 1,
          model: { name: 'fake', dim: 512, inputSize: 32, backend: 'wasm' },
          dbPath: '/fake.sqlite',
        } satisfies LibraryInfo;
      case 'listFolders':
        return [folder];
      case 'indexStatus':
        return { state: 'idle', progress: null, watching: false };
      case 'listPhotos': {
        const { offset = 0, limit = 100 } = (args[0] ?? {}) as { offset?: number; limit?: number };
        const order = this.order();
        return { total: order.length, photos: order.slice(offset, offset + limit).map((i) => this.photo(i)) };
      }
      case 'photoLayout':
        return this.layout((args[0] as { sort?: string }).sort);
      case 'getPhotos':
        return (args[0] as number[]).filter((id) => this.present.has(id)).map((id) => this.photo(id - 1));
      case 'similarToPhoto':
        return [];
      case 'trashPhotos': {
        const ids = (args[0] as number[]).filter((id) => this.present.has(id));
        for (const id of ids) this.present.delete(id);
        this.#trashed.push(ids);
        return {
          actionId: this.#trashed.length,
          dryRun: false,
          files: ids.map((id) => ({ photoId: id, path: this.photo(id - 1).path })),
          skipped: [],
          undoable: true,
          undoNote: null,
        } satisfies TrashReport;
      }
      case 'undoLastAction': {
        const ids = this.#trashed.pop() ?? [];
        for (const id of ids) this.present.add(id);
        return {
          actionId: this.#trashed.length + 1,
          restored: ids.map((id) => this.photo(id - 1).path),
          failed: [],
          reindexed: ids.length,
          retried: 0,
        } satisfies UndoReport;
      }
      default:
        throw new Error(`${member} is not part of the fake library`);
    }
  }
}

/** One JPEG per shape (its long side 256 px, as the thumbnail cache makes them), made once. */
const thumbnails = new Map<string, Promise<Buffer>>();
function thumbnail(width: number, height: number): Promise<Buffer> {
  const key = `${width}x${height}`;
  let made = thumbnails.get(key);
  if (!made) {
    const scale = 256 / Math.max(width, height);
    const [w, h] = [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
    const pixels = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const o = (y * w + x) * 3;
        pixels[o] = (x * 255) / w;
        pixels[o + 1] = (y * 255) / h;
        pixels[o + 2] = ((x ^ y) * 7) & 255;
      }
    made = sharp(pixels, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 80 })
      .toBuffer();
    thumbnails.set(key, made);
  }
  return made;
}

/** A new page showing the app over `library` (the built renderer in out/renderer: run buildRenderer first). */
export async function openFakeApp(
  browser: Browser,
  library: FakeLibrary,
  viewport = { width: 1400, height: 900 },
): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.on('pageerror', (err) => console.error('page error:', err));
  await page.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    const rel = url.pathname.slice(1) || 'index.html';
    if (rel.startsWith('api/')) {
      const member = rel.slice(4);
      const args = fromWire(JSON.parse(route.request().postData() ?? '[]')) as unknown[];
      let body: unknown;
      try {
        body = { ok: true, value: library.answer(member, args) };
      } catch (err) {
        body = { ok: false, error: { kind: 'internal', message: (err as Error).message } };
      }
      return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(toWire(body)) });
    }
    const media = /^media\/thumb\/(\d+)$/.exec(rel);
    if (media) {
      const i = Number(media[1]) - 1;
      if (!library.present.has(i + 1)) return route.fulfill({ status: 404 });
      const body = await thumbnail(...library.shapeOf(i));
      return route.fulfill({
        status: 200,
        contentType: 'image/jpeg',
        body,
        headers: { 'Cache-Control': 'max-age=3600' },
      });
    }
    // The event stream: open, nothing to say, and no reconnecting for an hour.
    if (rel === 'events')
      return route.fulfill({ status: 200, contentType: 'text/event-stream', body: 'retry: 3600000\n\n' });
    return fulfillRendererFile(route, rel);
  });
  await page.goto(`${ORIGIN}/index.html`);
  return page;
}

const RENDERER = path.join(REPO, 'out', 'renderer');

/** Answers a request for `rel`, a file of the built renderer (out/renderer); 404 for anything else. */
function fulfillRendererFile(route: Route, rel: string): Promise<void> {
  const file = path.join(RENDERER, rel);
  if (!file.startsWith(RENDERER) || !fs.existsSync(file)) return route.fulfill({ status: 404 });
  const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'text/html';
  return route.fulfill({ status: 200, contentType: type, body: fs.readFileSync(file) });
}

/**
 * Serves the built renderer alone at ORIGIN, for a page whose API lives in the page itself (a desktop
 * `window.doppel` put there by an init script) rather than behind the bridge's routes.
 */
export async function routeRenderer(page: Page): Promise<void> {
  await page.route(`${ORIGIN}/**`, (route) =>
    fulfillRendererFile(route, new URL(route.request().url()).pathname.slice(1) || 'index.html'),
  );
}
