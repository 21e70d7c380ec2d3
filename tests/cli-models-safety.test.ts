// `doppel train` and `doppel fit-views` never overwrite a model that ships with Doppel unless --force says so:
// by default they write to the data folder (DOPPEL_HOME here). --force is tried on a copy of the project (its
// models/, the built CLI and a link to node_modules) so the checkout's shipped models stay as they are.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyInto, photos, REPO, tempDir } from './helpers.js';

const tmp = tempDir('doppel-models-safety-');
const home = path.join(tmp, 'home');
const data = path.join(tmp, 'data');
const MODELS = path.join(REPO, 'models');
const env = { ...process.env, DOPPEL_HOME: home, HOME: home };
const TINY = ['--epochs', '1', '--samples-per-epoch', '8', '--batch', '4'];
const FIT = ['--data', data, '--images', '12', '--skip', '0'];

function doppel(bin: string, ...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env, timeout: 300_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const checkout = (...args: string[]) => doppel(path.join(REPO, 'bin', 'doppel.js'), ...args);

/** One digest over every file of a folder (names and bytes). */
function digest(dir: string): string {
  const hash = crypto.createHash('sha256');
  for (const f of (fs.readdirSync(dir, { recursive: true }) as string[]).sort()) {
    const file = path.join(dir, f);
    if (fs.statSync(file).isFile()) hash.update(f).update(fs.readFileSync(file));
  }
  return hash.digest('hex');
}

interface Card {
  cropViews?: { threshold?: number; encodedThreshold?: number; predictor?: { data: { images: number } } };
}
const card = (dir: string): Card => JSON.parse(fs.readFileSync(path.join(dir, 'card.json'), 'utf8')) as Card;

let shipped: string;

beforeAll(() => {
  copyInto(photos('CBSD68', 16), data);
  shipped = digest(MODELS);
});

afterAll(() => {
  // Whatever happened above, the checkout's models are the shipped ones.
  expect(digest(MODELS)).toBe(shipped);
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('shipped models', () => {
  it('doppel train --data writes its model to the data folder, not models/', () => {
    const r = checkout('train', '--data', data, ...TINY);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`finished 1 epoch(s): ${path.join(home, 'models', 'my-ae32')}`);
    expect(fs.existsSync(path.join(home, 'models', 'my-ae32', 'model.json'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(home, 'models', 'models.json'), 'utf8'))).toEqual({
      default: 'my-ae32',
    });
    expect(digest(MODELS)).toBe(shipped);
  });

  it('doppel train refuses to overwrite a shipped model without --force', () => {
    const r = checkout('train', '--data', data, '--name', 'seed-ae32', '--models', MODELS, ...TINY);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `doppel: ${path.join(MODELS, 'seed-ae32')} is a model that ships with Doppel: pass --force to overwrite it, ` +
        'or choose another --name or --models\n',
    );
    expect(digest(MODELS)).toBe(shipped);
  });

  it("doppel fit-views fits a copy of the default model in the data folder and keeps the shipped one's thresholds", () => {
    const before = card(path.join(MODELS, 'doppel-ae32d'));
    expect(before.cropViews?.threshold).toBeTypeOf('number');
    const r = checkout('fit-views', ...FIT);
    expect(r.status).toBe(0);
    const copy = path.join(home, 'models', 'doppel-ae32d');
    expect(card(copy).cropViews).toMatchObject({ predictor: { data: { images: 11 } } });
    expect(card(copy).cropViews?.threshold).toBeUndefined();
    expect(card(path.join(MODELS, 'doppel-ae32d'))).toEqual(before);
    expect(digest(MODELS)).toBe(shipped);
  });

  it('doppel fit-views refuses to fit a shipped model in place without --force', () => {
    for (const args of [
      ['--out', MODELS],
      ['--model', 'doppel-ae32c', '--out', MODELS],
    ]) {
      const r = checkout('fit-views', ...FIT, ...args);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/is a model that ships with Doppel: pass --force to overwrite it/);
    }
    expect(digest(MODELS)).toBe(shipped);
  });

  it('--force overwrites a shipped model when asked (on a copy of the project)', () => {
    const project = path.join(tmp, 'project');
    fs.mkdirSync(path.join(project, 'models'), { recursive: true });
    fs.copyFileSync(path.join(REPO, 'package.json'), path.join(project, 'package.json'));
    for (const m of ['models.json', 'seed-ae32', 'doppel-ae32d']) {
      fs.cpSync(path.join(MODELS, m), path.join(project, 'models', m), { recursive: true });
    }
    fs.cpSync(path.join(REPO, 'out', 'cli'), path.join(project, 'out', 'cli'), { recursive: true });
    fs.cpSync(path.join(REPO, 'bin'), path.join(project, 'bin'), { recursive: true });
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(project, 'node_modules'));
    const bin = path.join(project, 'bin', 'doppel.js');
    const models = path.join(project, 'models');
    const seed = digest(path.join(models, 'seed-ae32'));
    expect(doppel(bin, 'train', '--data', data, '--name', 'seed-ae32', '--models', models, ...TINY).status).toBe(1);
    expect(digest(path.join(models, 'seed-ae32'))).toBe(seed);
    const trained = doppel(bin, 'train', '--data', data, '--name', 'seed-ae32', '--models', models, '--force', ...TINY);
    expect(trained.status).toBe(0);
    expect(digest(path.join(models, 'seed-ae32'))).not.toBe(seed);

    const fitted = doppel(bin, 'fit-views', ...FIT, '--models', models, '--force');
    expect(fitted.status).toBe(0);
    expect(card(path.join(models, 'doppel-ae32d')).cropViews?.threshold).toBeUndefined();
    expect(card(path.join(models, 'doppel-ae32d')).cropViews?.encodedThreshold).toBeUndefined();
  });
});
