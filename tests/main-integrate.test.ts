// Settings' "Find similar photos in the file manager's menu" in the main process: src/main/index.ts against a fake
// `electron` module, packaged, with HOME, XDG_DATA_HOME and XDG_CONFIG_HOME in a temporary folder. Install writes
// the app's desktop entry and every file manager's entry running the app's own executable; status says so; remove
// gives back the folder as it was; a foreign sender is refused. Where the installer carries the entries (Windows,
// macOS) status says so and install and remove are refused with that note. Run from a checkout, the app installs
// what `doppel integrate install` would.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerDesktopIpc } from '../src/main/desktop.js';
import { appIntegration, appTarget } from '../src/main/integration.js';
import type { InvokeEvent, IpcMainLike } from '../src/main/ipc.js';
import type { MediaLibrary } from '../src/core/media.js';
import {
  INTEGRATION_CHANNELS,
  type IntegrationOutcome,
  type IntegrationStatus,
  type IpcResult,
} from '../src/shared/ipc.js';
import { fileTree as tree, REPO, tempDir } from './helpers.js';

type Fn = (...args: unknown[]) => unknown;

const fake = vi.hoisted(() => ({
  userData: '',
  appHandlers: new Map<string, Fn>(),
  ipcHandlers: new Map<string, Fn>(),
  windows: 0,
  quit: 0,
  exit: [] as number[],
}));

vi.mock('electron', () => {
  class BrowserWindow {
    static getAllWindows = () => [];
    readonly webContents = {
      send: () => {},
      isDestroyed: () => false,
      isLoading: () => false,
      once: () => {},
    };
    constructor() {
      fake.windows++;
    }
    once(): void {}
    on(): void {}
    loadFile(): Promise<void> {
      return Promise.resolve();
    }
    loadURL(): Promise<void> {
      return Promise.resolve();
    }
  }
  return {
    app: {
      isPackaged: true,
      setPath: (_name: string, dir: string) => (fake.userData = dir),
      getPath: () => fake.userData,
      enableSandbox: () => {},
      requestSingleInstanceLock: () => true,
      on: (event: string, handler: Fn) => fake.appHandlers.set(event, handler),
      whenReady: () => Promise.resolve(),
      quit: () => fake.quit++,
      exit: (code: number) => fake.exit.push(code),
    },
    BrowserWindow,
    dialog: { showErrorBox: () => {}, showOpenDialog: async () => ({ canceled: true, filePaths: [] }) },
    ipcMain: { handle: (channel: string, handler: Fn) => fake.ipcHandlers.set(channel, handler) },
    Menu: { buildFromTemplate: (template: unknown) => ({ template }), setApplicationMenu: () => {} },
    protocol: { registerSchemesAsPrivileged: () => {} },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: () => {} },
        setPermissionRequestHandler: () => {},
        setPermissionCheckHandler: () => {},
        protocol: { handle: () => {} },
      },
    },
    shell: { trashItem: async () => {}, showItemInFolder: () => {}, openPath: async () => '' },
  };
});

const tmp = tempDir('doppel-main-integrate-');
const home = path.join(tmp, 'home');
const data = path.join(home, 'share');
const config = path.join(home, 'config');
// The packaged app's executable, where a user may have put it: a space, a quote and non-ASCII letters.
const exe = path.join(tmp, `Mes applis l'été`, 'doppel');
const trusted = { senderFrame: { url: pathToFileURL(path.join(REPO, 'src/renderer/index.html')).href } };
const foreign = { senderFrame: { url: 'https://evil.example/' } };
const saved = {
  env: {
    HOME: process.env.HOME,
    XDG_DATA_HOME: process.env.XDG_DATA_HOME,
    XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME,
  },
  appImage: process.env.APPIMAGE,
  execPath: process.execPath,
  argv: process.argv,
};

// The user's own files, which install and remove must leave as they are: another app's entry, a Thunar action.
const USER_UCA = [
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<actions>',
  '<action>',
  '\t<icon>utilities-terminal</icon>',
  '\t<name>Open Terminal Here</name>',
  '\t<unique-id>1234-mine</unique-id>',
  '\t<command>exo-open --working-directory %f --launch TerminalEmulator</command>',
  '\t<description></description>',
  '\t<patterns>*</patterns>',
  '\t<directories/>',
  '</action>',
  '</actions>',
  '',
].join('\n');

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const read = (file: string): string => fs.readFileSync(file, 'utf8');

