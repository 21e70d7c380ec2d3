// The duplicate review through the built CLI, as a user runs it: `node bin/doppel.js` after `npm run build:cli`,
// a real SQLite file, the shipped model, real photos from ../shared/data, and the freedesktop trash of a
// temporary HOME (HOME and XDG_DATA_HOME point into the test's temp folder).
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../src/core/duplicates/export.js';
import { formatSimilarity } from '../src/shared/similarity.js';
import { photos, REPO, tempDir } from './helpers.js';

const BIN = path.join(REPO, 'bin', 'doppel.js');
const tmp = tempDir('doppel-cli-dupes-');
const db = path.join(tmp, 'library.sqlite');
const home = path.join(tmp, 'home');
const trashFiles = path.join(home, 'data', 'Trash', 'files');
const lib = path.join(tmp, 'library');
const dir = (name: string): string => path.join(lib, name);

function doppel(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--db', db], {
    encoding: 'utf8',
    env: {
      ...process.env,
      DOPPEL_HOME: path.join(tmp, 'doppel-home'),
      HOME: home,
      XDG_DATA_HOME: path.join(home, 'data'),
    },
    timeout: 300_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface GroupLine {
  kind: string;
  reference: string;
  keeper: string;
  members: { path: string; score: number; photoId: number; keep: boolean }[];
}

function dupesJson(...args: string[]): GroupLine[] {
  const r = doppel('dupes', '--json', ...args);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as GroupLine);
}

const withoutIds = (groups: GroupLine[]) =>
  groups.map((g) => ({ ...g, members: g.members.map(({ photoId: _id, ...m }) => m) }));
const digest = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

const originals: string[] = [];
/** [original, copy, kind the pair must be grouped as] */
const pairs: [string, string, 'exact' | 'near'][] = [];
let near: number;

