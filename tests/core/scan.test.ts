import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DoppelError } from '../../src/shared/api.js';
import {
  IMAGE_EXTENSIONS,
  isImagePath,
  scanFolder,
  type ScanEvent,
  type ScanOptions,
} from '../../src/core/library/scan.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data');
const JPG = path.join(DATA, 'photos/CSun_Hays80/abbey_sun_asztnlqhlrvirneh.jpg');
const PNG = path.join(DATA, 'photos/CBSD68/101085.png');

async function collect(root: string, opts?: ScanOptions): Promise<ScanEvent[]> {
  const out: ScanEvent[] = [];
  for await (const ev of scanFolder(root, opts)) out.push(ev);
  return out;
}

/** Paths of 'file' events relative to root, '/'-separated. */
const rel = (root: string, events: ScanEvent[]) =>
  events.filter((e) => e.type === 'file').map((e) => path.relative(root, e.path).split(path.sep).join('/'));

// chmod 000 does not stop root (tests often run as root): find out whether it stops us here.
const permissionsEnforced = (() => {
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'doppel-probe-'));
  fs.chmodSync(probe, 0o000);
  let readable = true;
  try {
    fs.readdirSync(probe);
  } catch {
    readable = false;
  }
  fs.chmodSync(probe, 0o700);
  fs.rmSync(probe, { recursive: true });
  return !readable;
})();

let tmp: string;
let root: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'doppel-scan-'));
  root = path.join(tmp, 'root');
  const outside = path.join(tmp, 'outside');
  const mk = (p: string) => fs.mkdirSync(path.join(root, p), { recursive: true });
  const cp = (src: string, p: string) => fs.copyFileSync(src, path.join(root, p));
  mk('nested/deep');
  mk('.hidden');
  mk('raw');
  mk('locked');
  fs.mkdirSync(path.join(outside, 'dir'), { recursive: true });

  cp(JPG, 'a.jpg');
  cp(PNG, 'B.PNG');
  cp(JPG, 'nested/deep/c.JPEG');
  cp(JPG, 'nested/x.tmp.jpg'); // excluded by a basename glob
  cp(JPG, '.dot.jpg');
  cp(JPG, '.hidden/h.jpg');
  cp(JPG, 'raw/r.jpg'); // excluded by a path glob
  cp(JPG, 'locked/z.jpg');
  fs.writeFileSync(path.join(root, 'empty.jpg'), '');
  fs.writeFileSync(path.join(root, 'notes.txt'), 'not a photo');
  fs.writeFileSync(path.join(root, 'nested/deep/photo.jpg.txt'), 'not a photo');
  fs.linkSync(path.join(root, 'a.jpg'), path.join(root, 'nested/hard.jpg'));

  fs.copyFileSync(JPG, path.join(outside, 'o.jpg'));
  fs.copyFileSync(PNG, path.join(outside, 'dir/o2.png'));
  fs.symlinkSync(path.join(outside, 'o.jpg'), path.join(root, 'link-file.jpg'));
  fs.symlinkSync(path.join(outside, 'dir'), path.join(root, 'link-dir'));
  fs.symlinkSync('..', path.join(root, 'nested/loop')); // back to root
  fs.symlinkSync('cycle-b.jpg', path.join(root, 'cycle-a.jpg')); // a -> b -> a
  fs.symlinkSync('cycle-a.jpg', path.join(root, 'cycle-b.jpg'));
  fs.symlinkSync(path.join(tmp, 'nowhere.jpg'), path.join(root, 'dangling.jpg'));
  fs.chmodSync(path.join(root, 'locked'), 0o000);
});