async function invoke<T>(channel: string, event: InvokeEvent, ...args: unknown[]): Promise<IpcResult<T>> {
  return (await fake.ipcHandlers.get(channel)!(event, ...args)) as IpcResult<T>;
}

let before: string[];

beforeAll(async () => {
  fs.mkdirSync(path.join(data, 'applications'), { recursive: true });
  fs.writeFileSync(path.join(data, 'applications', 'other.desktop'), '[Desktop Entry]\nType=Application\nName=X\n');
  fs.mkdirSync(path.join(config, 'Thunar'), { recursive: true });
  fs.writeFileSync(path.join(config, 'Thunar', 'uca.xml'), USER_UCA);
  before = tree(home);

  Object.assign(process.env, { HOME: home, XDG_DATA_HOME: data, XDG_CONFIG_HOME: config });
  delete process.env.APPIMAGE;
  process.env.DOPPEL_HOME = path.join(tmp, 'library');
  process.env.DOPPEL_MODELS = path.join(REPO, 'models');
  process.argv = [exe];
  process.execPath = exe;
  try {
    await import('../src/main/index.js');
    await vi.waitFor(() => expect(fake.ipcHandlers.has(INTEGRATION_CHANNELS.install)).toBe(true), {
      timeout: 60_000,
      interval: 50,
    });
  } finally {
    process.argv = saved.argv;
    process.execPath = saved.execPath;
  }
  expect(fake.exit).toEqual([]);
}, 90_000);

