// `Doppel --find-similar <file...>` in the main process, under plain Node: which files a command line names
// (packaged and development argv, Chromium's switches, a second instance's working folder, odd names), reading
// them (only those, size-limited, a clear reason for each that cannot be read) and sending them to the window on
// FIND_SIMILAR_CHANNEL once its page has loaded.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { NAMED_IMAGE_LIMITS, readNamedImages } from '../src/core/library/named-images.js';
import { filesOfSecondInstance, findSimilarFiles, launchData } from '../src/main/find-similar-args.js';
import { FindSimilarRequests, type ContentsLike } from '../src/main/find-similar.js';
import { FIND_SIMILAR_CHANNEL, type FindSimilarRequest } from '../src/shared/ipc.js';
import { REPO, tempDir } from './helpers.js';

/** Prints readNamedImages of its argument as JSON (run as another user). */
const READ_AS_CHILD = `import('${path.join(REPO, 'src/core/library/named-images.ts')}').then(async (m) =>
  process.stdout.write(JSON.stringify(await m.readNamedImages([process.argv.at(-1)]))))`;

const dir = tempDir('doppel-find-similar-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const packaged = { cwd: '/home/ana/Pictures', defaultApp: false };
const dev = { cwd: '/home/ana/Pictures', defaultApp: true };

describe('findSimilarFiles: the files a command line names', () => {
  it('a packaged app: every argument after the binary, resolved against the working folder', () => {
    expect(findSimilarFiles(['/opt/Doppel/doppel', '--find-similar', 'a.jpg', '/b/c d.png'], packaged)).toEqual([
      '/home/ana/Pictures/a.jpg',
      '/b/c d.png',
    ]);
  });

  it('development: the app path (the first argument that is not a switch) is not a file', () => {
    const electron = '/repo/node_modules/electron/dist/electron';
    expect(findSimilarFiles([electron, '.', '--find-similar', 'a.jpg'], dev)).toEqual(['/home/ana/Pictures/a.jpg']);
    expect(
      findSimilarFiles([electron, '--inspect=9229', '/repo/out/main/index.js', '--find-similar', 'x/b.jpg'], dev),
    ).toEqual(['/home/ana/Pictures/x/b.jpg']);
  });

  it("Chromium's switches anywhere, and switches moved before the files, change nothing", () => {
    const files = ['/p/a.jpg', '/p/b.jpg'];
    for (const argv of [
      ['doppel', '--find-similar', '/p/a.jpg', '/p/b.jpg'],
      ['doppel', '--no-sandbox', '--find-similar', '--original-process-start-time=1330', '/p/a.jpg', '/p/b.jpg'],
      ['doppel', '--find-similar', '--allow-file-access-from-files', '--enable-features=X', '/p/a.jpg', '/p/b.jpg'],
      ['doppel', '/p/a.jpg', '--find-similar', '/p/b.jpg'],
    ]) {
      expect(findSimilarFiles(argv, packaged), argv.join(' ')).toEqual(files);
    }
  });

  it('a plain launch asks nothing; --find-similar alone asks for no file', () => {
    expect(findSimilarFiles(['doppel'], packaged)).toBeNull();
    expect(findSimilarFiles(['doppel', 'a.jpg', '--no-sandbox'], packaged)).toBeNull();
    expect(findSimilarFiles(['/repo/electron', '.'], dev)).toBeNull();
    expect(findSimilarFiles(['doppel', '--find-similar'], packaged)).toEqual([]);
  });

  it('names with spaces, quotes, $, line breaks and non-ASCII letters arrive as they are, each once', () => {
    const odd = ['été 2024/IMG 1.jpg', `it's "x" $HOME \`y\` back\\slash.jpg`, 'line\nbreak.jpg', '写真.jpg'];
    expect(findSimilarFiles(['doppel', '--find-similar', ...odd, odd[0]!], packaged)).toEqual(
      odd.map((f) => path.join(packaged.cwd, f)),
    );
  });

  it('--find-similar=FILE, files after -- (even starting with -), file:// URIs', () => {
    const uri = pathToFileURL('/home/ana/été 2024/IMG 1.jpg').href;
    expect(uri).toContain('%20');
    expect(
      findSimilarFiles(['doppel', '--find-similar=one.jpg', uri, '--', '-dash.jpg', '--also.jpg'], packaged),
    ).toEqual([
      '/home/ana/Pictures/one.jpg',
      '/home/ana/été 2024/IMG 1.jpg',
      '/home/ana/Pictures/-dash.jpg',
      '/home/ana/Pictures/--also.jpg',
    ]);
  });
});

describe('filesOfSecondInstance: what a second launch forwards', () => {
  it('uses the files the launch parsed from its own argv (additionalData), else its argv and working folder', () => {
    const data = launchData(['/w/a.jpg', '/w/b c.jpg']);
    expect(filesOfSecondInstance(['doppel', '--whatever'], '/elsewhere', data, false)).toEqual([
      '/w/a.jpg',
      '/w/b c.jpg',
    ]);
    expect(filesOfSecondInstance(['doppel', '--find-similar', 'a.jpg'], '/w', undefined, false)).toEqual(['/w/a.jpg']);
    expect(filesOfSecondInstance(['doppel', '--find-similar', 'a.jpg'], '/w', launchData(null), false)).toBeNull();
    expect(filesOfSecondInstance(['doppel'], '/w', undefined, false)).toBeNull();
  });

  it('additionalData that is not a list of absolute paths is not trusted: the argv is used', () => {
    for (const bad of [{ findSimilar: ['relative.jpg'] }, { findSimilar: [1] }, { findSimilar: 'x' }, 'x', null]) {
      expect(filesOfSecondInstance(['doppel', '--find-similar', 'a.jpg'], '/w', bad, false)).toEqual(['/w/a.jpg']);
    }
  });
});

describe('readNamedImages: only the files named, size-limited, a reason for each that cannot be read', () => {
  it('reads the files named (a link named is followed), each once, in order', async () => {
    const a = path.join(dir, 'été 2024', 'IMG 1.jpg');
    fs.mkdirSync(path.dirname(a), { recursive: true });
    fs.writeFileSync(a, Buffer.from([1, 2, 3]));
    const link = path.join(dir, 'link.jpg');
    fs.symlinkSync(a, link);
    const r = await readNamedImages([a, link, a]);
    expect(r.problems).toEqual([]);
    expect(r.files.map((f) => [f.name, f.path, [...f.bytes]])).toEqual([
      ['IMG 1.jpg', a, [1, 2, 3]],
      ['link.jpg', link, [1, 2, 3]],
    ]);
    expect(r.files[0]!.bytes).toBeInstanceOf(Uint8Array);
  });

  it('a missing file, a folder, a FIFO, an empty file and one too large each get their reason; nothing throws', async () => {
    const missing = path.join(dir, 'gone.jpg');
    const folder = path.join(dir, 'a folder.jpg');
    fs.mkdirSync(folder);
    const fifo = path.join(dir, 'pipe.jpg');
    const mkfifo = spawnSync('mkfifo', [fifo]);
    const empty = path.join(dir, 'empty.jpg');
    fs.writeFileSync(empty, '');
    // Sparse: bigger than API_LIMITS.maxImageBytes without taking the disk space (and never read).
    const big = path.join(dir, 'big.jpg');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, NAMED_IMAGE_LIMITS.maxBytes + 1);
    const files = [missing, folder, ...(mkfifo.status === 0 ? [fifo] : []), empty, big];
    const r = await readNamedImages(files);
    expect(r.files).toEqual([]);
    expect(r.problems).toEqual([
      { path: missing, reason: 'No such file' },
      { path: folder, reason: 'Is a folder, not a photo file' },
      ...(mkfifo.status === 0 ? [{ path: fifo, reason: 'Is a FIFO (named pipe), not a photo file' }] : []),
      { path: empty, reason: 'The file is empty' },
      { path: big, reason: 'Too large: 256.0 MB, more than the 256.0 MB an image may have' },
    ]);
  });

  it('a file the user may not read is reported, not thrown', async (ctx) => {
    const locked = path.join(dir, 'locked.jpg');
    fs.writeFileSync(locked, 'x', { mode: 0o000 });
    const expected = { files: [], problems: [{ path: locked, reason: 'Permission denied: the file cannot be read' }] };
    if (process.getuid?.() !== 0) {
      expect(await readNamedImages([locked])).toEqual(expected);
      return;
    }
    // Root may read any file: read it as the user nobody instead (who may enter the folder: the file's mode refuses).
    fs.chmodSync(dir, 0o755);
    const run = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        '--import',
        'tsx',
        '-e',
        READ_AS_CHILD,
        locked,
      ],
      { cwd: REPO, encoding: 'utf8' },
    );
    if (run.error || run.status !== 0) {
      console.warn(
        `skipping the unreadable-file check: running as root, and setpriv failed: ${run.error ?? run.stderr}`,
      );
      return ctx.skip();
    }
    expect(JSON.parse(run.stdout)).toEqual(expected);
  });

  it('at most maxFiles files and maxTotalBytes bytes a request; the rest are reported', async () => {
    const names = ['1', '2', '3', '4'].map((n) => path.join(dir, `${n}.jpg`));
    for (const f of names) fs.writeFileSync(f, Buffer.alloc(10, 7));
    const r = await readNamedImages(names, { limits: { maxFiles: 3, maxBytes: 10, maxTotalBytes: 25 } });
    expect(r.files.map((f) => f.path)).toEqual(names.slice(0, 2));
    expect(r.problems).toEqual([
      { path: names[2], reason: 'Not read: with the files before it, more than the 25 bytes one request may read' },
      { path: names[3], reason: 'Not read: at most 3 files are opened at a time' },
    ]);
  });
});

