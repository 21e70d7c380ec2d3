// Indexes one folder in a process of its own and prints, as one JSON line, the summary, every photo's record and
// the process's peak resident memory: tests/core/indexer-memory.test.ts runs it, so that what it measures is this
// indexing run alone. Usage: node --import tsx tests/core/index-child.ts <folder> <library dir>
import fs from 'node:fs';
import path from 'node:path';
import { indexFolders } from '../../src/core/indexer/indexer.js';
import { ModelInfo } from '../../src/core/model/card.js';
import { LazyModel } from '../../src/core/model/lazy-model.js';
import { defaultModelsDir } from '../../src/core/paths.js';
import { Store } from '../../src/core/store/repository.js';

const [folder, libraryDir] = process.argv.slice(2);
if (!folder || !libraryDir) throw new Error('usage: index-child.ts <folder> <library dir>');
const store = Store.open(path.join(libraryDir, 'library.sqlite'));
const model = new LazyModel(ModelInfo.read(defaultModelsDir()));
try {
  const added = store.addFolder(folder);
  const summary = await indexFolders(store, model, [added], { thumbnailDir: path.join(libraryDir, 'thumbnails') });
  const photos = store.photosInFolder(added.id);
  /** Linux's own figure for the peak, beside libuv's (both KiB). */
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
  const out = { summary, photos, maxRssKiB: process.resourceUsage().maxRSS, vmHwmKiB: hwm ? Number(hwm) : null };
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  store.close();
  await model.dispose();
}