beforeAll(async () => {
  expect(fs.existsSync(path.join(REPO, 'out', 'cli', 'doppel.js'))).toBe(true);
  fs.mkdirSync(home, { recursive: true });
  for (const [i, src] of photos('CSun_Hays80', 10).entries()) {
    const dest = path.join(dir('originals'), path.basename(src));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(src, dest);
    originals.push(dest);
    const copy = (name: string): string => path.join(dir(i === 3 ? 'ref' : 'copies'), name);
    fs.mkdirSync(dir('copies'), { recursive: true });
    fs.mkdirSync(dir('ref'), { recursive: true });
    if (i === 0 || i === 3) {
      fs.copyFileSync(src, copy(path.basename(src)));
      pairs.push([dest, copy(path.basename(src)), 'exact']);
    } else if (i === 1) {
      const width = (await sharp(src).metadata()).width!;
      await sharp(src)
        .resize(Math.round(width * 0.6))
        .toFile(copy('resized.jpg'));
      pairs.push([dest, copy('resized.jpg'), 'near']);
    } else if (i === 2) {
      await sharp(src).jpeg({ quality: 60 }).toFile(copy('q60.jpg'));
      pairs.push([dest, copy('q60.jpg'), 'near']);
    }
  }
  const indexed = doppel('index', dir('originals'), dir('copies'), dir('ref'), '--json');
  expect(indexed.status).toBe(0);
  // Calibrate the near threshold as a user would: the similarity of each edited copy to its original, less a
  // margin of 0.001 (the shipped seed model's card has no calibrated thresholds; when it does and every
  // edited copy reaches its near threshold, that one is kept).
  const edited = pairs.filter(([, , kind]) => kind === 'near');
  const similar = doppel('similar', ...edited.map(([, copy]) => copy), '-k', '3', '--json');
  expect(similar.status).toBe(0);
  const scores = similar.stdout
    .trim()
    .split('\n')
    .map((l, i) => {
      const { results } = JSON.parse(l) as { results: { path: string; score: number }[] };
      return results.find((r) => r.path === edited[i]![0])!.score;
    });
  const settings = JSON.parse(doppel('config', '--json').stdout) as {
    nearThreshold: number;
    sources: { nearThreshold: string };
  };
  const lowest = Math.min(...scores);
  near =
    settings.sources.nearThreshold === 'model-card' && lowest >= settings.nearThreshold
      ? settings.nearThreshold
      : lowest - 0.001;
  const set = doppel('config', 'set', 'near-threshold', String(near), '--json');
  expect(set.status).toBe(0);
  expect(JSON.parse(set.stdout)).toMatchObject({ nearThreshold: near, sources: { nearThreshold: 'setting' } });
}, 300_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('doppel dupes', () => {
  it('prints one JSON object per group with every photo of the group in members', () => {
    const groups = dupesJson();
    for (const g of groups) {
      expect(Object.keys(g)).toEqual(['kind', 'reference', 'keeper', 'members']);
      expect(['exact', 'near', 'similar']).toContain(g.kind);
      for (const m of g.members) {
        expect(path.isAbsolute(m.path)).toBe(true);
        expect(m.score).toEqual(expect.any(Number));
      }
      const paths = g.members.map((m) => m.path);
      expect(paths).toContain(g.reference);
      expect(paths).toContain(g.keeper);
    }
    for (const [original, copy, kind] of pairs) {
      const g = groups.find((x) => x.members.some((m) => m.path === copy));
      expect(g?.kind, copy).toBe(kind);
      expect(g!.members.map((m) => m.path)).toEqual(expect.arrayContaining([original, copy]));
    }
    expect(groups).toHaveLength(pairs.length);
    expect(groups.every((g) => g.members.length === 2)).toBe(true);
  });

  it('prints CSV: a header, then one row per member', () => {
    const groups = dupesJson();
    const r = doppel('dupes', '--csv');
    expect(r.status).toBe(0);
    const [header, ...rows] = r.stdout.trimEnd().split('\r\n');
    expect(header).toBe(CSV_COLUMNS.join(','));
    expect(rows).toHaveLength(groups.reduce((n, g) => n + g.members.length, 0));
    // The temp paths hold no commas or quotes, so a plain split reads the rows.
    const cells = rows.map((row) => row.split(','));
    expect(cells.map((c) => [Number(c[0]), c[1], c[4]])).toEqual(
      groups.flatMap((g, i) => g.members.map((m) => [i + 1, g.kind, m.path])),
    );
  });

  it('says under each verified copy what it is against the photo kept, in text and in CSV', () => {
    const r = doppel('dupes');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    const under = (file: string): string | undefined =>
      lines[lines.findIndex((l) => l.includes(`  ${file}`)) + 1]?.trim();
    const resized = pairs.find(([, copy]) => copy.endsWith('resized.jpg'))![1];
    const q60 = pairs.find(([, copy]) => copy.endsWith('q60.jpg'))![1];
    expect(under(resized)).toMatch(/^resized to \d+×\d+$/);
    expect(under(q60)).toBe('re-encoded');
    const rows = doppel('dupes', '--csv').stdout.trimEnd().split('\r\n').slice(1);
    expect(
      rows
        .find((row) => row.includes(q60))!
        .split(',')
        .at(-1),
    ).toBe('re-encoded');
    // An exact copy says so; the photo kept says nothing.
    const [original, copy] = pairs.find(
      ([, c, kind]) => kind === 'exact' && c.includes(`${path.sep}copies${path.sep}`),
    )!;
    const exactRows = rows.map((row) => row.split(',')).filter((c) => c[4] === original || c[4] === copy);
    expect(exactRows.map((c) => c.at(-1)).sort()).toEqual(['', 'exact copy']);
  });

  it("reads an unchanged library's last scan back and says so; --rescan searches again", () => {
    expect(doppel('dupes').status).toBe(0);
    const kept = doppel('dupes');
    expect(kept.status).toBe(0);
    expect(kept.stderr).toContain("nothing changed since the last scan: its groups ('--rescan'");
    const rescanned = doppel('dupes', '--rescan');
    expect(rescanned.status).toBe(0);
    expect(rescanned.stderr).not.toContain('nothing changed');
    expect(rescanned.stdout).toBe(kept.stdout);
  });

  it('moves nothing in a dry run, and never lists a photo of a reference folder', () => {
    expect(doppel('reference', dir('ref')).status).toBe(0);
    const groups = dupesJson();
    const refCopy = pairs.find(([, copy]) => copy.startsWith(dir('ref')))![1];
    expect(groups.find((g) => g.members.some((m) => m.path === refCopy))!.keeper).toBe(refCopy);
    const r = doppel('dupes', '--trash', '--dry-run');
    expect(r.status).toBe(0);
    const planned = groups.flatMap((g) => g.members.filter((m) => !m.keep).map((m) => m.path));
    expect(r.stdout.split('\n').filter((l) => l.startsWith('would move'))).toEqual(
      planned.map((p) => `would move to the trash: ${p}`),
    );
    expect(r.stdout).toContain(`${planned.length} file(s) would be moved to the trash (dry run: nothing changed)`);
    expect(r.stdout).not.toContain(refCopy);
    for (const g of groups) for (const m of g.members) expect(fs.existsSync(m.path)).toBe(true);
    expect(fs.existsSync(trashFiles)).toBe(false);
    const undo = doppel('undo');
    expect(undo.status).toBe(1);
    expect(undo.stderr).toBe('doppel: Nothing to undo: no action on files is waiting to be undone\n');
  });

  it('never moves a look-alike: --trash takes the exact and near members only', () => {
    // A low look-alike threshold makes look-alike groups of these distinct scenes.
    const groups = dupesJson('--tier', 'exact', 'near', 'similar', '--similar', '0.3');
    const lookAlikes = groups.filter((g) => g.kind === 'similar').flatMap((g) => g.members.map((m) => m.path));
    expect(lookAlikes.length).toBeGreaterThan(0);
    const r = doppel('dupes', '--tier', 'exact', 'near', 'similar', '--similar', '0.3', '--trash', '--dry-run');
    expect(r.status).toBe(0);
    const planned = groups
      .filter((g) => g.kind !== 'similar')
      .flatMap((g) => g.members.filter((m) => !m.keep).map((m) => m.path));
    expect(r.stdout.split('\n').filter((l) => l.startsWith('would move'))).toEqual(
      planned.map((p) => `would move to the trash: ${p}`),
    );
    expect(r.stderr).toContain('look-alikes are not moved by --trash');
  });

  it('moves the extra copies to the trash, and undo puts them back byte-identical and indexed', () => {
    const before = dupesJson();
    const moved = before.flatMap((g) => g.members.filter((m) => !m.keep).map((m) => m.path));
    const digests = moved.map(digest);
    const r = doppel('dupes', '--trash');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${moved.length} file(s) moved to the trash; 'doppel undo' puts them back`);
    for (const p of moved) expect(fs.existsSync(p), p).toBe(false);
    expect(fs.readdirSync(trashFiles)).toHaveLength(moved.length);
    expect(dupesJson()).toEqual([]);

    const undo = doppel('undo', '--json');
    expect(undo.status).toBe(0);
    expect(JSON.parse(undo.stdout)).toMatchObject({ restored: moved, failed: [], reindexed: moved.length });
    expect(moved.map(digest)).toEqual(digests);
    expect(fs.readdirSync(trashFiles)).toEqual([]);
    expect(withoutIds(dupesJson())).toEqual(withoutIds(before));
  });

  it("says undo will not retry a file whose place a file of the user's has taken", () => {
    const moved = dupesJson().flatMap((g) => g.members.filter((m) => !m.keep).map((m) => m.path));
    expect(doppel('dupes', '--trash').status).toBe(0);
    const taken = moved[0]!;
    fs.writeFileSync(taken, "the user's new file");
    const undo = doppel('undo');
    expect(undo.status).not.toBe(0);
    expect(undo.stderr).toContain(
      '1 file(s) could not be put back; restore them from the trash yourself; the next undo goes on to the action before',
    );
    expect(fs.readFileSync(taken, 'utf8')).toBe("the user's new file");
    for (const p of moved.slice(1)) expect(fs.existsSync(p), p).toBe(true);
    expect(doppel('undo').stderr).toContain('Nothing to undo');
    // Leave the library as the other tests expect it: the moved photo back in its place.
    fs.rmSync(taken);
    const inTrash = fs.readdirSync(trashFiles).map((f) => path.join(trashFiles, f));
    expect(inTrash).toHaveLength(1);
    fs.renameSync(inTrash[0]!, taken);
    expect(doppel('index', path.dirname(taken)).status).toBe(0);
  });

  it('remembers "not a duplicate" answers until told to forget them', () => {
    const [original, copy] = pairs.find(([, , kind]) => kind === 'near')!;
    expect(doppel('not-dupe', original, copy).status).toBe(0);
    expect(dupesJson().some((g) => g.members.some((m) => m.path === copy))).toBe(false);
    expect(doppel('not-dupe', original, copy, '--forget').status).toBe(0);
    expect(dupesJson().some((g) => g.members.some((m) => m.path === copy))).toBe(true);
    const outside = doppel('not-dupe', original, path.join(tmp, 'elsewhere.jpg'));
    expect(outside.status).toBe(1);
    expect(outside.stderr).toBe(`doppel: ${path.join(tmp, 'elsewhere.jpg')} is not a photo of the library\n`);
  });

  it('shows and takes similarities on one scale: a percentage with two decimals', () => {
    // What the text output shows is the JSON score (the cosine) as formatSimilarity writes it.
    const json = dupesJson('--rescan');
    const text = doppel('dupes', '--rescan').stdout;
    for (const m of json.flatMap((g) => g.members)) expect(text).toContain(`${formatSimilarity(m.score)}  ${m.path}`);
    const list = doppel('config', 'list').stdout;
    const settings = JSON.parse(doppel('config', '--json').stdout) as { nearThreshold: number };
    expect(list).toMatch(
      new RegExp(`^near-threshold +${formatSimilarity(settings.nearThreshold).replace('.', '\\.')}$`, 'm'),
    );
    expect(list).not.toMatch(/0\.\d{5,}/); // no raw cosine with all its digits
    try {
      // Typed as a percentage or as a cosine: the same setting.
      const pct = JSON.parse(doppel('config', 'set', 'near-threshold', '95.12%', '--json').stdout) as typeof settings;
      expect(pct.nearThreshold).toBe(0.9512);
      const cos = JSON.parse(doppel('config', 'set', 'near-threshold', '0.9513', '--json').stdout) as typeof settings;
      expect(cos.nearThreshold).toBe(0.9513);
      expect(doppel('dupes', '--near', '97%', '--json').status).toBe(0);
      const bad = doppel('config', 'set', 'near-threshold', '120%');
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/is not a similarity/);
    } finally {
      expect(doppel('config', 'set', 'near-threshold', String(near)).status).toBe(0);
    }
  });

  it('refuses to trash on a threshold nobody calibrated for the model', () => {
    expect(doppel('config', 'unset', 'near-threshold').status).toBe(0);
    try {
      const after = JSON.parse(doppel('config', '--json').stdout) as { sources: { nearThreshold: string } };
      if (after.sources.nearThreshold !== 'fallback') return; // a model card with calibrated thresholds
      const r = doppel('dupes', '--trash');
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^doppel: Refusing to move files to the trash: the near threshold is Doppel's fallback/);
      expect(fs.existsSync(trashFiles) ? fs.readdirSync(trashFiles) : []).toEqual([]);
      // Tier by tier: exact copies need no threshold.
      expect(doppel('dupes', '--trash', '--dry-run', '--tier', 'exact').status).toBe(0);
    } finally {
      expect(doppel('config', 'set', 'near-threshold', String(near)).status).toBe(0);
    }
  });

  it('sets and resets the library settings: exclude globs and watching', () => {
    const set = doppel('config', 'set', 'exclude', '**/Thumbs/**', '*.{gif,bmp}', '--json');
    expect(set.status).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ exclude: ['**/Thumbs/**', '*.{gif,bmp}'] });
    const off = doppel('config', 'set', 'watch', 'off', '--json');
    expect(JSON.parse(off.stdout)).toMatchObject({ watch: false, exclude: ['**/Thumbs/**', '*.{gif,bmp}'] });
    // `doppel index` honours the library's exclude setting.
    const photosNow = (): number => (JSON.parse(doppel('info', '--json').stdout) as { photos: number }).photos;
    const before = photosNow();
    const thumbs = path.join(dir('originals'), 'Thumbs');
    fs.mkdirSync(thumbs);
    fs.copyFileSync(originals[0]!, path.join(thumbs, 'excluded.jpg'));
    try {
      expect(doppel('index', dir('originals')).status).toBe(0);
      expect(photosNow()).toBe(before);
      expect(doppel('config', 'unset', 'exclude').status).toBe(0);
      expect(doppel('index', dir('originals')).status).toBe(0);
      expect(photosNow()).toBe(before + 1);
    } finally {
      fs.rmSync(thumbs, { recursive: true });
      expect(doppel('index', dir('originals')).status).toBe(0);
    }
    expect(photosNow()).toBe(before);
    expect(doppel('config', 'unset', 'watch').status).toBe(0);
    expect(JSON.parse(doppel('config', '--json').stdout)).toMatchObject({ exclude: [], watch: true });
  });

  it('exits 2 on wrong usage and 1 with a one-line message on a bad setting', () => {
    expect(doppel('dupes', '--dry-run').status).toBe(2);
    expect(doppel('dupes', '--csv', '--json').status).toBe(2);
    expect(doppel('dupes', '--near', '1.5').status).toBe(2);
    const nan = doppel('config', 'set', 'near-threshold', 'high');
    expect([nan.status, nan.stderr]).toEqual([
      1,
      'doppel: near-threshold: "high" is not a similarity (96.5% or 0.965)\n',
    ]);
    const rule = doppel('config', 'set', 'keeper-rules', 'resolution,biggest');
    expect(rule.status).toBe(1);
    expect(rule.stderr).toMatch(/^doppel: Unknown keeper rule "biggest"; the rules are original, resolution, exif/);
    const watch = doppel('config', 'set', 'watch', 'sometimes');
    expect([watch.status, watch.stderr]).toEqual([1, 'doppel: watch takes on or off\n']);
    const above = doppel('dupes', '--near', '0.5', '--similar', '0.9');
    expect([above.status, above.stderr]).toEqual([
      1,
      'doppel: The similar threshold (90.00%) must not be above the near-duplicate threshold (50.00%)\n',
    ]);
  });
});