/** A window's contents that records what it was sent, loading until finishLoad(). */
function fakeContents(loading: boolean): ContentsLike & { sent: unknown[][]; finishLoad(): void } {
  const onLoad: (() => void)[] = [];
  const c = {
    sent: [] as unknown[][],
    loading,
    send: (...args: unknown[]) => void c.sent.push(args),
    isDestroyed: () => false,
    isLoading: () => c.loading,
    once: (_event: 'did-finish-load', listener: () => void) => void onLoad.push(listener),
    finishLoad() {
      c.loading = false;
      for (const l of onLoad.splice(0)) l();
    },
  };
  return c;
}

describe('FindSimilarRequests: the window is told to open the Similar view', () => {
  const photo = path.join(dir, 'photo.jpg');
  fs.writeFileSync(photo, Buffer.from('jpeg bytes'));

  it("sends the files' names and bytes once the page has loaded, with the problems of the others", async () => {
    const contents = fakeContents(true);
    const warned: string[] = [];
    const requests = new FindSimilarRequests({ contents: () => contents, warn: (l) => warned.push(l) });
    const missing = path.join(dir, 'nope.jpg');
    await requests.open([photo, missing]);
    expect(contents.sent).toEqual([]); // still loading: the preload is not listening yet
    contents.finishLoad();
    expect(contents.sent).toHaveLength(1);
    const [channel, request] = contents.sent[0] as [string, FindSimilarRequest];
    expect(channel).toBe(FIND_SIMILAR_CHANNEL);
    expect(request.files.map((f) => ({ ...f, bytes: Buffer.from(f.bytes).toString() }))).toEqual([
      { name: 'photo.jpg', path: photo, bytes: 'jpeg bytes' },
    ]);
    expect(request.problems).toEqual([{ path: missing, reason: 'No such file' }]);
    expect(warned).toEqual([`doppel: find similar: ${missing}: No such file`]);
  });

  it('sends at once to a loaded page; keeps a request made before there is a window until flush()', async () => {
    let contents: ReturnType<typeof fakeContents> | null = null;
    const requests = new FindSimilarRequests({ contents: () => contents, warn: () => {} });
    await requests.open([photo]);
    contents = fakeContents(false);
    expect(contents.sent).toEqual([]);
    requests.flush();
    expect(contents.sent).toHaveLength(1);
    await requests.open([photo]);
    expect(contents.sent).toHaveLength(2);
    expect(await requests.open([])).toBeNull();
    expect(contents.sent).toHaveLength(2);
  });

  it('a reader that fails still gives the window a request that says why, and never rejects', async () => {
    const contents = fakeContents(false);
    const requests = new FindSimilarRequests({
      contents: () => contents,
      read: () => Promise.reject(new Error('disk on fire')),
      warn: () => {},
    });
    await expect(requests.open(['/x.jpg'])).resolves.toEqual({
      files: [],
      problems: [{ path: '/x.jpg', reason: 'Cannot be read (Error: disk on fire)' }],
    });
    expect(contents.sent).toHaveLength(1);
  });
});
