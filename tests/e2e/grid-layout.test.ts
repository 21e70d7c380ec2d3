/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The library grid in headless Chromium over a described library (tests/e2e/fake-library.ts): justified rows that
// fill the width at three window sizes, a heading per month and the jump list, selection by mouse and keyboard,
// the focus kept on a photo after End, after Escape from the menu and after Back from Find similar, and several
// photos moved to the trash with the question asked first and Undo.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monthLabel } from '../../src/renderer/lib/format.js';
import { buildRenderer, launchChromium } from './bridge.js';
import { FakeLibrary, openFakeApp } from './fake-library.js';

const TOTAL = 1_200;
const MONTHS = 18;
let browser: Browser;
let library: FakeLibrary;
let page: Page;

beforeAll(async () => {
  await buildRenderer();
  browser = await launchChromium();
  library = new FakeLibrary({ total: TOTAL, months: MONTHS });
  page = await openFakeApp(browser, library, { width: 1400, height: 900 });
  await grid().getByRole('img').first().waitFor();
});

afterAll(async () => {
  await browser?.close();
});

const grid = () => page.getByRole('list', { name: 'Photos' });
const cell = (i: number) => page.locator(`.cell[data-index="${i}"]`);

/** The grid has read the photos in view (its page requests answered) and shows the photo at position i. */
async function settled(i?: number): Promise<void> {
  if (i !== undefined) await cell(i).locator('img').waitFor();
  await page.locator('.viewport[data-pending="0"]').waitFor();
}

/** The grid has laid out for its width (the width its rows fill, data-width, is the list's less its padding). */
async function laidOut(): Promise<void> {
  await page.waitForFunction(() => {
    const ul = document.querySelector('ul.canvas');
    const v = document.querySelector<HTMLElement>('.viewport');
    return ul && v && ul.clientWidth > 16 && Number(v.dataset.width) === ul.clientWidth - 16;
  });
  await settled();
}

/** Scrolls the grid to y and waits until it shows the photos there (read). */
async function scrollGrid(y: number): Promise<void> {
  await page.locator('.viewport').evaluate((v, to) => (v.scrollTop = to), y);
  await page.waitForFunction(() => {
    const v = document.querySelector('.viewport')!;
    const box = v.getBoundingClientRect();
    return [...v.querySelectorAll('.cell img')].some((img) => {
      const r = img.getBoundingClientRect();
      return r.top >= box.top && r.top < box.bottom;
    });
  });
  await settled();
}

/** The position (data-index) of the focused element, or null when the focus is not on a grid cell. */
const focused = () =>
  page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return el?.classList.contains('cell') ? Number(el.dataset.index) : null;
  });

/** Every selected photo's position, in order. */
const selectedCells = () =>
  page.$$eval('.cell[aria-pressed="true"]', (els) => els.map((e) => Number((e as HTMLElement).dataset.index)));

