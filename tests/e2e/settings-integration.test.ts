// Settings' "Find similar photos in the file manager's menu" switch, in headless Chromium: the built renderer with a
// desktop-like window.doppel whose calls are answered here, in Node, through an exposed function. The library calls
// go to a FakeLibrary; integrationStatus / installIntegration / removeIntegration to the real ones of
// src/core/integrate/integration.ts against a temporary HOME's XDG folders, so the page shows what really happened
// (and the files are really written and removed). Without a desktop API (the bridge page) the switch is absent;
// where the installer carries the entries (Windows, macOS) it is disabled with the installer's note.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  installIntegration,
  integrationStatus,
  removeIntegration,
  type IntegrationHost,
} from '../../src/core/integrate/integration.js';
import type { XdgDirs } from '../../src/core/integrate/linux.js';
import type { PhotoLayout, Settings } from '../../src/shared/api.js';
import type { IntegrationOutcome, IntegrationStatus } from '../../src/shared/ipc.js';
import { fileTree, tempDir } from '../helpers.js';
import { buildRenderer, launchChromium } from './bridge.js';
import { FakeLibrary, ORIGIN, openFakeApp, routeRenderer } from './fake-library.js';

const SWITCH = { name: /Find similar photos in the file manager/ };
const APP = '/opt/Doppel/doppel';

const SETTINGS: Settings = {
  nearThreshold: 0.95,
  similarThreshold: 0.8,
  keeperRules: [],
  formatPreference: [],
  preferredFolders: [],
  exclude: [],
  watch: false,
  findCroppedCopies: true,
  cropViewsAvailable: true,
  defaults: { nearThreshold: 0.95, similarThreshold: 0.8 },
  sources: { nearThreshold: 'model-card', similarThreshold: 'model-card' },
};

/** The fake library, with Settings answered too (what the Settings view asks first). */
class SettingsLibrary extends FakeLibrary {
  override answer(member: string, args: unknown[]): unknown {
    if (member === 'getSettings') {
      this.calls.push({ member, args });
      return SETTINGS;
    }
    return super.answer(member, args);
  }
}

/** The desktop app's integration calls, served by the real ones against `dirs`; records calls, can fail once. */
class FakeIntegration {
  readonly calls: string[] = [];
  failNext: string | null = null;
  readonly host: IntegrationHost;

  constructor(platform: NodeJS.Platform, dirs: XdgDirs) {
    this.host = {
      platform,
      dirs: () => dirs,
      target: () => ({ command: [APP, '--find-similar'], what: `the app at ${APP}` }),
      who: 'the app',
    };
  }

  answer(member: string): IntegrationStatus | IntegrationOutcome {
    this.calls.push(member);
    if (member !== 'integrationStatus' && this.failNext !== null) {
      const message = this.failNext;
      this.failNext = null;
      throw new Error(message);
    }
    if (member === 'integrationStatus') return integrationStatus(this.host);
    if (member === 'installIntegration') return installIntegration(this.host);
    if (member === 'removeIntegration') return removeIntegration(this.host);
    throw new Error(`${member} is not an integration call`);
  }
}

type Answer = { ok: true; value: unknown } | { ok: false; message: string };

/** Runs in the page before the app: window.doppel, every call answered by the exposed doppelCall. */
function desktopApi(): void {
  const call = (window as unknown as { doppelCall(member: string, args: unknown[]): Promise<Answer> }).doppelCall;
  const api = new Proxy({} as Record<string, unknown>, {
    get(_target, member) {
      if (typeof member !== 'string') return undefined;
      if (member === 'on' || member === 'onFindSimilar') return () => () => undefined;
      return async (...args: unknown[]) => {
        const answer = await call(member, args);
        if (!answer.ok) throw new Error(answer.message);
        // Byte arrays do not cross the exposed function: the layout's come as plain arrays.
        if (member === 'photoLayout') {
          const layout = answer.value as { ids: number[]; aspects: number[] };
          return { ...layout, ids: new Uint8Array(layout.ids), aspects: new Uint8Array(layout.aspects) };
        }
        return answer.value;
      };
    },
  });
  Object.defineProperty(window, 'doppel', { value: api });
}

