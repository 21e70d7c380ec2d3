// Two shots of one scene a moment apart (imagenette's n03394916_44815 and _44936: a girl with a horn, the boy behind
// her moved) and a crop of the first: the second shot's keypoints fit the crop (85 inliers, 9 of 16 cells), while
// measured against the first shot it is another picture. The crop and its original are near duplicates; the other
// shot must not be grouped with them nor selected for the trash.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTACKS, decodeOriginal } from '../../src/core/eval/attacks.js';
import { defaultModelsDir } from '../../src/core/paths.js';
import { DoppelService } from '../../src/core/service.js';
import { DATA, tempDir } from '../helpers.js';

const shot = (n: string) => path.join(DATA, 'imagenette/train/n03394916', `n03394916_${n}.JPEG`);

describe('another shot of a scene that fits a crop of the first', () => {
  const tmp = tempDir('doppel-burst-');
  const lib = path.join(tmp, 'library');
  let service: DoppelService;
  const first = path.join(lib, 'first.jpg');
  const second = path.join(lib, 'second.jpg');
  const crop = path.join(lib, 'copies', 'IMG_2001.jpg');

  beforeAll(async () => {
    fs.mkdirSync(path.dirname(crop), { recursive: true });
    fs.copyFileSync(shot('44815'), first);
    fs.copyFileSync(shot('44936'), second);
    const crop80 = ATTACKS.find((a) => a.id === 'crop80')!;
    fs.writeFileSync(crop, await crop80.apply(await decodeOriginal(fs.readFileSync(first))));
    service = await DoppelService.open({ dbPath: path.join(tmp, 'library.sqlite'), modelsDir: defaultModelsDir() });
    await service.addFolder(lib);
    expect((await service.indexAll()).errors).toEqual([]);
  }, 120_000);
  afterAll(async () => {
    await service?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('groups the crop with its original only, and selects only the crop for the trash', async () => {
    const groups = await service.findDuplicates({ kinds: ['exact', 'near'] });
    expect(groups.map((g) => [g.kind, g.keeper, g.members.map((m) => m.path).sort()])).toEqual([
      ['near', first, [crop, first].sort()],
    ]);
    const moved = groups.flatMap((g) => g.members.filter((m) => !m.keep).map((m) => m.path));
    expect(moved).toEqual([crop]);
  }, 120_000);
});