describe('the library grid: justified rows, months, selection and focus', () => {
  it.each([900, 1400, 1920])('fills the width with every full row at a %i px window', async (width) => {
    await page.setViewportSize({ width, height: 900 });
    await laidOut();
    const rows = await page.evaluate(() => {
      const ul = document.querySelector('ul.canvas')!;
      const box = ul.getBoundingClientRect();
      const byTop = new Map<number, { left: number; right: number; ratios: number[] }>();
      for (const li of ul.querySelectorAll('li')) {
        const r = li.getBoundingClientRect();
        const key = Math.round(r.top);
        const row = byTop.get(key) ?? { left: Infinity, right: -Infinity, ratios: [] };
        row.left = Math.min(row.left, r.left);
        row.right = Math.max(row.right, r.right);
        const img = li.querySelector('img');
        if (img) row.ratios.push(r.width / r.height);
        byTop.set(key, row);
      }
      const headings = [...document.querySelectorAll('h2.section')].map((h) => h.getBoundingClientRect().top);
      const tops = [...byTop.keys()].sort((a, b) => a - b);
      return {
        // The grid's content box: the list's width less its padding of 8 px a side.
        contentLeft: box.left + 8,
        contentRight: box.left + ul.clientWidth - 8,
        rows: tops.map((top, k) => ({
          top,
          ...byTop.get(top)!,
          // A section's last row (a heading follows it) or the last row in the page (cut by the window) is not
          // required to be full.
          last: k === tops.length - 1 || headings.some((h) => h > top && h < tops[k + 1]!),
        })),
      };
    });
    const full = rows.rows.filter((r) => !r.last);
    expect(full.length).toBeGreaterThanOrEqual(3);
    for (const row of rows.rows) expect(Math.abs(row.left - rows.contentLeft)).toBeLessThanOrEqual(2);
    for (const row of full) expect(Math.abs(row.right - rows.contentRight)).toBeLessThanOrEqual(2);
    for (const row of rows.rows) expect(row.right).toBeLessThanOrEqual(rows.contentRight + 2);
    // The boxes have the photos' shapes: landscape and portrait both, and a panorama wider than 4:1.
    const ratios = rows.rows.flatMap((r) => r.ratios);
    expect(Math.min(...ratios)).toBeLessThan(0.8);
    expect(Math.max(...ratios)).toBeGreaterThan(1.7);
  });

  it('keeps the photo at the top of the view there when the width changes', async () => {
    await page.setViewportSize({ width: 1400, height: 900 });
    await scrollGrid(20_000);
    /** The first photo of the top row in view (partly hidden, maybe), and where its row starts against the view. */
    const top = () =>
      page.evaluate(() => {
        const v = document.querySelector('.viewport')!.getBoundingClientRect().top;
        const cells = [...document.querySelectorAll<HTMLElement>('.cell')]
          .map((c) => ({
            i: Number(c.dataset.index),
            top: c.getBoundingClientRect().top - v,
            bottom: c.getBoundingClientRect().bottom - v,
          }))
          .filter((c) => c.bottom > 0)
          .sort((a, b) => a.i - b.i);
        return cells[0]!;
      });
    const rowOf = (i: number) =>
      cell(i).evaluate(
        (c) => c.getBoundingClientRect().top - document.querySelector('.viewport')!.getBoundingClientRect().top,
      );
    for (const width of [1000, 1400]) {
      const before = await top();
      await page.setViewportSize({ width, height: 900 });
      await laidOut();
      // The row of the photo that was first in view starts where its row did: the same photos are in view.
      await expect.poll(() => rowOf(before.i)).toBeCloseTo(before.top, 0);
    }
  });

  it('puts a heading over each month, in order, and the jump list goes to a month', async () => {
    await page.setViewportSize({ width: 1400, height: 900 });
    await scrollGrid(0);
    await settled(0);
    const months = Array.from({ length: MONTHS }, (_, m) => library.monthOf(Math.ceil((m * TOTAL) / MONTHS)));
    expect(months[0]).toBe('2015-01');
    // The jump list holds every month, oldest first.
    const jump = page.getByRole('combobox', { name: 'Go to month' });
    const options = await jump.locator('option:not([disabled])').allTextContents();
    expect(options).toEqual(months.map(monthLabel));
    expect(options[2]).toBe('March 2015');
    // The headings in the page are in order, top to bottom.
    const headings = async () =>
      page.$$eval('h2.section', (hs) =>
        hs
          .map((h) => ({ text: h.textContent!.trim(), top: h.getBoundingClientRect().top }))
          .sort((a, b) => a.top - b.top)
          .map((h) => h.text),
      );
    const first = await headings();
    expect(first[0]).toBe('January 2015');
    expect(first).toEqual(months.map(monthLabel).slice(0, first.length));

    // Go to May 2016: its heading at the top of the grid, its photos under it.
    await jump.selectOption({ label: 'May 2016' });
    const may = page.getByRole('heading', { name: 'May 2016' });
    await may.waitFor();
    await settled();
    const [headingTop, viewportTop] = await Promise.all([
      may.evaluate((h) => h.getBoundingClientRect().top),
      page.locator('.viewport').evaluate((v) => v.getBoundingClientRect().top),
    ]);
    expect(Math.abs(headingTop - viewportTop - 8)).toBeLessThanOrEqual(2);
    const start = Math.ceil((16 * TOTAL) / MONTHS);
    await settled(start);
    expect(await cell(start).getAttribute('title')).toMatch(/ May 2016\n/);
    expect(await cell(start - 1).getAttribute('title')).toMatch(/ Apr 2016\n/);
    // The month's first photo is the one Tab reaches in the grid now.
    expect(await cell(start).getAttribute('tabindex')).toBe('0');
    // The heading sits between April's last row and May's first.
    const [april, heading, mayFirst] = await Promise.all(
      [cell(start - 1), may, cell(start)].map((l) => l.evaluate((e) => e.getBoundingClientRect().toJSON())),
    );
    expect(april.bottom).toBeLessThanOrEqual(heading.top);
    expect(heading.bottom).toBeLessThanOrEqual(mayFirst.top);

    // Under another sort: no headings, no jump list.
    await page.getByLabel('Sort by').selectOption('name');
    await jump.waitFor({ state: 'detached' });
    expect(await page.locator('h2.section').count()).toBe(0);
    await page.getByLabel('Sort by').selectOption('date');
    await jump.waitFor();
  });

  it('selects with the mouse: click, Shift-click for a range, Ctrl-click to toggle', async () => {
    await scrollGrid(0);
    await settled(0);
    await cell(2).click();
    expect(await selectedCells()).toEqual([2]);
    await cell(6).click({ modifiers: ['Shift'] });
    expect(await selectedCells()).toEqual([2, 3, 4, 5, 6]);
    await cell(4).click({ modifiers: ['Control'] });
    expect(await selectedCells()).toEqual([2, 3, 5, 6]);
    await cell(9).click({ modifiers: ['Control'] });
    expect(await selectedCells()).toEqual([2, 3, 5, 6, 9]);
    await page.getByText('5 selected').waitFor();
    // A plain click selects that photo alone again.
    await cell(1).click();
    expect(await selectedCells()).toEqual([1]);
    await page.getByRole('button', { name: 'Clear selection' }).click();
    expect(await selectedCells()).toEqual([]);
  });

  it('moves and selects with the keyboard: arrows, up/down to the nearest photo, Space, Shift+arrows', async () => {
    await cell(1).focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(focused).toBe(2);
    await page.keyboard.press('Space');
    expect(await selectedCells()).toEqual([2]);
    await page.keyboard.press('Shift+ArrowRight');
    await page.keyboard.press('Shift+ArrowRight');
    await expect.poll(focused).toBe(4);
    expect(await selectedCells()).toEqual([2, 3, 4]);
    await page.keyboard.press('Space');
    expect(await selectedCells()).toEqual([2, 3]);
    // Down: the photo of the next row under the middle of this one.
    const centre = await cell(4).evaluate((c) => {
      const r = c.getBoundingClientRect();
      return { x: r.left + r.width / 2, bottom: r.bottom };
    });
    await page.keyboard.press('ArrowDown');
    await expect.poll(focused).not.toBe(4);
    const below = await page.evaluate(() => {
      const r = document.activeElement!.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top };
    });
    expect(below.top).toBeGreaterThan(centre.bottom);
    expect(below.left - 4).toBeLessThanOrEqual(centre.x);
    expect(below.right + 4).toBeGreaterThanOrEqual(centre.x);
    await page.keyboard.press('ArrowUp');
    await expect.poll(focused).toBe(4);
    // Shift+Down extends the range from the anchor (the photo last toggled) over the rows.
    await page.keyboard.press('Shift+ArrowDown');
    await expect.poll(focused).not.toBe(4);
    const to = (await focused())!;
    expect(await selectedCells()).toEqual([2, 3, ...Array.from({ length: to - 3 }, (_, k) => 4 + k)]);
    await page.keyboard.press('Escape');
    expect(await selectedCells()).toEqual([]);
  });

  it('keeps the focus on a photo after End, into rows not yet read, and the arrows go on from there', async () => {
    await cell(0).focus();
    await page.keyboard.press('End');
    await expect.poll(focused).toBe(TOTAL - 1);
    await settled(TOTAL - 1);
    expect(await focused()).toBe(TOTAL - 1);
    await page.keyboard.press('ArrowLeft');
    await expect.poll(focused).toBe(TOTAL - 2);
    await page.keyboard.press('ArrowUp');
    await expect.poll(async () => (await focused())! < TOTAL - 2).toBe(true);
    await page.keyboard.press('Home');
    await expect.poll(focused).toBe(0);
    await settled(0);
  });

  it('gives the focus back to the photo after Escape from its menu, and after Back from Find similar', async () => {
    // The menu from the keyboard (Shift+F10) on photo 3.
    await cell(3).focus();
    await page.keyboard.press('Shift+F10');
    await page.getByRole('menu').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('menu').waitFor({ state: 'detached' });
    await expect.poll(focused).toBe(3);
    // The menu from a right-click on photo 5.
    await cell(5).click({ button: 'right' });
    await page.getByRole('menu').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(focused).toBe(5);
    // Enter finds similar photos; Back returns to the grid with the focus on the photo.
    await page.keyboard.press('Enter');
    const back = page.getByRole('button', { name: '← Back' });
    await back.waitFor();
    await back.click();
    await expect.poll(focused).toBe(5);
    // Find similar from the menu, then Back.
    await cell(7).click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Find similar' }).click();
    await page.getByRole('heading', { name: /^Photos similar to IMG_000007/ }).waitFor();
    await back.click();
    await expect.poll(focused).toBe(7);
    // Further down the grid: the grid keeps its place while Find similar is shown, and the focus comes back there.
    const viewport = page.locator('.viewport');
    await scrollGrid(5000);
    const shown = await page.evaluate(() => {
      const v = document.querySelector('.viewport')!.getBoundingClientRect();
      const inView = [...document.querySelectorAll<HTMLElement>('.cell')].find(
        (c) => c.getBoundingClientRect().top > v.top + 100,
      )!;
      return Number(inView.dataset.index);
    });
    await cell(shown).locator('img').waitFor();
    await cell(shown).click();
    const scrolled = await viewport.evaluate((v) => v.scrollTop);
    await page.keyboard.press('Enter');
    await back.click();
    await expect.poll(focused).toBe(shown);
    expect(await viewport.evaluate((v) => v.scrollTop)).toBe(scrolled);
  });

  it('moves several selected photos to the trash after asking, with the count and size, and Undo puts them back', async () => {
    await scrollGrid(0);
    await settled(12);
    await cell(10).click();
    await cell(12).click({ modifiers: ['Shift'] });
    await cell(12).click({ button: 'right' });
    const menu = page.getByRole('menu');
    // Find similar searches one photo: the one the menu was opened on, and the entry says so.
    await menu.getByRole('menuitem', { name: 'Find similar to IMG_000012.jpg' }).waitFor();
    const trash = menu.getByRole('menuitem', { name: 'Move 3 to trash' });
    const sizes = [10, 11, 12].reduce((sum, i) => sum + library.photo(i).size, 0);
    // Declining moves nothing.
    page.once('dialog', (d) => void d.dismiss());
    await trash.click();
    await page.getByRole('status').filter({ hasText: 'Nothing moved.' }).waitFor();
    expect(library.present.size).toBe(TOTAL);
    await expect.poll(focused).toBe(12);

    await cell(12).click({ button: 'right' });
    const asked = new Promise<string>((resolve) =>
      page.once('dialog', (d) => {
        resolve(d.message());
        void d.accept();
      }),
    );
    await trash.click();
    expect(await asked).toBe(
      `Move 3 photo(s), ${(sizes / 1024 / 1024).toFixed(1)} MB, to the trash? Undo puts them back.`,
    );
    await page.getByRole('status').filter({ hasText: '3 photo(s) moved to the trash.' }).waitFor();
    expect([10, 11, 12].map((i) => library.present.has(i + 1))).toEqual([false, false, false]);
    await page.locator(`.viewport[data-count="${TOTAL - 3}"]`).waitFor();
    await page.getByRole('img', { name: 'IMG_000011', exact: true }).waitFor({ state: 'detached' });
    expect(await selectedCells()).toEqual([]);

    await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByRole('status').filter({ hasText: '3 photo(s) put back.' }).waitFor();
    await page.locator(`.viewport[data-count="${TOTAL}"]`).waitFor();
    await grid().getByRole('img', { name: 'IMG_000011', exact: true }).waitFor();
  });
});
