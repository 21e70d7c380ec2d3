// doppel: the headless command line. Exit status 0 on success, 1 on failure (one line on stderr),
// 2 on wrong usage.
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { DoppelError, type IndexProgress, type SimilarResult } from '../shared/api.js';
import { formatSimilarity } from '../shared/similarity.js';
import { imageToModelInput, sideBySidePng } from '../core/imaging/analyze.js';
import { defaultDbPath, defaultModelsDir } from '../core/paths.js';
import { DoppelService } from '../core/service.js';
import { registerDupes } from './dupes.js';
import { registerServe } from './serve.js';
import { registerIntegrate } from './integrate/index.js';
import { intOption } from './options.js';
import { bar, formatDuration, printJson, quietWhenClosed, StatusLine, terminalSafe } from './output.js';
import { registerEval } from './eval.js';
import { registerTrain } from './train.js';

interface Common {
  db: string;
  models: string;
  model?: string;
  json?: boolean;
}

function withCommon(cmd: Command, withDb = true): Command {
  if (withDb) cmd.option('--db <path>', 'library database', defaultDbPath());
  return cmd
    .option('--models <dir>', 'models folder', defaultModelsDir())
    .option('--model <name>', 'model to use (default: the one models/models.json names)')
    .option('--json', 'machine-readable output on stdout', false);
}

async function openService(o: Common, startIndexer = false): Promise<DoppelService> {
  return DoppelService.open({ dbPath: o.db, modelsDir: path.resolve(o.models), model: o.model, startIndexer });
}

/** Reads of the commands run so far that were given up on and still wait for their drive (see main). */
let unanswered = 0;

async function withService<T>(
  o: Common,
  fn: (s: DoppelService) => Promise<T>,
  opts: { startIndexer?: boolean } = {},
): Promise<T> {
  const service = await openService(o, opts.startIndexer);
  try {
    return await fn(service);
  } finally {
    await service.close();
    unanswered += service.unansweredReads();
  }
}

function readImage(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DoppelError(code === 'ENOENT' ? 'not-found' : 'io', `Cannot read ${file}: ${code ?? String(err)}`);
  }
}

/** The path a query file has in the library, if it is there (the library keeps real paths). */
function libraryPathOf(file: string): string {
  try {
    return fs.realpathSync(path.resolve(file));
  } catch {
    return path.resolve(file);
  }
}

/** One line of indexing progress: phase, done/total, rate and time left. */
function progressLine(p: IndexProgress): string {
  if (p.phase === 'scan') return `scanning  ${p.done} files`;
  if (p.phase === 'done') return `indexed   ${p.done}/${p.total}`;
  const rate = p.rate > 0 ? `${p.rate.toFixed(1)} photos/s` : '-- photos/s';
  return `indexing  ${bar(p.done, p.total)} ${p.done}/${p.total}  ${rate}  ETA ${formatDuration(p.etaMs)}`;
}