afterAll(async () => {
  const willQuit = fake.appHandlers.get('will-quit');
  if (willQuit) {
    const quits = fake.quit;
    willQuit({ preventDefault: () => {} });
    await vi.waitFor(() => expect(fake.quit).toBeGreaterThan(quits));
  }
  for (const [key, value] of Object.entries(saved.env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  if (saved.appImage !== undefined) process.env.APPIMAGE = saved.appImage;
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the file-manager integration of the packaged app (Linux)', () => {
  it.runIf(process.platform === 'linux')(
    'installs entries that run the app itself, says so, and remove gives back the folders as they were',
    async () => {
      const notYet = await invoke<IntegrationStatus>(INTEGRATION_CHANNELS.status, trusted);
      expect(notYet).toMatchObject({
        ok: true,
        value: { by: 'app', installed: false, command: `${shellQuote(exe)} --find-similar`, note: null },
      });

      const installed = await invoke<IntegrationOutcome>(INTEGRATION_CHANNELS.install, trusted);
      if (!installed.ok) throw new Error(installed.error.message);
      expect(installed.value.warnings).toEqual([]);
      expect(installed.value.status).toMatchObject({
        by: 'app',
        installed: true,
        command: `${shellQuote(exe)} --find-similar`,
        what: `the desktop app at ${exe} (this app)`,
      });

      // The app's desktop entry: its types, and both Exec lines run the app's executable with the files.
      const entry = read(path.join(data, 'applications', 'doppel.desktop'));
      const execLine = `Exec="${exe}" --find-similar %F`;
      expect(entry.split('\n').filter((l) => l.startsWith('Exec='))).toEqual([execLine, execLine]);
      expect(entry).toMatch(/^MimeType=image\/jpeg;.*image\/png;/m);
      // Every file manager's entry runs it too.
      const script = `exec ${shellQuote(exe)} '--find-similar' "$@"`;
      expect(read(path.join(data, 'nautilus', 'scripts', 'Find similar photos'))).toContain(script);
      expect(read(path.join(config, 'caja', 'scripts', 'Find similar photos'))).toContain(script);
      expect(read(path.join(data, 'nemo', 'actions', 'doppel-find-similar.nemo_action'))).toContain(
        // A key-file string: the backslash of the shell's '\'' doubled.
        `Exec=${shellQuote(exe).replace(/\\/g, '\\\\')} '--find-similar' %F`,
      );
      expect(read(path.join(data, 'kio', 'servicemenus', 'doppel-find-similar.desktop'))).toContain(execLine);
      const uca = read(path.join(config, 'Thunar', 'uca.xml'));
      expect(uca).toContain(
        `<command>${shellQuote(exe).replace(/'/g, '&apos;')} &apos;--find-similar&apos; %F</command>`,
      );
      expect(uca.startsWith(USER_UCA.slice(0, USER_UCA.indexOf('</actions>')))).toBe(true); // the user's action kept
      expect(JSON.parse(read(path.join(data, 'doppel', 'integration.json')))).toMatchObject({
        command: [exe, '--find-similar'],
      });

      const now = await invoke<IntegrationStatus>(INTEGRATION_CHANNELS.status, trusted);
      if (!now.ok) throw new Error(now.error.message);
      expect(now.value).toEqual(installed.value.status);
      expect(now.value.entries.map((e) => [e.for, e.state])).toEqual([
        ['desktop (the app entry)', 'installed'],
        ['Nautilus', 'installed'],
        ['Nemo', 'installed'],
        ['Caja', 'installed'],
        ['Dolphin', 'installed'],
        ['Thunar', 'installed'],
      ]);

      const removed = await invoke<IntegrationOutcome>(INTEGRATION_CHANNELS.remove, trusted);
      if (!removed.ok) throw new Error(removed.error.message);
      expect(removed.value.warnings).toEqual([]);
      expect(removed.value.status).toMatchObject({ installed: false });
      expect(removed.value.status.entries.every((e) => e.state === 'not installed')).toBe(true);
      expect(tree(home)).toEqual(before);
    },
  );

  it('refuses a foreign sender and extra arguments on every integration channel, writing nothing', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    for (const channel of Object.values(INTEGRATION_CHANNELS)) {
      for (const event of [foreign, { senderFrame: null }]) {
        expect(await invoke(channel, event)).toEqual({
          ok: false,
          error: { kind: 'invalid-argument', message: expect.stringMatching(/sender/) },
        });
      }
      expect(await invoke(channel, trusted, '--app', '/bin/sh')).toEqual({
        ok: false,
        error: { kind: 'invalid-argument', message: `${channel}: invalid arguments` },
      });
    }
    expect(warn).toHaveBeenCalledTimes(6);
    warn.mockRestore();
    expect(tree(home)).toEqual(before);
  });
});

describe('the file-manager integration elsewhere', () => {
  function setup(platform: NodeJS.Platform) {
    const handlers = new Map<string, (event: InvokeEvent, ...args: unknown[]) => Promise<IpcResult<unknown>>>();
    const ipcMain: IpcMainLike = { handle: (channel, listener) => void handlers.set(channel, listener) };
    const integration = appIntegration({ platform, isPackaged: true, execPath: exe, env: process.env });
    const deps = {
      media: {} as MediaLibrary,
      shell: { showItemInFolder: () => {}, openPath: async () => '' },
      pickFolder: async () => null,
      integration,
    };
    registerDesktopIpc(ipcMain, deps, (frame) => frame === trusted.senderFrame);
    return (channel: string) => handlers.get(channel)!(trusted);
  }

  it.each([
    ['win32', 'installer', /Explorer's menu .*the app installs nothing here/i],
    ['darwin', 'installer', /Quick Action .*the app installs nothing here/i],
    ['freebsd', null, /the app installs file-manager entries on Linux only/i],
  ] as const)('on %s says who provides the entries and refuses install and remove', async (platform, by, note) => {
    const invokeOn = setup(platform);
    expect(await invokeOn(INTEGRATION_CHANNELS.status)).toEqual({
      ok: true,
      value: { by, installed: false, command: null, what: null, entries: [], note: expect.stringMatching(note) },
    });
    for (const channel of [INTEGRATION_CHANNELS.install, INTEGRATION_CHANNELS.remove]) {
      expect(await invokeOn(channel)).toEqual({
        ok: false,
        error: { kind: 'unsupported', message: expect.stringMatching(note) },
      });
    }
    expect(tree(home)).toEqual(before);
  });

  it('installs the AppImage file, not the mount it runs from; from a checkout, what `doppel integrate` would', () => {
    const env = { APPIMAGE: '/home/me/Apps/Doppel-1.0.AppImage', PATH: path.dirname(saved.execPath) };
    expect(appTarget({ platform: 'linux', isPackaged: true, execPath: '/tmp/.mount_Doppel/doppel', env })).toEqual({
      command: ['/home/me/Apps/Doppel-1.0.AppImage', '--find-similar'],
      what: 'the desktop app at /home/me/Apps/Doppel-1.0.AppImage (this app)',
    });
    const dev = appTarget({ platform: 'linux', isPackaged: false, execPath: '/x/electron', env });
    if (fs.existsSync('/opt/Doppel/doppel')) expect(dev.command).toEqual(['/opt/Doppel/doppel', '--find-similar']);
    else
      expect(dev.command).toEqual([
        path.join(path.dirname(saved.execPath), 'node'),
        path.join(REPO, 'bin', 'doppel.js'),
        'find-similar',
      ]);
  });
});
