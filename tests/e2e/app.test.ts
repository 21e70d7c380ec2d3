/// <reference lib="dom" />
// The renderer in real headless Chromium against the real `doppel serve` on a temporary library of real photos
// and a planted copy (half size, re-compressed): add the folder, find similar, reconstruction, duplicates, trash
// and undo.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes as bytesOf } from '../../src/renderer/lib/format.js';
import { cosineToPercent, formatSimilarity } from '../../src/shared/similarity.js';
import { copyInto, photos, REPO, tempDir } from '../helpers.js';
import { buildRenderer, launchChromium, serve, type Served } from './bridge.js';

const ORIGINAL = 'baboon.png';
const PLANTED = 'baboon-copy.jpg';

let dir: string;
let library: string;
let home: string;
let planted: Buffer;
let served: Served;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  dir = tempDir('doppel-e2e-');
  library = path.join(dir, 'photos');
  home = path.join(dir, 'home');
  fs.mkdirSync(home);
  copyInto([...photos('CSet14', 14), ...photos('CSun_Hays80', 10)], library);
  const original = path.join(library, ORIGINAL);
  const { width } = await sharp(original).metadata();
  planted = await sharp(original)
    .resize({ width: Math.round(width! / 2) })
    .jpeg({ quality: 70 })
    .toBuffer();
  fs.writeFileSync(path.join(library, PLANTED), planted);

  await buildRenderer();
  served = await serve(path.join(dir, 'db', 'library.sqlite'), home);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('pageerror', (err) => console.error('page error:', err));
  await page.goto(served.url);
});

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Mean and spread of an <img>'s pixels, drawn on a canvas in the page. */
async function pixelStats(selector: string): Promise<{ width: number; mean: number; std: number }> {
  return page.$eval(selector, async (el) => {
    const img = el as HTMLImageElement;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0;
    let sq = 0;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      for (let c = 0; c < 3; c++) {
        sum += data[i + c]!;
        sq += data[i + c]! ** 2;
        n++;
      }
    }
    const mean = sum / n;
    return { width: img.naturalWidth, mean, std: Math.sqrt(sq / n - mean * mean) };
  });
}

