// src/main/index.ts against a fake `electron` module: one hardened window, the single-instance lock, the doppel://
// protocol, a handler for every DoppelApi member and desktop action, the menu, and engine events forwarded to the
// window. The engine behind it is the real DoppelService on a temporary library.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { API_MEMBERS } from '../src/shared/api.js';
import { channelFor, EVENT_CHANNEL, PICK_FOLDER_CHANNEL, SHELL_CHANNELS } from '../src/shared/ipc.js';
import { REPO, tempDir } from './helpers.js';

type Fn = (...args: unknown[]) => unknown;

const fake = vi.hoisted(() => {
  const state = {
    lock: true,
    userData: '',
    appHandlers: new Map<string, Fn>(),
    ipcHandlers: new Map<string, Fn>(),
    windows: [] as { options: Record<string, unknown>; loaded: string[]; sent: unknown[][] }[],
    privileged: [] as unknown[],
    protocolHandlers: new Map<string, Fn>(),
    menu: null as unknown,
    quit: 0,
    exit: [] as number[],
    /** Calls of app.whenReady(): start-up (window, handlers) begins with one. */
    readyCalls: 0,
    /** Calls of app.on(). */
    onCalls: 0,
  };
  return state;
});

vi.mock('electron', () => {
  class BrowserWindow {
    static getAllWindows = () => fake.windows;
    readonly record: (typeof fake.windows)[number];
    readonly webContents: { send: Fn; isDestroyed: () => boolean };
    constructor(options: Record<string, unknown>) {
      this.record = { options, loaded: [], sent: [] };
      fake.windows.push(this.record);
      this.webContents = { send: (...args: unknown[]) => this.record.sent.push(args), isDestroyed: () => false };
    }
    once(): void {}
    on(): void {}
    loadFile(file: string): Promise<void> {
      this.record.loaded.push(file);
      return Promise.resolve();
    }
    loadURL(url: string): Promise<void> {
      this.record.loaded.push(url);
      return Promise.resolve();
    }
  }
  return {
    app: {
      isPackaged: false,
      setPath: (_name: string, dir: string) => (fake.userData = dir),
      getPath: () => fake.userData,
      enableSandbox: () => {},
      requestSingleInstanceLock: () => fake.lock,
      on: (event: string, handler: Fn) => {
        fake.onCalls++;
        fake.appHandlers.set(event, handler);
      },
      whenReady: () => {
        fake.readyCalls++;
        return Promise.resolve();
      },
      quit: () => fake.quit++,
      exit: (code: number) => fake.exit.push(code),
    },
    BrowserWindow,
    dialog: { showErrorBox: () => {}, showOpenDialog: async () => ({ canceled: true, filePaths: [] }) },
    ipcMain: { handle: (channel: string, handler: Fn) => fake.ipcHandlers.set(channel, handler) },
    Menu: {
      buildFromTemplate: (template: unknown) => ({ template }),
      setApplicationMenu: (m: unknown) => (fake.menu = m),
    },
    protocol: { registerSchemesAsPrivileged: (schemes: unknown[]) => fake.privileged.push(...schemes) },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: () => {} },
        setPermissionRequestHandler: () => {},
        setPermissionCheckHandler: () => {},
        protocol: { handle: (scheme: string, handler: Fn) => fake.protocolHandlers.set(scheme, handler) },
      },
    },
    shell: { trashItem: async () => {}, showItemInFolder: () => {}, openPath: async () => '' },
  };
});

const home = tempDir('doppel-main-app-');
process.env.DOPPEL_HOME = home;
process.env.DOPPEL_MODELS = path.join(REPO, 'models');

afterAll(async () => {
  // Quitting closes the library.
  const willQuit = fake.appHandlers.get('will-quit');
  if (willQuit) {
    const before = fake.quit;
    willQuit({ preventDefault: () => {} });
    await vi.waitFor(() => expect(fake.quit).toBeGreaterThan(before));
  }
  fs.rmSync(home, { recursive: true, force: true });
});

describe('main process', () => {
  it('takes the single-instance lock, opens one hardened window and registers every handler', async () => {
    await import('../src/main/index.js');
    await vi.waitFor(() => expect(fake.windows).toHaveLength(1), { timeout: 60_000, interval: 50 });
    expect(fake.exit).toEqual([]);
    expect(fake.appHandlers.has('second-instance')).toBe(true);
    expect(fake.userData).toBe(home);

    const prefs = fake.windows[0]!.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false });

    const expected = [
      ...API_MEMBERS.map((m) => channelFor(m)),
      SHELL_CHANNELS.showInFolder,
      SHELL_CHANNELS.open,
      PICK_FOLDER_CHANNEL,
    ];
    expect([...fake.ipcHandlers.keys()].sort()).toEqual(expected.sort());

    expect(fake.privileged).toEqual([
      expect.objectContaining({
        scheme: 'doppel',
        privileges: expect.objectContaining({ standard: true, secure: true }),
      }),
    ]);
    expect([...fake.protocolHandlers.keys()]).toEqual(['doppel']);
    const labels = (fake.menu as { template: { label?: string; role?: string }[] }).template.map(
      (m) => m.label ?? m.role,
    );
    expect(labels).toEqual(expect.arrayContaining(['File', 'editMenu', 'View', 'windowMenu', 'help']));
  }, 90_000);

  it('answers the window, refuses others, and forwards engine events to the window', async () => {
    const trusted = { senderFrame: { url: pathToFileURL(path.join(REPO, 'src/renderer/index.html')).href } };
    const info = (await fake.ipcHandlers.get(channelFor('info'))!(trusted)) as { ok: boolean; value: unknown };
    expect(info).toMatchObject({ ok: true, value: { photos: 0, dbPath: path.join(home, 'library.sqlite') } });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const foreign = await fake.ipcHandlers.get(channelFor('info'))!({ senderFrame: { url: 'https://evil.example/' } });
    expect(foreign).toMatchObject({ ok: false });
    warn.mockRestore();

    await fake.ipcHandlers.get(channelFor('pauseIndexing'))!(trusted);
    expect(fake.windows[0]!.sent).toContainEqual([
      EVENT_CHANNEL,
      'indexStatus',
      expect.objectContaining({ state: 'idle' }),
    ]);

    const media = fake.protocolHandlers.get('doppel')!;
    const res = (await media({ url: 'doppel://original/1' })) as Response;
    expect(res.status).toBe(404);
  });

  it('a second launch quits at once, leaving the first one the only window', async () => {
    vi.resetModules();
    fake.lock = false;
    const quits = fake.quit;
    const handlers = fake.ipcHandlers.size;
    const readyCalls = fake.readyCalls;
    const onCalls = fake.onCalls;
    await import('../src/main/index.js');
    expect(fake.quit).toBe(quits + 1);
    // Start-up never began (it waits for app.whenReady() first, and registers its app handlers before): no window
    // or handler can come later.
    expect(fake.readyCalls).toBe(readyCalls);
    expect(fake.onCalls).toBe(onCalls);
    expect(fake.windows).toHaveLength(1);
    expect(fake.ipcHandlers.size).toBe(handlers);
  });
});