export function buildProgram(): Command {
  const program = new Command('doppel')
    .description('Find similar and duplicate photos with a small convolutional autoencoder.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();

  withCommon(
    program
      .command('index')
      .description('add folders to the library and index them (incremental)')
      .argument('<folder...>', 'folders of photos')
      .option('--exclude <glob...>', 'also skip paths matching these globs (relative to the folder)')
      // No default: left out, each folder keeps its saved setting (off for a folder added now).
      .option('--follow-symlinks', 'follow symbolic links in these folders, now and in every later scan')
      .option('--no-follow-symlinks', 'stop following symbolic links in these folders'),
  ).action(async (folders: string[], o: Common & { exclude?: string[]; followSymlinks?: boolean }) => {
    await withService(
      o,
      async (service) => {
        const added = [];
        const follow = o.followSymlinks === undefined ? {} : { followSymlinks: o.followSymlinks };
        for (const folder of folders) added.push(await service.addFolder(path.resolve(folder), follow));
        const status = new StatusLine();
        const off = service.on('progress', (p) => status.update(progressLine(p), p.phase === 'done'));
        // The library's exclude setting (also what the app and `doppel watch` use) plus this run's --exclude.
        const exclude = [...(await service.getSettings()).exclude, ...(o.exclude ?? [])];
        const summary = await service.indexFolders(added, { exclude });
        off();
        status.done();
        const photos = service.countPhotos();
        if (o.json) {
          printJson({ ...summary, photos, db: service.dbPath });
        } else {
          process.stdout.write(
            `${summary.scanned} files scanned: ${summary.added} added, ${summary.updated} updated, ` +
              `${summary.unchanged} unchanged, ${summary.removed} removed, ${summary.errors.length} could not be indexed ` +
              `(${(summary.durationMs / 1000).toFixed(1)} s). Library: ${photos} photos.\n`,
          );
          for (const e of summary.errors) process.stdout.write(`  ! ${terminalSafe(`${e.path}: ${e.reason}`)}\n`);
          for (const f of summary.offlineFolders) process.stdout.write(`  offline (photos kept): ${terminalSafe(f)}\n`);
        }
      },
      { startIndexer: true },
    );
  });

  withCommon(
    program
      .command('similar')
      .description('list the library photos most similar to each image (inside or outside the library)')
      .argument('<image...>', 'query images')
      .option('-k, --k <n>', 'number of results per query', intOption, 10),
  ).action(async (images: string[], o: Common & { k: number }) => {
    await withService(o, async (service) => {
      const buffers = images.map(readImage);
      let all: SimilarResult[][];
      const failed = new Map<number, string>(); // images that do not decode, with the reason
      const asked = o.k + 1; // one more: the query itself may be among them
      try {
        all = await service.similarToImages(buffers, asked);
      } catch (err) {
        // One image that does not decode fails the batch: name each such file, answer the others.
        await Promise.all(
          buffers.map((b, i) =>
            imageToModelInput(b, service.model.inputSpec).catch((e: unknown) => failed.set(i, (e as Error).message)),
          ),
        );
        if (failed.size === 0) throw err;
        const good = images.flatMap((_, i) => (failed.has(i) ? [] : [i]));
        const found =
          good.length > 0
            ? await service.similarToImages(
                good.map((i) => buffers[i]!),
                asked,
              )
            : [];
        all = images.map(() => []);
        good.forEach((i, n) => (all[i] = found[n]!));
      }
      images.forEach((query, i) => {
        if (failed.has(i)) return;
        // A query that is a library photo is shown apart, as the app does: never as its own first result.
        const self = libraryPathOf(query);
        const results = all[i]!.filter((r) => r.photo.path !== self)
          .slice(0, o.k)
          .map((r) => ({ path: r.photo.path, score: r.score }));
        if (o.json) printJson({ query, results });
        else {
          process.stdout.write(`${terminalSafe(query)}\n`);
          for (const r of results) {
            process.stdout.write(`  ${formatSimilarity(r.score).padStart(7)}  ${terminalSafe(r.path)}\n`);
          }
        }
      });
      for (const [i, reason] of failed) process.stderr.write(`doppel: ${terminalSafe(`${images[i]}: ${reason}`)}\n`);
      if (failed.size > 0) {
        throw new DoppelError('decode-failed', `${failed.size} of ${images.length} image(s) could not be read`);
      }
    });
  });

  withCommon(
    program
      .command('watch')
      .description('add folders to the library and keep it in sync with them until stopped (Ctrl-C)')
      .argument('<folder...>', 'folders of photos')
      .option('--poll', 'poll for changes instead of relying on file system notifications (network drives)', false),
  ).action(async (folders: string[], o: Common & { poll: boolean }) => {
    await withService(
      o,
      async (service) => {
        const ids: number[] = [];
        for (const folder of folders) ids.push((await service.addFolder(path.resolve(folder))).id);
        const status = new StatusLine(o.json);
        const offProgress = service.on('progress', (p) => status.update(progressLine(p)));
        const offChanged = service.on('libraryChanged', (c) => {
          status.done();
          if (o.json) printJson({ event: 'synced', ...c });
          else if (c.added + c.updated + c.removed > 0) {
            process.stdout.write(`${c.added} added, ${c.updated} updated, ${c.removed} removed\n`);
          }
        });
        const offError = service.onWatchError((message) => process.stderr.write(`doppel: ${terminalSafe(message)}\n`));
        const stopped = new Promise<string>((resolve) => {
          process.once('SIGINT', () => resolve('SIGINT'));
          process.once('SIGTERM', () => resolve('SIGTERM'));
        });
        const started = await service.startWatching({ folderIds: ids, polling: o.poll ? 'always' : 'auto' });
        if (!started.watching) {
          throw new DoppelError('invalid-argument', 'Watching is turned off in the settings ("watch": false)');
        }
        const photos = service.countPhotos();
        if (o.json) printJson({ event: 'watching', folders: folders.map((f) => path.resolve(f)), photos });
        else process.stdout.write(`watching ${folders.length} folder(s), ${photos} photos; Ctrl-C to stop\n`);
        const signal = await stopped;
        await service.stopWatching();
        offProgress();
        offChanged();
        offError();
        status.done();
        if (o.json) printJson({ event: 'stopped', signal });
        else process.stdout.write(`stopped (${signal})\n`);
      },
      { startIndexer: true },
    );
  });

  registerDupes(program, { withCommon, withService });
  registerServe(program, { withCommon, withService });
  registerIntegrate(program);

  withCommon(
    program
      .command('reconstruct')
      .description("write the model's input and its reconstruction side by side as a PNG")
      .argument('<image>', 'an image')
      .requiredOption('--out <png>', 'output PNG')
      .option('--scale <n>', 'upscaling factor', intOption, 8),
    false,
  ).action(async (image: string, o: Common & { out: string; scale: number }) => {
    const { Autoencoder } = await import('../core/model/autoencoder.js'); // TensorFlow.js only where it is needed
    const model = await Autoencoder.load(path.resolve(o.models), o.model);
    const input = await imageToModelInput(readImage(image), model.inputSpec).catch((err: unknown) => {
      throw new DoppelError('decode-failed', `${image}: ${(err as Error).message}`);
    });
    const { output, mse } = model.reconstruct(input);
    const png = await sideBySidePng(input, output, model.inputSize, Math.max(1, o.scale));
    fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
    fs.writeFileSync(o.out, png);
    if (o.json) printJson({ image, out: path.resolve(o.out), model: model.name, mse });
    else
      process.stdout.write(`${terminalSafe(o.out)}: input | reconstruction by ${model.name} (MSE ${mse.toFixed(5)})\n`);
    model.dispose();
  });

  withCommon(
    program
      .command('info')
      .description('library summary: photos, errors, model, backend, database')
      .option('--errors', 'list the files that could not be indexed, with the reason', false),
  ).action(async (o: Common & { errors: boolean }) => {
    await withService(o, async (service) => {
      const info = await service.info();
      const errors = o.errors ? await service.listErrors() : undefined;
      if (o.json) {
        printJson({ ...info, backend: info.model.backend, ...(errors ? { errorFiles: errors } : {}) });
        return;
      }
      process.stdout.write(
        `photos:   ${info.photos}\nerrors:   ${info.errors}\nfolders:  ${info.folders}\n` +
          `model:    ${info.model.name} (${info.model.dim}-d, ${info.model.inputSize}x${info.model.inputSize} input)\n` +
          `backend:  ${info.model.backend}\ndatabase: ${terminalSafe(info.dbPath)}\n`,
      );
      for (const e of errors ?? []) process.stdout.write(`  ! ${terminalSafe(`${e.path}: ${e.reason}`)}\n`);
    });
  });

  registerTrain(program);
  registerEval(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  quietWhenClosed(process.stdout);
  quietWhenClosed(process.stderr);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return endingDespiteUnansweredReads(0);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; everything else commander rejects is wrong usage.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`doppel: ${terminalSafe(message.split('\n')[0]!)}\n`);
    return endingDespiteUnansweredReads(1);
  }
}

/**
 * `code`, unless reads given up on still wait for a drive that stopped answering (a hung network share): each
 * holds one of libuv's threads, and Node's exit (even process.exit) waits for them, for good. By now the library
 * is closed and every line written, so the process ends itself with SIGKILL (exit status 137), which ends those
 * threads too.
 */
function endingDespiteUnansweredReads(code: number): number {
  if (unanswered === 0) return code;
  process.stderr.write(
    `doppel: ${unanswered} read(s) of a drive that stopped answering are still waiting; ending the process\n`,
  );
  process.kill(process.pid, 'SIGKILL');
  return code;
}