let browser: Browser;
const homes: string[] = [];

beforeAll(async () => {
  await buildRenderer();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  for (const home of homes) fs.rmSync(home, { recursive: true, force: true });
});

/** A temporary HOME and its XDG data and config folders. */
function tempHome(): { home: string; dirs: XdgDirs } {
  const home = tempDir('doppel-integration-');
  homes.push(home);
  const dirs = { data: path.join(home, '.local', 'share'), config: path.join(home, '.config') };
  fs.mkdirSync(dirs.data, { recursive: true });
  fs.mkdirSync(dirs.config, { recursive: true });
  return { home, dirs };
}

/** The built renderer as the desktop app's window, on its Settings page. */
async function openDesktopSettings(integration: FakeIntegration): Promise<Page> {
  const library = new SettingsLibrary({ total: 3 });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (err) => console.error('page error:', err));
  await page.exposeFunction('doppelCall', (member: string, args: unknown[]): Answer => {
    try {
      if (member.endsWith('Integration') || member === 'integrationStatus')
        return { ok: true, value: integration.answer(member) };
      const value = library.answer(member, args);
      if (member !== 'photoLayout') return { ok: true, value };
      const layout = value as PhotoLayout;
      return { ok: true, value: { ...layout, ids: Array.from(layout.ids), aspects: Array.from(layout.aspects) } };
    } catch (err) {
      return { ok: false, message: (err as Error).message };
    }
  });
  await routeRenderer(page);
  await page.addInitScript(desktopApi);
  await page.goto(`${ORIGIN}/index.html`);
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await page.getByRole('group', { name: 'Indexing' }).waitFor();
  return page;
}

