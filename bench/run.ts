// `npm run bench`: Doppel's speed figures as JSON on stdout (progress on stderr).
// Sections: index (photos/s on ../shared/data/photos, and the unchanged re-run), encode (thumbnails/s
// per backend, each in its own process). `npm run bench -- --only encode` runs one section.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultModelsDir } from '../src/core/paths.js';
import { DoppelService } from '../src/core/service.js';

const PHOTOS = path.resolve(import.meta.dirname, '../../shared/data/photos');
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const log = (m: string): void => void process.stderr.write(`${m}\n`);

async function indexBench(): Promise<Record<string, unknown>> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'doppel-bench-'));
  try {
    const service = await DoppelService.open({ dbPath: path.join(tmp, 'bench.sqlite'), modelsDir: defaultModelsDir() });
    const folder = await service.addFolder(PHOTOS);
    const first = await service.indexFolders([folder]);
    const second = await service.indexFolders([folder]);
    const info = await service.info();
    await service.close();
    const result = {
      photos: info.photos,
      model: info.model.name,
      backend: info.model.backend,
      firstRunSeconds: first.durationMs / 1000,
      photosPerSecond: Number((first.added / (first.durationMs / 1000)).toFixed(1)),
      unchangedRunSeconds: second.durationMs / 1000,
      unchangedToFirstRatio: Number((second.durationMs / first.durationMs).toFixed(4)),
    };
    log(
      `index: ${result.photos} photos at ${result.photosPerSecond}/s; unchanged re-run ${result.unchangedRunSeconds}s`,
    );
    return result;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function encodeBench(): Record<string, unknown>[] {
  return ['wasm', 'tensorflow'].map((backend) => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'encode.ts'), backend],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    log(
      `encode on ${backend}: ${r.available ? `${String(r.thumbnailsPerSecond)} thumbnails/s` : `unavailable (${String(r.reason)})`}`,
    );
    return r;
  });
}

const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version },
};
if (!only || only === 'index') report.index = await indexBench();
if (!only || only === 'encode') report.encode = encodeBench();
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