describe('the app in Chromium through doppel serve', () => {
  it('tells a new user to add a folder, then indexes the folder added', async () => {
    await page.getByRole('heading', { name: 'Welcome to Doppel' }).waitFor();
    await page.getByLabel('Folder path').fill(library);
    await page.getByRole('button', { name: 'Add folder' }).click();
    await page.getByTestId('photo-count').filter({ hasText: '25 photos' }).waitFor({ timeout: 240_000 });
    await page.getByRole('group', { name: 'Indexing' }).waitFor({ state: 'detached', timeout: 60_000 });
    const grid = page.getByRole('list', { name: 'Photos' });
    await grid.getByRole('img', { name: 'baboon', exact: true }).waitFor();
    await grid.getByRole('img', { name: 'baboon-copy', exact: true }).waitFor();
    expect(await grid.getByRole('img').count()).toBe(25);
    const thumb = await pixelStats('img[alt="baboon"]');
    expect(thumb.width).toBeGreaterThan(0);
  }, 300_000);

  it('right-click -> Find similar lists the planted copy first, with the reconstruction', async () => {
    const grid = page.getByRole('list', { name: 'Photos' });
    await grid.getByRole('img', { name: 'baboon', exact: true }).click({ button: 'right' });
    const menu = page.getByRole('menu');
    await menu.waitFor();
    // In a browser the desktop-only entries are there, disabled, with the reason.
    for (const name of ['Show in folder', 'Open']) {
      expect(await menu.getByRole('menuitem', { name }).getAttribute('aria-disabled')).toBe('true');
    }
    expect(await menu.getByRole('menuitem', { name: 'Move to trash' }).getAttribute('aria-disabled')).toBeNull();
    await menu.getByRole('menuitem', { name: 'Find similar' }).click();

    const results = page.getByRole('region', { name: 'Similar photos' });
    const first = results.getByRole('listitem').first();
    await first.waitFor();
    expect(await first.getByRole('img').getAttribute('alt')).toBe('baboon-copy');
    expect(await results.getByRole('img', { name: 'baboon', exact: true }).count()).toBe(0);
    expect(await results.getByRole('listitem').count()).toBe(24);
    expect(await first.textContent()).toMatch(/\d+\.\d\d%/);
    // The copy is labelled a near duplicate; the least similar photo of the library is not.
    expect(await first.textContent()).toContain('Near duplicate');
    expect(await results.getByRole('listitem').last().textContent()).not.toMatch(/Near duplicate|Look-alike/);

    const reconstruction = page.getByRole('img', { name: `Reconstruction of ${ORIGINAL}` });
    await reconstruction.waitFor();
    const stats = await pixelStats(`img[alt="Reconstruction of ${ORIGINAL}"]`);
    expect(stats.width).toBeGreaterThan(0);
    // Not blank: a flat image (all black, all white, one grey) has no spread.
    expect(stats.std).toBeGreaterThan(10);
    expect(stats.mean).toBeGreaterThan(10);
    expect(stats.mean).toBeLessThan(245);
  }, 120_000);

  it('the reconstruction view shows the original, the reconstruction and the 8 code channels', async () => {
    await page.getByRole('button', { name: 'Reconstruction view' }).click();
    await page.getByRole('heading', { name: `Reconstruction of ${ORIGINAL}` }).waitFor();
    await page.getByRole('img', { name: 'Code channel 8 of baboon.png' }).waitFor();
    expect(await page.getByRole('img', { name: /^Code channel \d of baboon\.png$/ }).count()).toBe(8);
    // The default model's decoder also reads a detail code, and the view says that it is not stored.
    await page.getByText('also reads 16 channels of detail').waitFor();
    const original = await pixelStats(`img[alt="Original ${ORIGINAL}"]`);
    expect(original.width).toBe((await sharp(path.join(library, ORIGINAL)).metadata()).width);
    await page.keyboard.press('Escape');
    await page.getByRole('region', { name: 'Similar photos' }).waitFor();
  }, 60_000);

  it('keyboard: arrows move through the grid, Shift+F10 opens the menu, Escape closes it', async () => {
    await page.keyboard.press('Escape'); // back to the library
    const grid = page.getByRole('list', { name: 'Photos' });
    await grid.waitFor();
    const cells = grid.getByRole('button');
    await cells.first().focus();
    await page.keyboard.press('ArrowRight');
    // Focus moves after the grid has rendered the next cell: wait for it rather than read it at once.
    const second = await cells.nth(1).getByRole('img').getAttribute('alt');
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.querySelector('img')?.alt), { timeout: 5000 })
      .toBe(second);
    await page.keyboard.press('Shift+F10');
    await page.getByRole('menu').waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Find similar');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Move to trash');
    await page.keyboard.press('Escape');
    await page.getByRole('menu').waitFor({ state: 'detached' });
    expect(fs.readdirSync(library)).toHaveLength(25);
  }, 60_000);

  it('dropping an image from outside onto the window finds the photos similar to it', async () => {
    const bytes = [...planted];
    await page.evaluate((data) => {
      const file = new File([new Uint8Array(data)], 'dropped.jpg', { type: 'image/jpeg' });
      const transfer = new DataTransfer();
      transfer.items.add(file);
      window.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, cancelable: true }));
      window.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, cancelable: true }));
    }, bytes);
    await page.getByRole('heading', { name: 'Photos similar to dropped.jpg' }).waitFor();
    const results = page.getByRole('region', { name: 'Similar photos' });
    await results.getByRole('listitem').first().waitFor();
    const names = await results
      .getByRole('img')
      .evaluateAll((imgs) => imgs.slice(0, 2).map((i) => i.getAttribute('alt')));
    // The dropped bytes are the planted copy's: itself first, then the photo it was made from.
    expect(names).toEqual(['baboon-copy', 'baboon']);
    await page.keyboard.press('Escape');
  }, 60_000);

  it('Duplicates shows the planted pair, the original marked as the keeper', async () => {
    await page.getByRole('button', { name: 'Duplicates' }).click();
    const group = page
      .getByRole('region', { name: /group/ })
      .filter({ has: page.getByRole('img', { name: 'baboon-copy' }) });
    await group.waitFor();
    expect(await group.getByRole('img', { name: 'baboon', exact: true }).count()).toBe(1);
    const keeper = group.getByRole('listitem').filter({ hasText: 'Keeper' });
    expect(await keeper.getByRole('img').getAttribute('alt')).toBe('baboon');
    // The copy says what the verifier saw against the keeper: a JPEG re-save of the PNG at half the size.
    const copy = group.getByRole('listitem').filter({ has: page.getByRole('img', { name: 'baboon-copy' }) });
    const edits = await copy.locator('.edits').textContent();
    expect(edits).toContain('saved as JPEG');
    expect(edits).toMatch(/resized to \d+×\d+/);
    // What moving the suggestion would free, for the view and for the group: the copy's size.
    const copySize = fs.statSync(path.join(library, PLANTED)).size;
    const shown = (await page.locator('.summary').textContent())!.replace(/\s+/g, ' ');
    expect(shown).toMatch(/^\d+ group\(s\); [\d.]+ [KMG]?B can be freed by moving the photos not kept to the trash/);
    expect(await group.locator('.frees').textContent()).toBe(`Frees ${Math.round(copySize / 1024)} KB`);
    // The groups can be sorted; every order lists the same groups.
    const sort = page.getByRole('combobox', { name: 'Sort by' });
    const listed = async () => await page.getByRole('region', { name: /group/ }).count();
    const before = await listed();
    for (const order of ['size', 'folder', 'found', 'space']) {
      await sort.selectOption(order);
      expect(await listed()).toBe(before);
      await group.waitFor();
    }
  }, 60_000);

  it('keeps the selection through background scans, trashes the selected copy, and undo puts it back', async () => {
    // Take every photo out of the selection (the planted copy was suggested).
    const boxes = page.getByRole('checkbox', { name: /^Select / });
    const ticked = async () =>
      (await Promise.all((await boxes.all()).map((b) => b.isChecked()))).filter(Boolean).length;
    for (const box of await boxes.all()) await box.setChecked(false);
    expect(await ticked()).toBe(0);
    const bridgeCall = (member: string, args: unknown[] = []) =>
      fetch(new URL(`api/${member}`, served.url.replace(/\/?$/, '/')), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(args),
      });
    const bridge = (member: string) => bridgeCall(member);
    // Only the scans this test starts: watching (on by default in `doppel serve`) would scan by itself whenever
    // its file events come. It is turned off, and a first scan takes in whatever the watcher had not yet.
    const duplicatesAnswer = () =>
      page.waitForResponse((r) => r.url().endsWith('/api/findDuplicates'), { timeout: 30_000 });
    const settledView = duplicatesAnswer().catch(() => undefined);
    await bridgeCall('updateSettings', [{ watch: false }]);
    const settle = (await (await bridge('indexAll')).json()) as {
      value: { added: number; updated: number; removed: number };
    };
    if (settle.value.added + settle.value.updated + settle.value.removed > 0) await settledView;
    // A scan that finds nothing new does not make the view scan for duplicates again.
    let rescans = 0;
    const onRequest = (r: { url(): string }) => void (r.url().endsWith('/api/findDuplicates') && rescans++);
    page.on('request', onRequest);
    const seen = Number(await page.locator('.app').getAttribute('data-changes-seen'));
    const idle = await bridge('indexAll');
    expect((await idle.json()) as unknown).toMatchObject({ ok: true, value: { added: 0, updated: 0, removed: 0 } });
    // The page has handled the run's libraryChanged event (its progress events come before it) ...
    await page.waitForFunction(
      (before) => Number(document.querySelector('.app')?.getAttribute('data-changes-seen')) > before,
      seen,
    );
    page.off('request', onRequest);
    // ... and neither asked for the groups again nor scheduled a refresh that would.
    expect(rescans).toBe(0);
    expect(await page.locator('.app').getAttribute('data-refresh-pending')).toBe('false');
    // A photo arrives and a scan in the background (started elsewhere, here through the bridge) adds it; the
    // view refreshes its groups: the user's choice must survive that, not fall back to the suggestion.
    const [extra] = photos('CSun_Hays80', 11).slice(10) as [string];
    fs.copyFileSync(extra, path.join(library, 'arrived.jpg'));
    const refreshed = page.waitForResponse((r) => r.url().endsWith('/api/findDuplicates'));
    const scan = await bridge('indexAll');
    expect((await scan.json()) as unknown).toMatchObject({ ok: true, value: { added: 1 } });
    await refreshed;
    await page.locator('.dupes[aria-busy="false"]').waitFor(); // the answer applied
    expect(await ticked()).toBe(0);
    // "Scan again" searches the whole library (not the groups an unchanged library's scan reads back); the
    // user's choice survives it too.
    const asking = page.waitForRequest((r) => r.url().endsWith('/api/findDuplicates'));
    await page.getByRole('button', { name: 'Scan again' }).click();
    expect((JSON.parse((await asking).postData() ?? '[]') as { rescan?: boolean }[])[0]?.rescan).toBe(true);
    await page.getByRole('button', { name: 'Scan again', exact: true }).waitFor(); // enabled once answered
    expect(await ticked()).toBe(0);
    // Every copy selected (the original and the planted copy): the app asks first; declining moves nothing.
    await page.getByRole('checkbox', { name: `Select ${ORIGINAL}` }).setChecked(true);
    await page.getByRole('checkbox', { name: `Select ${PLANTED}` }).setChecked(true);
    const asked = new Promise<string>((resolve, reject) => {
      const none = setTimeout(() => reject(new Error('no confirmation was asked')), 10_000);
      page.once('dialog', (d) => {
        clearTimeout(none);
        resolve(d.message());
        void d.dismiss();
      });
    });
    await page.getByRole('button', { name: 'Move to trash' }).click();
    expect(await asked).toContain('every copy of 1 photo(s): baboon.png');
    expect(await asked).toMatch(/Move 2 photo\(s\), [\d.]+ [KM]B, to the trash\?/);
    await page.getByRole('status').filter({ hasText: 'Nothing moved' }).waitFor();
    expect(fs.existsSync(path.join(library, ORIGINAL))).toBe(true);
    expect(fs.existsSync(path.join(library, PLANTED))).toBe(true);
    // Select exactly the planted copy.
    await page.getByRole('checkbox', { name: `Select ${ORIGINAL}` }).setChecked(false);
    expect(await ticked()).toBe(1);
    // Always asked first, with the count and the space it frees; accepting moves it.
    const confirmed = new Promise<string>((resolve) =>
      page.once('dialog', (d) => {
        resolve(d.message());
        void d.accept();
      }),
    );
    await page.getByRole('button', { name: 'Move to trash' }).click();
    expect(await confirmed).toBe(
      `Move 1 photo(s), ${Math.round(planted.length / 1024)} KB, to the trash? Undo puts them back.`,
    );
    await page.getByRole('status').filter({ hasText: '1 photo(s) moved to the trash' }).waitFor();
    const file = path.join(library, PLANTED);
    expect(fs.existsSync(file)).toBe(false);
    // In the (temporary) freedesktop trash, under a name of the trash's choosing.
    const trashFiles = path.join(home, '.local/share/Trash/files');
    const inTrash = fs.readdirSync(trashFiles);
    expect(inTrash).toHaveLength(1);
    const trashed = path.join(trashFiles, inTrash[0]!);
    expect(fs.readFileSync(trashed).equals(planted)).toBe(true);
    await page.getByRole('img', { name: 'baboon-copy' }).waitFor({ state: 'detached' });

    await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByRole('status').filter({ hasText: '1 photo(s) put back' }).waitFor();
    expect(fs.readFileSync(file).equals(planted)).toBe(true);
    expect(fs.existsSync(trashed)).toBe(false);
    await page
      .getByRole('region', { name: /group/ })
      .filter({ has: page.getByRole('img', { name: 'baboon-copy' }) })
      .waitFor();
  }, 120_000);

  /** A call to the served API, as the renderer makes it. */
  const call = async (member: string, args: unknown[] = []) => {
    const res = await fetch(new URL(`api/${member}`, served.url.replace(/\/?$/, '/')), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(args),
    });
    return ((await res.json()) as { value: unknown }).value;
  };

  it("Settings -> Find cropped copies (on by default): a copy cut down to a corner is in its original's group, by its views", async () => {
    // The top-left three quarters of a library photo, added by a scan.
    const source = path.join(library, 'monarch.png');
    const { width, height } = await sharp(source).metadata();
    const extract = { left: 0, top: 0, width: Math.round(width! * 0.75), height: Math.round(height! * 0.75) };
    await sharp(source).extract(extract).jpeg({ quality: 90 }).toFile(path.join(library, 'monarch-corner.jpg'));
    expect(await call('indexAll')).toMatchObject({ added: 1 });
    type Groups = { members: { path: string; score: number; edits: string[] }[] }[];
    /** The corner copy in the original's group: what it says, and the pair's score (one of them is the reference,
     * at 1); undefined when they are not grouped. */
    const corner = async () => {
      const members = ((await call('findDuplicates', [{}])) as Groups)
        .map((g) => g.members)
        .find((ms) => ms.some((m) => m.path.endsWith(`${path.sep}monarch.png`)));
      const copy = members?.find((m) => m.path.endsWith('monarch-corner.jpg'));
      const original = members?.find((m) => m.path.endsWith(`${path.sep}monarch.png`));
      return copy && original ? { edits: copy.edits, score: Math.min(copy.score, original.score) } : undefined;
    };
    const setting = async () => ((await call('getSettings')) as { findCroppedCopies: boolean }).findCroppedCopies;
    const withViews = (await corner())!;
    expect(withViews.edits.join(', ')).toMatch(/cropped to 7\d%/);

    await page.getByRole('button', { name: 'Settings' }).click();
    // The card's calibrated thresholds are shown on the one scale: a percentage to 2 decimals.
    const near = (await call('getSettings')) as { nearThreshold: number; defaults: { nearThreshold: number } };
    expect(await page.getByRole('spinbutton', { name: 'Near-duplicate threshold' }).inputValue()).toBe(
      String(cosineToPercent(near.nearThreshold)),
    );
    // The default beside it, as the cards write a similarity; and the CLI's `config list` on this library writes
    // the threshold exactly as the field shows it.
    await page.getByText(`Default ${formatSimilarity(near.defaults.nearThreshold)};`).waitFor();
    const cli = spawnSync(
      process.execPath,
      [path.join(REPO, 'bin', 'doppel.js'), 'config', 'list', '--db', path.join(dir, 'db', 'library.sqlite')],
      { encoding: 'utf8', env: { ...process.env, HOME: home } },
    );
    const shown = formatSimilarity(near.nearThreshold);
    expect(Number(shown.slice(0, -1))).toBe(cosineToPercent(near.nearThreshold)); // the field's value
    expect(cli.stdout.split('\n')).toContain(`near-threshold     ${shown}`);
    const box = page.getByRole('checkbox', { name: 'Find cropped copies' });
    expect(await box.isChecked()).toBe(true);
    await box.setChecked(false);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(setting).toBe(false);
    // Without views the copy scores lower (its own vector against the original's), yet it is the original's
    // nearest photo, and the verifier still finds the crop.
    const withoutViews = (await corner())!;
    expect(withoutViews.score).toBeLessThan(withViews.score);
    expect(withoutViews.edits.join(', ')).toMatch(/cropped to 7\d%/);
    // On again: the app makes any missing corner views (from the thumbnails) in the background.
    await box.setChecked(true);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Making the corner views' }).waitFor();
    await expect.poll(setting).toBe(true);
    // Saving left the thresholds alone: still the model card's, not pinned as the user's own.
    expect((await call('getSettings')) as { sources: unknown }).toMatchObject({
      sources: { nearThreshold: 'model-card', similarThreshold: 'model-card' },
    });
    await page.getByRole('button', { name: 'Duplicates' }).click();
    const group = page
      .getByRole('region', { name: /group/ })
      .filter({ has: page.getByRole('img', { name: 'monarch-corner', exact: true }) });
    await group.waitFor({ timeout: 60_000 });
    expect(await group.getByRole('img', { name: 'monarch', exact: true }).count()).toBe(1);
  }, 120_000);

  it('Duplicates never selects a look-alike for the trash: only exact and near copies are suggested', async () => {
    // A low look-alike threshold makes look-alike groups of these distinct photos.
    await call('updateSettings', [{ similarThreshold: 0.3 }]);
    try {
      await page.getByRole('button', { name: 'Duplicates' }).click();
      await page.getByRole('checkbox', { name: 'Look-alikes' }).setChecked(true);
      const lookAlikes = page.getByRole('region', { name: /^Look-alikes group/ });
      await lookAlikes.first().waitFor();
      const boxes = lookAlikes.getByRole('checkbox', { name: /^Select / });
      expect(await boxes.count()).toBeGreaterThan(1);
      for (const box of await boxes.all()) expect(await box.isChecked()).toBe(false);
      await page.getByRole('checkbox', { name: 'Look-alikes' }).setChecked(false);
    } finally {
      await call('updateSettings', [{ similarThreshold: null }]);
    }
  }, 60_000);

  it('Settings: a threshold typed in the form is saved as the user\'s, and "Use the defaults" gives the card\'s back', async () => {
    type Thresholds = { nearThreshold: number; similarThreshold: number; sources: Record<string, string> };
    const settings = async () => (await call('getSettings')) as Thresholds;
    const card = await settings();
    await page.getByRole('button', { name: 'Settings' }).click();
    const near = page.getByRole('spinbutton', { name: 'Near-duplicate threshold' });
    await near.fill('95.12');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => (await settings()).nearThreshold).toBe(0.9512);
    // Only the field that changed: the other threshold is still the card's, with all its digits.
    expect(await settings()).toMatchObject({
      similarThreshold: card.similarThreshold,
      sources: { nearThreshold: 'setting', similarThreshold: 'model-card' },
    });
    await page.getByRole('button', { name: 'Use the defaults' }).click();
    await expect.poll(async () => (await settings()).sources.nearThreshold).toBe('model-card');
    expect((await settings()).nearThreshold).toBe(card.nearThreshold);
    await expect.poll(() => near.inputValue()).toBe(String(cosineToPercent(card.nearThreshold)));
  }, 60_000);

  it('Library: two photos selected (click, Ctrl-click) go to the trash together after asking, and Undo brings them back', async () => {
    await page.getByRole('button', { name: 'Library' }).click();
    const grid = page.getByRole('list', { name: 'Photos' });
    const pick = ['monarch.png', 'lenna.png'];
    await grid.getByRole('img', { name: 'monarch', exact: true }).click();
    await grid.getByRole('img', { name: 'lenna', exact: true }).click({ modifiers: ['Control'] });
    await page.getByText('2 selected').waitFor();
    await grid.getByRole('img', { name: 'lenna', exact: true }).click({ button: 'right' });
    const size = pick.reduce((n, f) => n + fs.statSync(path.join(library, f)).size, 0);
    const asked = new Promise<string>((resolve) =>
      page.once('dialog', (d) => {
        resolve(d.message());
        void d.accept();
      }),
    );
    await page.getByRole('menu').getByRole('menuitem', { name: 'Move 2 to trash' }).click();
    expect(await asked).toBe(`Move 2 photo(s), ${bytesOf(size)}, to the trash? Undo puts them back.`);
    await page.getByRole('status').filter({ hasText: '2 photo(s) moved to the trash.' }).waitFor();
    for (const f of pick) expect(fs.existsSync(path.join(library, f))).toBe(false);
    await grid.getByRole('img', { name: 'monarch', exact: true }).waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByRole('status').filter({ hasText: '2 photo(s) put back.' }).waitFor();
    for (const f of pick) expect(fs.existsSync(path.join(library, f))).toBe(true);
    await grid.getByRole('img', { name: 'monarch', exact: true }).waitFor();
  }, 60_000);
});
