// The `grid` section of `npm run bench` (`--only grid`; not part of the full run: it builds the renderer and starts
// Chromium): the library grid at 100,000 photos.
// - layoutApi: photoLayout on a real SQLite library of 100,000 photos (Store, in memory): the query's time per sort,
//   the bytes it returns, and what the loopback bridge's JSON makes of them (base64, and the time to encode it);
// - scroll: the built renderer in headless Chromium over a described library of 100,000 photos in 240 months
//   (tests/e2e/fake-library.ts: its API calls answered in Node through Playwright's routing, real JPEG thumbnails),
//   scrolled programmatically, one step a requestAnimationFrame: frame times (the rAF deltas: p50, p95, max, frames
//   over 50 ms), long tasks (PerformanceObserver, > 50 ms), long animation frames (> 50 ms) with the time the
//   page's scripts and its style and layout took in them (the rest is the browser rastering and compositing), the
//   most cells in the page at once, and the share of frames that showed a cell still waiting for its record. Phases: a steady scroll (30 px a frame, a fast wheel),
//   a fling (400 px a frame), and jumps (to 40 random places, 12 frames each, as dragging the scrollbar does).
// The figures are the machine's: the page's frames share the CPUs with Node answering its requests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../src/core/store/repository.js';
import { toWire } from '../src/shared/wire.js';
import { buildRenderer, launchChromium } from '../tests/e2e/bridge.js';
import { FakeLibrary, openFakeApp } from '../tests/e2e/fake-library.js';