afterAll(() => {
  fs.chmodSync(path.join(root, 'locked'), 0o755);
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('isImagePath', () => {
  it('knows the supported extensions, case-insensitively', () => {
    const common = ['.avif', '.gif', '.heic', '.heif', '.jpe', '.jpeg', '.jpg', '.png', '.tif', '.tiff', '.webp'];
    const decodedByDoppel = ['.bmp', '.dib', '.jxl', '.pam', '.pbm', '.pgm', '.pnm', '.ppm'];
    const cameraRaw = ['.arw', '.cr2', '.cr3', '.crw', '.dng', '.nef', '.nrw', '.orf', '.pef', '.raf', '.rw2'];
    const moreRaw = ['.sr2', '.srf', '.srw', '.x3f'];
    expect([...IMAGE_EXTENSIONS].sort()).toEqual([...common, ...decodedByDoppel, ...cameraRaw, ...moreRaw].sort());
    expect(isImagePath('/a/IMG_0042.CR2')).toBe(true);
    expect(isImagePath('/a/B.JPG')).toBe(true);
    expect(isImagePath('x.HeIc')).toBe(true);
    expect(isImagePath('x.jpg.txt')).toBe(false);
    expect(isImagePath('jpg')).toBe(false);
  });
});

describe('scanFolder', () => {
  const exclude = ['raw/**', '*.tmp.jpg'];
  const unlocked = (files: string[]) => files.filter((f) => !f.startsWith('locked/'));

  it('finds images recursively in sorted order, skipping hidden, excluded, non-images, links and hard-link twins', async () => {
    const events = await collect(root, { exclude });
    expect(unlocked(rel(root, events))).toEqual(['B.PNG', 'a.jpg', 'empty.jpg', 'nested/deep/c.JPEG']);

    const a = events.find((e) => e.type === 'file' && e.path === path.join(root, 'a.jpg'));
    const st = fs.statSync(path.join(root, 'a.jpg'));
    expect(a).toEqual({
      type: 'file',
      path: path.join(root, 'a.jpg'),
      size: st.size,
      mtimeMs: st.mtimeMs,
      dev: st.dev,
      ino: st.ino,
    });
    const empty = events.find((e) => e.type === 'file' && e.path.endsWith('empty.jpg'));
    expect(empty).toMatchObject({ size: 0 });
  });

  it('is deterministic', async () => {
    expect(await collect(root, { exclude })).toEqual(await collect(root, { exclude }));
  });

  it('applies no exclusions by default', async () => {
    const files = unlocked(rel(root, await collect(root)));
    expect(files).toEqual(['B.PNG', 'a.jpg', 'empty.jpg', 'nested/deep/c.JPEG', 'nested/x.tmp.jpg', 'raw/r.jpg']);
  });

  it('follows symlinks on request without looping or repeating files', async () => {
    const events = await collect(root, { exclude, followSymlinks: true });
    expect(unlocked(rel(root, events))).toEqual([
      'B.PNG',
      'a.jpg',
      'empty.jpg',
      'link-dir/o2.png',
      'link-file.jpg',
      'nested/deep/c.JPEG',
    ]);
    // Dangling links and link cycles are not photos: no error events for them.
    expect(events.filter((e) => e.type === 'error' && !e.path.endsWith('locked'))).toEqual([]);
  });

  it.skipIf(!permissionsEnforced)('reports an unreadable folder as an error event and carries on', async () => {
    const events = await collect(root, { exclude });
    expect(events.filter((e) => e.type === 'error')).toEqual([
      { type: 'error', path: path.join(root, 'locked'), reason: 'Permission denied' },
    ]);
    expect(rel(root, events)).toEqual(['B.PNG', 'a.jpg', 'empty.jpg', 'nested/deep/c.JPEG']);
  });

  it.skipIf(permissionsEnforced)('reads a chmod 000 folder when permissions are not enforced (root)', async () => {
    const events = await collect(root, { exclude });
    expect(rel(root, events)).toContain('locked/z.jpg');
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('throws not-found for a missing root or a file, before yielding', async () => {
    for (const bad of [path.join(tmp, 'does-not-exist'), path.join(root, 'a.jpg')]) {
      const it = scanFolder(bad);
      await expect(it.next()).rejects.toSatisfy((e: unknown) => e instanceof DoppelError && e.kind === 'not-found');
    }
  });

  it('stops with a cancelled error when aborted', async () => {
    const ac = new AbortController();
    const seen: ScanEvent[] = [];
    const run = async () => {
      for await (const ev of scanFolder(root, { signal: ac.signal })) {
        seen.push(ev);
        ac.abort();
      }
    };
    await expect(run()).rejects.toSatisfy((e: unknown) => e instanceof DoppelError && e.kind === 'cancelled');
    expect(seen).toHaveLength(1);
  });
});
