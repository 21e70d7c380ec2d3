// src/main/index.ts against a fake `electron` module: one hardened window, the single-instance lock, the doppel://
// protocol, a handler for every DoppelApi member and desktop action, the menu, engine events forwarded to the
// window, and `--find-similar <file...>` (of this launch, and of a second one through the single-instance lock)
// sent to the window. The engine behind it is the real DoppelService on a temporary library.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { API_MEMBERS } from '../src/shared/api.js';
import {
  channelFor,
  EVENT_CHANNEL,
  FIND_SIMILAR_CHANNEL,
  INTEGRATION_CHANNELS,
  PICK_FOLDER_CHANNEL,
  SHELL_CHANNELS,
  type FindSimilarRequest,
} from '../src/shared/ipc.js';
import { REPO, tempDir } from './helpers.js';

type Fn = (...args: unknown[]) => unknown;

const fake = vi.hoisted(() => {
  const state = {
    lock: true,
    userData: '',
    appHandlers: new Map<string, Fn>(),
    ipcHandlers: new Map<string, Fn>(),
    windows: [] as {
      options: Record<string, unknown>;
      loaded: string[];
      sent: unknown[][];
      /** Until finishLoad(): the page is loading, and did-finish-load listeners wait. */
      loading: boolean;
      onLoad: (() => void)[];
    }[],
    /** Calls of a window's show(): a second launch shows the first one's window. */
    shown: 0,
    /** What app.requestSingleInstanceLock was given (additionalData). */
    lockData: [] as unknown[],
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
    readonly webContents: { send: Fn; isDestroyed: () => boolean; isLoading: () => boolean; once: Fn };
    constructor(options: Record<string, unknown>) {
      this.record = { options, loaded: [], sent: [], loading: true, onLoad: [] };
      fake.windows.push(this.record);
      this.webContents = {
        send: (...args: unknown[]) => this.record.sent.push(args),
        isDestroyed: () => false,
        isLoading: () => this.record.loading,
        once: (event: unknown, listener: unknown) => {
          if (event === 'did-finish-load') this.record.onLoad.push(listener as () => void);
        },
      };
    }
    once(): void {}
    on(): void {}
    isMinimized(): boolean {
      return false;
    }
    restore(): void {}
    show(): void {
      fake.shown++;
    }
    focus(): void {}
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
      requestSingleInstanceLock: (data: unknown) => {
        fake.lockData.push(data);
        return fake.lock;
      },
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

// The first launch is `Doppel --find-similar <a photo> <a file that is not there>`, from the photo's folder.
const launchedIn = path.join(home, 'été 2024');
const photo = path.join(launchedIn, 'IMG 1.jpg');
fs.mkdirSync(launchedIn);
fs.writeFileSync(photo, Buffer.from('the bytes of a photo'));
const argv = process.argv;
const cwd = process.cwd();

/** The FindSimilarRequests the window was sent. */
const findSimilarSent = (): FindSimilarRequest[] =>
  fake.windows[0]!.sent.filter((m) => m[0] === FIND_SIMILAR_CHANNEL).map((m) => m[1] as FindSimilarRequest);
const bytesAsText = (r: FindSimilarRequest) => r.files.map((f) => [f.name, f.path, Buffer.from(f.bytes).toString()]);

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
    process.argv = ['/opt/Doppel/doppel', '--find-similar', 'IMG 1.jpg', 'missing.jpg', '--no-sandbox'];
    process.chdir(launchedIn);
    try {
      await import('../src/main/index.js');
    } finally {
      process.argv = argv;
      process.chdir(cwd);
    }
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
      ...Object.values(INTEGRATION_CHANNELS),
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

  it('sends the files of `--find-similar` to the window once its page has loaded; a missing one says why', async () => {
    // The lock carries this launch's files, resolved against its working folder, for the instance it forwards to.
    expect(fake.lockData[0]).toEqual({ findSimilar: [photo, path.join(launchedIn, 'missing.jpg')] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(findSimilarSent()).toEqual([]); // the page is still loading: the preload would not hear it
    const win = fake.windows[0]!;
    win.loading = false;
    for (const listener of win.onLoad.splice(0)) listener();
    await vi.waitFor(() => expect(findSimilarSent()).toHaveLength(1));
    expect(bytesAsText(findSimilarSent()[0]!)).toEqual([['IMG 1.jpg', photo, 'the bytes of a photo']]);
    expect(findSimilarSent()[0]!.problems).toEqual([
      { path: path.join(launchedIn, 'missing.jpg'), reason: 'No such file' },
    ]);
  });

  it('a second launch with --find-similar shows the window and forwards its files (argv or additionalData)', async () => {
    const secondInstance = fake.appHandlers.get('second-instance')!;
    const before = findSimilarSent().length;
    // Its argv as Chromium passes it on, names relative to its own working folder.
    secondInstance(
      {},
      ['/opt/Doppel/doppel', '--allow-file-access-from-files', '--find-similar', 'IMG 1.jpg'],
      launchedIn,
    );
    await vi.waitFor(() => expect(findSimilarSent()).toHaveLength(before + 1));
    expect(bytesAsText(findSimilarSent()[before]!)).toEqual([['IMG 1.jpg', photo, 'the bytes of a photo']]);
    // What the launch parsed itself wins over the argv.
    secondInstance({}, ['/opt/Doppel/doppel'], '/', { findSimilar: [photo] });
    await vi.waitFor(() => expect(findSimilarSent()).toHaveLength(before + 2));
    // A folder, a plain launch: a reason, no request; the window is only shown.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    secondInstance({}, ['/opt/Doppel/doppel', '--find-similar', launchedIn], '/');
    await vi.waitFor(() => expect(findSimilarSent()).toHaveLength(before + 3));
    expect(findSimilarSent()[before + 2]).toEqual({
      files: [],
      problems: [{ path: launchedIn, reason: 'Is a folder, not a photo file' }],
    });
    warn.mockRestore();
    const shown = fake.shown;
    secondInstance({}, ['/opt/Doppel/doppel'], '/');
    expect(fake.shown).toBe(shown + 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(findSimilarSent()).toHaveLength(before + 3);
    expect(fake.windows).toHaveLength(1);
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