const PHOTOS = 100_000;
const log = (m: string): void => void process.stderr.write(`${m}\n`);

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** photoLayout on a library of 100,000 photos: 250 folders, dates over 20 years (a third from mtime), mixed shapes. */
function layoutApi(): Record<string, unknown> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doppel-bench-grid-'));
  const store = Store.open(path.join(dir, 'library.sqlite'));
  try {
    const folder = store.addFolder('/photos');
    store.transaction(() => {
      for (let i = 0; i < PHOTOS; i++) {
        const month = i % 240;
        const portrait = i % 5 === 1;
        store.upsertPhoto({
          folderId: folder.id,
          path: `/photos/${String(i % 250).padStart(3, '0')}/IMG_${i}.jpg`,
          size: 2_000_000 + i,
          mtimeMs: 1.5e12 + i * 1e6,
          hash: `h${i}`,
          width: portrait ? 3000 : 4000,
          height: portrait ? 4000 : 3000,
          format: 'jpeg',
          takenAt:
            i % 3 ? `${2005 + Math.floor(month / 12)}-${String((month % 12) + 1).padStart(2, '0')}-11T10:00:00` : null,
          orientation: 1,
          status: 'indexed',
          error: null,
        });
      }
    });
    store.db.exec('ANALYZE');
    const sorts: Record<string, unknown> = {};
    for (const sort of ['date', 'name', 'path'] as const) {
      const times: number[] = [];
      const cpu: number[] = [];
      let layout = store.photoLayout({ sort });
      for (let r = 0; r < 7; r++) {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        layout = store.photoLayout({ sort });
        const c = process.cpuUsage(c0);
        times.push(performance.now() - t0);
        cpu.push((c.user + c.system) / 1000);
      }
      const t1 = performance.now();
      const json = JSON.stringify(toWire({ ok: true, value: layout }));
      const encodeMs = performance.now() - t1;
      sorts[sort] = {
        medianMs: round(median(times)),
        minMs: round(Math.min(...times)),
        medianCpuMs: round(median(cpu)),
        bytes: layout.ids.byteLength + layout.aspects.byteLength + JSON.stringify(layout.sections).length,
        sections: layout.sections.length,
        bridgeJsonBytes: json.length,
        bridgeEncodeMs: round(encodeMs),
      };
      log(`grid: photoLayout by ${sort}: ${round(median(times))} ms, ${json.length} bytes as bridge JSON`);
    }
    return { photos: PHOTOS, sorts };
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface PhaseResult {
  frames: number;
  p50: number;
  p95: number;
  max: number;
  over50ms: number;
  longTasks: number;
  longTaskMs: number;
  longestTaskMs: number;
  maxCells: number;
  framesWaiting: number;
  longFrames: number;
  longFramesMs: number;
  longFramesScriptMs: number;
  longFramesStyleLayoutMs: number;
}

/** One phase, in the page: `steps(frame)` is where the viewport goes at each frame (null: the phase is over). */
const RUN_PHASE = `async (kind) => {
  const viewport = document.querySelector('.viewport');
  const height = viewport.scrollHeight - viewport.clientHeight;
  const tasks = [];
  const observer = new PerformanceObserver((list) => tasks.push(...list.getEntries()));
  observer.observe({ type: 'longtask' });
  // Long animation frames (over 50 ms) with what the page's main thread did in them: scripts, style and layout.
  const frames = [];
  const frameObserver = new PerformanceObserver((list) => frames.push(...list.getEntries()));
  frameObserver.observe({ type: 'long-animation-frame' });
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const start = kind === 'fling' ? height / 2 : kind === 'steady' ? 0 : 0;
  viewport.scrollTop = start;
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const deltas = [];
  let maxCells = 0;
  let waiting = 0;
  let frame = 0;
  let last = performance.now();
  const t0 = last;
  await new Promise((resolve) => {
    const step = (now) => {
      if (frame > 0) deltas.push(now - last);
      last = now;
      const cells = viewport.querySelectorAll('.cell');
      maxCells = Math.max(maxCells, cells.length);
      const top = viewport.getBoundingClientRect().top;
      const bottom = top + viewport.clientHeight;
      for (const c of viewport.querySelectorAll('.cell.placeholder')) {
        const r = c.getBoundingClientRect();
        if (r.bottom > top && r.top < bottom) { waiting++; break; }
      }
      let next;
      if (kind === 'steady') next = frame < 600 ? start + frame * 30 : null;
      else if (kind === 'fling') next = frame < 300 ? start + frame * 400 : null;
      else next = frame < 480 ? (frame % 12 === 0 ? random() * height : viewport.scrollTop) : null;
      if (next === null) return resolve();
      viewport.scrollTop = Math.min(height, next);
      frame++;
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  await new Promise((r) => setTimeout(r, 100));
  observer.disconnect();
  frameObserver.disconnect();
  const inPhase = tasks.filter((t) => t.startTime >= t0);
  const longFrames = frames.filter((f) => f.startTime >= t0);
  const sorted = [...deltas].sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return {
    frames: deltas.length,
    p50: q(0.5),
    p95: q(0.95),
    max: sorted[sorted.length - 1],
    over50ms: deltas.filter((d) => d > 50).length,
    longTasks: inPhase.length,
    longTaskMs: inPhase.reduce((n, t) => n + t.duration, 0),
    longestTaskMs: inPhase.reduce((n, t) => Math.max(n, t.duration), 0),
    maxCells,
    framesWaiting: waiting,
    longFrames: longFrames.length,
    longFramesMs: longFrames.reduce((n, f) => n + f.duration, 0),
    longFramesScriptMs: longFrames.reduce((n, f) => n + f.scripts.reduce((m, s) => m + s.duration, 0), 0),
    longFramesStyleLayoutMs: longFrames.reduce((n, f) => n + (f.startTime + f.duration - f.styleAndLayoutStart), 0),
  };
}`;

async function scroll(): Promise<Record<string, unknown>> {
  await buildRenderer();
  const browser = await launchChromium();
  try {
    const library = new FakeLibrary({ total: PHOTOS, months: 240 });
    const viewport = { width: 1400, height: 900 };
    const t0 = performance.now();
    const page = await openFakeApp(browser, library, viewport);
    await page.locator('.cell[data-index="0"] img').waitFor({ timeout: 60_000 });
    const firstPhotoMs = performance.now() - t0;
    const layoutRequest = await page.evaluate(() => {
      const entry = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/api/photoLayout')) as
        PerformanceResourceTiming | undefined;
      return entry ? { ms: entry.duration, bytes: entry.encodedBodySize } : null;
    });
    const phases: Record<string, PhaseResult> = {};
    for (const kind of ['steady', 'fling', 'jumps']) {
      const r = (await page.evaluate(`(${RUN_PHASE})(${JSON.stringify(kind)})`)) as PhaseResult;
      phases[kind] = {
        ...r,
        p50: round(r.p50),
        p95: round(r.p95),
        max: round(r.max),
        longTaskMs: round(r.longTaskMs),
        longestTaskMs: round(r.longestTaskMs),
        longFramesMs: round(r.longFramesMs),
        longFramesScriptMs: round(r.longFramesScriptMs),
        longFramesStyleLayoutMs: round(r.longFramesStyleLayoutMs),
      };
      log(
        `grid: ${kind}: frames p50 ${round(r.p50)} ms, p95 ${round(r.p95)} ms, max ${round(r.max)} ms; ` +
          `${r.longTasks} long tasks (${round(r.longTaskMs)} ms); ${r.longFrames} long frames (${round(r.longFramesMs)} ms, ` +
          `scripts ${round(r.longFramesScriptMs)} ms); ${r.framesWaiting}/${r.frames} frames waiting`,
      );
    }
    const getPhotos = library.calls.filter((c) => c.member === 'getPhotos').length;
    return {
      photos: PHOTOS,
      months: 240,
      viewport,
      firstPhotoMs: Math.round(firstPhotoMs),
      photoLayoutRequest: layoutRequest && { ms: round(layoutRequest.ms), bytes: layoutRequest.bytes },
      getPhotosCalls: getPhotos,
      phases,
    };
  } finally {
    await browser.close();
  }
}

export async function gridBench(): Promise<Record<string, unknown>> {
  const load = Number(os.loadavg()[0]!.toFixed(2));
  const layout = layoutApi();
  const scrolled = await scroll();
  return { loadAverageAtStart: load, layoutApi: layout, scroll: scrolled };
}
