// `npm run screenshots`: regenerates docs/screenshots/*.png from the real renderer, served by the real
// `doppel serve` on a temporary library of sample photos (../shared/data/photos) with planted copies, in
// headless Chromium. Nothing of the user's own library is read or changed.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { buildRenderer, launchChromium, serve } from '../tests/e2e/bridge.js';
import { copyInto, photos, REPO, tempDir } from '../tests/helpers.js';

const OUT = path.join(REPO, 'docs', 'screenshots');

async function main(): Promise<void> {
  const dir = tempDir('doppel-screenshots-');
  const library = path.join(dir, 'Pictures');
  const home = path.join(dir, 'home');
  fs.mkdirSync(home);
  copyInto([...photos('CSet14', 14), ...photos('CSun_Hays80', 40)], path.join(library, 'Holidays'));
  copyInto(photos('CBSD68', 24), path.join(library, 'Nature'));
  // Planted duplicates: a half-size re-compressed copy and an exact copy.
  const original = path.join(library, 'Holidays', 'baboon.png');
  const { width } = await sharp(original).metadata();
  fs.mkdirSync(path.join(library, 'Exports'), { recursive: true });
  await sharp(original)
    .resize({ width: Math.round(width! / 2) })
    .jpeg({ quality: 70 })
    .toFile(path.join(library, 'Exports', 'baboon-small.jpg'));
  fs.copyFileSync(path.join(library, 'Holidays', 'lenna.png'), path.join(library, 'Exports', 'lenna-copy.png'));

  await buildRenderer();
  const served = await serve(path.join(dir, 'db', 'library.sqlite'), home);
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  page.on('crash', () => console.error('screenshots: the page crashed'));
  page.on('pageerror', (err) => console.error('screenshots: page error:', err));
  try {
    await page.goto(served.url);
    await page.getByLabel('Folder path').fill(library);
    await page.getByRole('button', { name: 'Add folder' }).click();
    const total = 14 + 40 + 24 + 2;
    await page
      .getByTestId('photo-count')
      .filter({ hasText: `${total} photos` })
      .waitFor({ timeout: Number(process.env.DOPPEL_SCREENSHOTS_TIMEOUT ?? 600_000) });
    await page.getByRole('group', { name: 'Indexing' }).waitFor({ state: 'detached', timeout: 60_000 });
    fs.mkdirSync(OUT, { recursive: true });
    const shot = async (name: string): Promise<void> => {
      await page.waitForLoadState('networkidle');
      // Images in view are decoded before the shot (lazy ones below the fold never load, hence the time limit).
      // (A string: the function must reach the page as written, without the helpers tsx adds.)
      await page.evaluate(`Promise.all([...document.images].map((img) =>
        Promise.race([img.decode().catch(() => undefined), new Promise((r) => setTimeout(r, 3000))])))`);
      await page.screenshot({ path: path.join(OUT, `${name}.png`) });
      console.log(`screenshots: docs/screenshots/${name}.png`);
    };

    const grid = page.getByRole('list', { name: 'Photos' });
    await grid.getByRole('img').first().waitFor();
    await shot('library');

    await page.getByLabel('Sort by').selectOption('name');
    await page.locator('.viewport[data-sort="name"]').waitFor();
    // The grid holds only the rows in view (and a margin): scroll down until baboon's row is among them.
    const baboon = grid.getByRole('img', { name: 'baboon', exact: true });
    const settled = page.locator('.viewport[data-pending="0"]');
    for (let top = 600; (await baboon.count()) === 0 && top < 20_000; top += 600) {
      await grid.evaluate((list, y) => (list.parentElement!.scrollTop = y), top);
      await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
      await settled.waitFor();
    }
    await baboon.scrollIntoViewIfNeeded();
    await baboon.click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Find similar' }).click();
    await page.getByRole('img', { name: 'Reconstruction of baboon.png' }).waitFor();
    await page.getByRole('region', { name: 'Similar photos' }).getByRole('listitem').first().waitFor();
    await shot('similar');

    await page.getByRole('button', { name: 'Reconstruction view' }).click();
    await page.getByRole('img', { name: 'Code channel 8 of baboon.png' }).waitFor();
    await shot('reconstruction');

    await page.getByRole('button', { name: 'Duplicates' }).click();
    await page.getByRole('region', { name: /group/ }).first().waitFor();
    await shot('duplicates');

    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Save' }).waitFor();
    await shot('settings');
  } catch (err) {
    const failure = path.join(dir, '..', 'doppel-screenshots-failure.png');
    await page.screenshot({ path: failure }).catch(() => undefined);
    console.error(`screenshots: failed; the page as it was: ${failure}`);
    console.error(`screenshots: doppel serve said: ${served.stderr()}`);
    throw err;
  } finally {
    await browser.close();
    await served.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