describe("Settings' file-manager switch", () => {
  it('installs and removes the entries for real, by mouse and by keyboard, and shows what is installed', async () => {
    const { home, dirs } = tempHome();
    const integration = new FakeIntegration('linux', dirs);
    const page = await openDesktopSettings(integration);
    const group = page.getByRole('group', { name: 'File manager' });
    const toggle = group.getByRole('switch', SWITCH);

    // Off, enabled, with what turning it on adds.
    await group.getByRole('switch', { ...SWITCH, checked: false }).waitFor();
    expect(await toggle.isEnabled()).toBe(true);
    const hint = await group.locator('.hint').first().innerText();
    expect(hint).toContain('Not installed');
    expect(hint).toContain('Turning it on adds "Find similar photos"');
    expect(hint).toMatch(/Nautilus, Nemo, Caja, Dolphin and Thunar/);
    expect(hint).toContain(APP);
    expect(fileTree(home).filter((f) => !f.split(' ')[0]!.endsWith('/'))).toEqual([]);

    // On (click): install once, then installed with the command and every entry.
    await toggle.click();
    await group.getByRole('switch', { ...SWITCH, checked: true }).waitFor();
    await group.getByText('Installed for you').waitFor();
    expect(integration.calls.filter((c) => c === 'installIntegration')).toHaveLength(1);
    expect(integration.calls).not.toContain('removeIntegration');
    expect(await group.locator('code').first().innerText()).toContain(`${APP} --find-similar`);
    const status = integrationStatus(integration.host);
    expect(status.installed).toBe(true);
    expect(status.entries.length).toBeGreaterThan(1);
    const entries = group.locator('.entries li');
    expect(await entries.count()).toBe(status.entries.length);
    for (const entry of status.entries) {
      expect(entry.path.startsWith(home)).toBe(true);
      expect(fs.existsSync(entry.path)).toBe(true);
      const shown = entries.filter({ hasText: entry.path });
      expect(await shown.innerText()).toContain(`${entry.for}: ${entry.path} (installed)`);
    }
    await group
      .getByRole('status')
      .filter({ hasText: /^Done: \d+ changes?\.$/ })
      .waitFor();
    expect(await toggle.isEnabled()).toBe(true);

    // Off by keyboard: Tab from the setting before it onto the switch, Space.
    await page.getByRole('checkbox', { name: 'Find cropped copies' }).focus();
    await page.keyboard.press('Tab');
    expect(await toggle.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press('Space');
    await group.getByRole('switch', { ...SWITCH, checked: false }).waitFor();
    await group.getByText('Not installed.').waitFor();
    expect(integration.calls.filter((c) => c === 'removeIntegration')).toHaveLength(1);
    for (const entry of status.entries) expect(fs.existsSync(entry.path)).toBe(false);
    expect(integrationStatus(integration.host).installed).toBe(false);
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.close();
  });

  it("shows an install error on Settings' error line and turns the switch back off", async () => {
    const { dirs } = tempHome();
    const integration = new FakeIntegration('linux', dirs);
    const page = await openDesktopSettings(integration);
    const group = page.getByRole('group', { name: 'File manager' });
    await group.getByRole('switch', { ...SWITCH, checked: false }).waitFor();
    integration.failNext = 'Cannot write ~/.local/share/applications: disk full';

    await group.getByRole('switch', SWITCH).click();
    const alert = page.getByRole('alert');
    await alert.filter({ hasText: 'disk full' }).waitFor();
    expect(await alert.innerText()).toBe('Cannot write ~/.local/share/applications: disk full');
    // Back off, enabled again, and nothing written.
    const off = group.getByRole('switch', { ...SWITCH, checked: false });
    await off.waitFor();
    await page.waitForFunction(() => {
      const box = document.querySelector<HTMLInputElement>('input[role="switch"]');
      return box !== null && !box.disabled && !box.checked;
    });
    expect(integration.calls.filter((c) => c === 'installIntegration')).toHaveLength(1);
    expect(integrationStatus(integration.host).installed).toBe(false);
    await group.getByText('Not installed.').waitFor();

    // The next try works, and clears the error line.
    await off.click();
    await group.getByRole('switch', { ...SWITCH, checked: true }).waitFor();
    expect(await alert.count()).toBe(0);
    expect(integrationStatus(integration.host).installed).toBe(true);
    await page.close();
  });

  for (const platform of ['win32', 'darwin'] as const) {
    it(`is disabled with the installer's note on ${platform}`, async () => {
      const { home, dirs } = tempHome();
      const integration = new FakeIntegration(platform, dirs);
      const page = await openDesktopSettings(integration);
      const group = page.getByRole('group', { name: 'File manager' });
      const toggle = group.getByRole('switch', { ...SWITCH, checked: false });
      await toggle.waitFor();
      expect(await toggle.isDisabled()).toBe(true);
      const note = integrationStatus(integration.host).note!;
      expect(note).toBeTruthy();
      const shown = await group.locator('.hint').innerText();
      expect(shown.toLowerCase()).toBe(`${note}.`.toLowerCase());
      expect(shown.charAt(0)).toBe(shown.charAt(0).toUpperCase());
      // Nothing was asked but the status, and nothing written.
      expect(integration.calls.every((c) => c === 'integrationStatus')).toBe(true);
      expect(fileTree(home).filter((f) => !f.split(' ')[0]!.endsWith('/'))).toEqual([]);
      await page.close();
    });
  }

  it('is absent from the browser page (no desktop API)', async () => {
    const library = new SettingsLibrary({ total: 3 });
    const page = await openFakeApp(browser, library);
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await page.getByRole('group', { name: 'Indexing' }).waitFor();
    expect(await page.getByRole('switch').count()).toBe(0);
    expect(await page.getByRole('group', { name: 'File manager' }).count()).toBe(0);
    expect(await page.getByText('Find similar photos in the file manager').count()).toBe(0);
    expect(library.calls.map((c) => c.member)).not.toContain('integrationStatus');
    await page.close();
  });
});
