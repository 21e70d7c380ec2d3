// Electron main process: one hardened window, one engine. Every IPC handler delegates to the same DoppelService
// that the CLI and the loopback bridge use; keep this file thin.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, shell } from 'electron';
import { defaultDataDir, defaultModelsDir } from '../core/paths.js';
import { DoppelService } from '../core/service.js';
import { EVENT_NAMES } from '../shared/api.js';
import { EVENT_CHANNEL } from '../shared/ipc.js';
import { registerDesktopIpc } from './desktop.js';
import { filesOfSecondInstance, findSimilarFiles, launchData } from './find-similar-args.js';
import { FindSimilarRequests } from './find-similar.js';
import { appIntegration } from './integration.js';
import { registerIpc } from './ipc.js';
import { appMenuTemplate } from './menu.js';
import { appFiles, electronSqliteBinding, unpackedPath } from './packaged.js';
import { createMediaHandler, MEDIA_SCHEME, MEDIA_SCHEME_PRIVILEGES } from './protocol.js';
import { CONTENT_SECURITY_POLICY, createSenderCheck } from './security.js';
import { ElectronTrasher } from './trasher.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { preload: preloadPath, indexHtml } = appFiles(here);
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];

let mainWindow: BrowserWindow | null = null;
let service: DoppelService | null = null;
// `--find-similar <file...>`: the files this launch asks about (null: a plain launch), sent to the window once it is
// there; a second launch's files come through the single-instance lock (see the end of this file).
const defaultApp = Boolean(process.defaultApp);
const launchFiles = findSimilarFiles(process.argv, { cwd: process.cwd(), defaultApp });
const findSimilar = new FindSimilarRequests({ contents: () => mainWindow?.webContents ?? null });

function showMainWindow(): void {
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 840,
    minWidth: 720,
    minHeight: 480,
    show: false,
    title: 'Doppel',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  if (devServerUrl) void win.loadURL(devServerUrl);
  else void win.loadFile(indexHtml);
  return win;
}

/** No navigation, no new windows, no webviews, no permissions, for every web contents the app ever creates. */
function hardenWebContents(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

function hardenSession(): void {
  const ses = session.defaultSession;
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
    });
  });
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
}

/** In a packaged app the models are unpacked next to app.asar (see electron-builder.yml's asarUnpack). */
function modelsDir(): string {
  const dir = defaultModelsDir();
  return app.isPackaged ? unpackedPath(dir) : dir;
}

/**
 * better-sqlite3 for Electron's ABI, which scripts/electron-native.mjs built into out/native (npm start and npm run
 * dist run it; electron-builder ships it unpacked and rebuilds nothing, so node_modules keeps Node's build).
 */
function useElectronSqliteBinding(): void {
  if (process.env.DOPPEL_SQLITE_BINDING) return;
  const built = electronSqliteBinding(here, process.versions.electron);
  const binding = app.isPackaged ? unpackedPath(built) : built;
  if (existsSync(binding)) process.env.DOPPEL_SQLITE_BINDING = binding;
}

async function pickFolder(): Promise<string | null> {
  const options = { title: 'Add a folder of photos', properties: ['openDirectory' as const] };
  const result = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
  return result.canceled ? null : (result.filePaths[0] ?? null);
}

async function addFolderFromMenu(open: DoppelService): Promise<void> {
  const folder = await pickFolder();
  if (!folder) return;
  try {
    await open.addFolder(folder);
    await open.indexAll();
  } catch (err) {
    dialog.showErrorBox('Could not add the folder', String(err));
  }
}

/** Every engine event goes to the window as (name, payload) on EVENT_CHANNEL. */
function forwardEvents(open: DoppelService): void {
  for (const event of EVENT_NAMES) {
    open.on(event, (payload) => {
      const contents = mainWindow?.webContents;
      if (contents && !contents.isDestroyed()) contents.send(EVENT_CHANNEL, event, payload);
    });
  }
}

/**
 * Keeps the library in step with its folders while the app runs. The service watches only while the `watch`
 * setting is on, and follows that setting and the folders as they change.
 */
async function startWatchingIfSet(open: DoppelService): Promise<void> {
  try {
    await open.startWatching();
  } catch (err) {
    console.error('doppel: watching the folders failed', err);
  }
}

async function start(): Promise<void> {
  await app.whenReady();
  hardenSession();
  const dbPath = path.join(app.getPath('userData'), 'library.sqlite');
  useElectronSqliteBinding();
  try {
    service = await DoppelService.open({ dbPath, modelsDir: modelsDir(), trasher: new ElectronTrasher(shell) });
  } catch (err) {
    console.error('doppel: could not open the library', err);
    dialog.showErrorBox('Doppel could not start', `Opening ${dbPath} failed: ${String(err)}`);
    app.exit(1);
    return;
  }
  const open = service;
  const media = open.mediaLibrary();
  session.defaultSession.protocol.handle(MEDIA_SCHEME, createMediaHandler(media));
  const trusted = createSenderCheck({ devServerUrl, indexHtml });
  registerIpc(ipcMain, open, trusted);
  const integration = appIntegration({
    platform: process.platform,
    isPackaged: app.isPackaged,
    execPath: process.execPath,
    env: process.env,
  });
  registerDesktopIpc(ipcMain, { media, shell, pickFolder, integration }, trusted);
  forwardEvents(open);
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      appMenuTemplate({
        platform: process.platform,
        dev: Boolean(devServerUrl),
        addFolder: () => void addFolderFromMenu(open),
        rescan: () => void open.indexAll().catch((err: unknown) => console.error('doppel: indexing failed', err)),
      }),
    ),
  );
  mainWindow = createWindow();
  findSimilar.flush();
  if (launchFiles) void findSimilar.open(launchFiles);
  await startWatchingIfSet(open);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) {
      mainWindow = createWindow();
      findSimilar.flush();
    }
  });
}

// The same per-user folder the CLI uses (DOPPEL_HOME overrides both), so they share one library. Set before the
// single-instance lock, which lives in this folder: two different DOPPEL_HOMEs may run side by side.
app.setPath('userData', defaultDataDir());
app.enableSandbox();
// Before the app is ready: doppel:// is a standard, secure scheme that <img> may load.
protocol.registerSchemesAsPrivileged([MEDIA_SCHEME_PRIVILEGES]);

// One library, one writer: a second launch focuses the first window instead, and hands it the files it was asked to
// find similar photos for (parsed from its own argv, as additionalData; else from the argv it passes on).
if (!app.requestSingleInstanceLock(launchData(launchFiles))) {
  app.quit();
} else {
  hardenWebContents();
  app.on('second-instance', (_event, argv, workingDirectory, additionalData) => {
    showMainWindow();
    const files = filesOfSecondInstance(argv, workingDirectory, additionalData, defaultApp);
    if (files) void findSimilar.open(files);
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', (event) => {
    const open = service;
    if (!open) return;
    service = null;
    event.preventDefault();
    open
      .close()
      .catch((err: unknown) => console.error('doppel: closing the library failed', err))
      .finally(() => app.quit());
  });
  start().catch((err: unknown) => {
    console.error('doppel: start-up failed', err);
    app.exit(1);
  });
}
