// Folders inside folders through the service, on a real SQLite file and real photos: a folder added inside an
// indexed one takes over its photos (not added again), indexing a folder and its reference sub-folder again and
// again keeps the flag, and, over random orders of adding, removing, marking and scanning folders, every photo
// belongs to its deepest folder and no photo inside a reference folder is ever proposed for the trash.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FolderInfo } from '../../src/shared/api.js';
import { defaultModelsDir } from '../../src/core/paths.js';
import { rng } from '../../src/core/random.js';
import { DoppelService } from '../../src/core/service.js';
import { copyInto, photos, tempDir } from '../helpers.js';

const tmp = tempDir('doppel-nested-');
// Every folder holds copies of the same two photos (exact duplicates across all of them) and one of its own.
const SOURCES = photos('CBSD68', 2);
const OWN = photos('CSun_Hays80', 5);
const TREE = ['', 'a', path.join('a', 'ref'), path.join('a', 'ref', 'deep'), 'c'];
let lib: string;
let service: DoppelService;

beforeAll(async () => {
  fs.mkdirSync(path.join(tmp, 'library'));
  lib = fs.realpathSync(path.join(tmp, 'library'));
  TREE.forEach((dir, i) => copyInto([...SOURCES, OWN[i]!], path.join(lib, dir)));
  service = await DoppelService.open({ dbPath: path.join(tmp, 'library.sqlite'), modelsDir: defaultModelsDir() });
}, 60_000);

afterAll(async () => {
  await service?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const dir = (rel: string): string => path.join(lib, rel);
const inside = (file: string, folder: string): boolean => file.startsWith(`${folder}${path.sep}`);
const filesUnder = (folders: readonly string[]): string[] =>
  TREE.flatMap((d) => fs.readdirSync(dir(d)).map((f) => path.join(dir(d), f)))
    .filter((f) => fs.statSync(f).isFile() && folders.some((folder) => inside(f, folder)))
    .sort();

async function reset(): Promise<void> {
  for (const f of await service.listFolders()) await service.removeFolder(f.id);
}

async function add(...rels: string[]): Promise<FolderInfo[]> {
  const added = [];
  for (const rel of rels) added.push(await service.addFolder(dir(rel)));
  return added;
}

describe('nested library folders', () => {
  it('take over the indexed photos below them instead of adding them again', async () => {
    await reset();
    const [outer] = await add('');
    const first = await service.indexFolders([outer!]);
    expect(first).toMatchObject({ added: 15, errors: [] });
    const [inner] = await add('a');
    const second = await service.indexFolders([inner!]);
    expect(second).toMatchObject({ scanned: 9, added: 0, unchanged: 9, removed: 0 });
    expect(service.countPhotos()).toBe(15);
    const again = await service.indexFolders(await service.listFolders());
    expect(again).toMatchObject({ scanned: 15, added: 0, updated: 0, unchanged: 15, removed: 0 });
    await service.removeFolder(inner!.id);
    expect(service.countPhotos()).toBe(15);
  });

  it('keep a reference sub-folder a reference folder however often both are indexed', async () => {
    await reset();
    const [outer, ref] = await add('a', path.join('a', 'ref'));
    await service.setReferenceFolder(ref!.id, true);
    const runs = [];
    for (let i = 0; i < 4; i++) {
      const s = await service.indexFolders([outer!, ref!]);
      const groups = await service.findDuplicates({ kinds: ['exact'] });
      const inRef = groups.flatMap((g) => g.members).filter((m) => inside(m.path, dir(path.join('a', 'ref'))));
      runs.push({ added: s.added, flags: inRef.map((m) => m.referenceFolder && m.keep) });
    }
    expect(runs).toEqual([
      { added: 9, flags: [true, true, true, true] },
      ...Array.from({ length: 3 }, () => ({ added: 0, flags: [true, true, true, true] })),
    ]);
  });

  it('never propose a photo inside a reference folder for the trash, whatever the order of adds and scans', async () => {
    for (const seed of [1, 2, 3, 4]) {
      await reset();
      const random = rng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      const marked = new Set<string>(); // folders marked as reference folders themselves
      const steps: string[] = [];
      for (let step = 0; step < 14; step++) {
        const folders = await service.listFolders();
        const op = folders.length === 0 ? 'add' : pick(['add', 'add', 'scan', 'scan', 'reference', 'unmark', 'remove']);
        if (op === 'add') {
          const rel = pick(TREE);
          await service.addFolder(dir(rel));
          steps.push(`add ${rel || '.'}`);
        } else if (op === 'scan') {
          await service.indexFolders(pick([folders, [pick(folders)]]));
          steps.push('scan');
        } else {
          const f = pick(folders);
          steps.push(`${op} ${path.relative(lib, f.path) || '.'}`);
          if (op === 'remove') {
            await service.removeFolder(f.id);
            marked.delete(f.path);
          } else {
            await service.setReferenceFolder(f.id, op === 'reference');
            if (op === 'reference') marked.add(f.path);
            else marked.delete(f.path);
          }
        }
        const roots = (await service.listFolders()).map((f) => f.path);
        const context = `seed ${seed}: ${steps.join(', ')}`;
        // Every photo belongs to the deepest library folder it is inside.
        const page = await service.listPhotos({ limit: 1000 });
        const byId = new Map((await service.listFolders()).map((f) => [f.id, f.path]));
        for (const p of page.photos) {
          const deepest = roots.filter((r) => inside(p.path, r)).sort((a, b) => b.length - a.length)[0];
          expect(byId.get(p.folderId), context).toBe(deepest);
        }
        // No photo inside a reference folder is proposed for the trash, and moving the proposal is not refused.
        const protectedPath = (p: string): boolean => [...marked].some((m) => inside(p, m));
        const groups = await service.findDuplicates({ kinds: ['exact'] });
        const proposed = groups.flatMap((g) => g.members.filter((m) => !m.keep));
        expect(
          proposed.filter((m) => protectedPath(m.path)).map((m) => m.path),
          context,
        ).toEqual([]);
        for (const g of groups)
          for (const m of g.members) expect(m.referenceFolder, context).toBe(protectedPath(m.path));
        const dry = await service.trashPhotos(
          proposed.map((m) => m.photoId),
          { dryRun: true },
        );
        expect(dry.files.length, context).toBe(proposed.length);
      }
      // After a scan of every folder, the library holds each file below them once.
      await service.indexFolders(await service.listFolders());
      const roots = (await service.listFolders()).map((f) => f.path);
      const page = await service.listPhotos({ limit: 1000 });
      expect(page.photos.map((p) => p.path).sort(), `seed ${seed}: ${steps.join(', ')}`).toEqual(filesUnder(roots));
    }
  }, 240_000);
});
