import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DoppelError } from '../shared/api.js';
import { ModelInfo } from '../core/model/card.js';
import { defaultModelsDir, isShippedModel, shippedModelsDir, userModelsDir } from '../core/paths.js';
import { bar, formatDuration, StatusLine } from './output.js';
import { intOption, numberOption } from './options.js';

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train an autoencoder on folders of images; resumes from its checkpoint when run again')
    .requiredOption('--data <folder...>', 'folders of training images (searched recursively)')
    .option('--name <name>', 'model name: the output goes to <models>/<name>/', 'my-ae32')
    .option('--arch <id>', 'architecture id', 'seed-conv-ae-32')
    .option('--epochs <n>', 'epochs', intOption, 10)
    .option('--samples-per-epoch <n>', 'samples drawn per epoch (default: the whole training split)', intOption)
    .option('--batch <n>', 'batch size', intOption, 16)
    .option(
      '--lr <rate>',
      'Adam learning rate (a resumed run may go on with another; the card records each)',
      numberOption,
      1e-3,
    )
    .option('--val <fraction>', 'fraction held out for validation', numberOption, 0.02)
    .option('--max-val <n>', 'at most this many validation images', intOption, 1000)
    .option('--seed <n>', 'random seed', intOption, 1)
    .option('--budget <minutes>', 'stop with a checkpoint after this many minutes', numberOption)
    .option('--checkpoint-every <seconds>', 'seconds between checkpoints', intOption, 120)
    .option('--checkpoint-dir <dir>', 'checkpoint folder (default: .train/<name> beside the models folder)')
    .option('--models <dir>', "models folder the model is written to (default: Doppel's data folder)", userModelsDir())
    .option('--force', 'overwrite a shipped model of that name (models/ of Doppel)', false)
    .option('--fresh', 'ignore an existing checkpoint and start over', false)
    .option('--contrastive <weight>', 'weight of the contrastive term for invariant architectures', numberOption, 0)
    .option(
      '--init <model>',
      'start from the weights of this model in the models folder (same architecture; for doppel-ae32-detail, a doppel-ae32-inv model whose encoder it keeps)',
    )
    .option('--decoder-only', 'refit only the decoder of the --init model on clean images (vectors unchanged)', false)
    .action(async (o: Record<string, unknown>) => {
      const status = new StatusLine();
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const name = o.name as string;
      const modelsDir = path.resolve(o.models as string);
      refuseShipped(path.join(modelsDir, name), o.force as boolean, 'another --name or --models');
      const init = o.init as string | undefined;
      if (init) copyShippedInto(modelsDir, init, (m) => status.done(m));
      const { train } = await import('../core/training/train.js'); // TensorFlow.js only for this command
      const result = await train({
        name,
        modelsDir,
        architecture: o.arch as string,
        data: o.data as string[],
        epochs: o.epochs as number,
        samplesPerEpoch: o.samplesPerEpoch as number | undefined,
        batchSize: o.batch as number,
        learningRate: o.lr as number,
        validationFraction: o.val as number,
        maxValidation: o.maxVal as number,
        seed: o.seed as number,
        budgetMinutes: o.budget as number | undefined,
        checkpointEverySec: o.checkpointEvery as number,
        checkpointDir: path.resolve(
          (o.checkpointDir as string | undefined) ?? path.join(path.dirname(modelsDir), '.train', name),
        ),
        fresh: o.fresh as boolean,
        contrastive: o.contrastive as number,
        init: o.init as string | undefined,
        decoderOnly: o.decoderOnly as boolean,
        command: `doppel ${process.argv.slice(2).join(' ')}`,
        signal: controller.signal,
        onLog: (m) => status.done(m),
        onProgress: (p) =>
          status.update(
            `epoch ${p.epoch}/${p.epochs} ${bar(p.step, p.steps)} loss ${p.loss.toFixed(5)} ` +
              `${p.rate.toFixed(1)} img/s ETA ${formatDuration(p.etaMs)}`,
          ),
      });
      status.done(
        result.status === 'finished'
          ? `finished ${result.epochsDone} epoch(s): ${result.modelDir}`
          : `stopped after ${result.epochsDone} complete epoch(s); run the same command to resume`,
      );
      if (result.status === 'finished') {
        writeModelsIndexIfMissing(modelsDir, name);
        status.done(useWith(modelsDir, name));
      }
    });

  program
    .command('fit-views')
    .description(
      "fit a model's corner-view predictor (find cropped copies) on folders of images; run `doppel eval --write-card` after",
    )
    .requiredOption('--data <folder...>', 'folders of images (searched recursively)')
    .option('--model <name>', 'model (default: the default model)')
    .option('--images <n>', 'images to fit on (sampled)', intOption, 4000)
    .option(
      '--skip <n>',
      "leave out the first N files, in the order they are walked (doppel eval's distractors)",
      intOption,
      2000,
    )
    .option('--held-out <fraction>', 'share of the images held out to measure the fit', numberOption, 0.1)
    .option('--lambda <value>', 'ridge penalty', numberOption, 0.1)
    .option('--seed <n>', 'random seed', intOption, 1)
    .option('--models <dir>', 'models folder the model is read from', defaultModelsDir())
    .option('--out <dir>', "models folder the fitted model is written to (default: Doppel's data folder)")
    .option('--force', 'fit a shipped model in place (replaces its views and drops its calibrated thresholds)', false)
    .action(async (o: Record<string, unknown>) => {
      const status = new StatusLine();
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      const source = ModelInfo.read(path.resolve(o.models as string), o.model as string | undefined);
      const force = o.force as boolean;
      const out = path.resolve((o.out as string | undefined) ?? (force ? (o.models as string) : userModelsDir()));
      const dest = path.join(out, source.name);
      refuseShipped(dest, force, '--out <folder> (default: a copy in the data folder)');
      if (path.resolve(dest) !== path.resolve(source.dir) && !fs.existsSync(path.join(dest, 'model.json'))) {
        fs.mkdirSync(out, { recursive: true });
        fs.cpSync(source.dir, dest, { recursive: true });
        status.done(`copied ${source.dir} to ${dest}`);
      }
      writeModelsIndexIfMissing(out, source.name);
      const { fitViews } = await import('../core/training/fit-views.js'); // TensorFlow.js only for this command
      const { dir, info } = await fitViews({
        modelsDir: out,
        model: source.name,
        data: o.data as string[],
        images: o.images as number,
        skip: o.skip as number,
        heldOut: o.heldOut as number,
        lambda: o.lambda as number,
        seed: o.seed as number,
        command: `doppel ${process.argv.slice(2).join(' ')}`,
        signal: controller.signal,
        onProgress: (phase, done, total) => status.update(`${phase} ${bar(done, total)} ${done}/${total}`),
      });
      status.done(
        `fitted on ${info.data.images} images: held-out cosine ${info.heldOutCosine} ` +
          `(sampled codes alone ${info.sampledCosine}); wrote ${dir}. Run doppel eval --write-card` +
          `${out === path.resolve(defaultModelsDir()) ? '' : ` --models ${out}`} to calibrate it.`,
      );
      status.done(useWith(out, source.name));
    });
}

/** Refuses to write into a shipped model's folder unless --force says so. */
function refuseShipped(dir: string, force: boolean, instead: string): void {
  if (force || !isShippedModel(dir)) return;
  throw new DoppelError(
    'invalid-argument',
    `${dir} is a model that ships with Doppel: pass --force to overwrite it, or choose ${instead}`,
  );
}

/** --init names a model of the models folder; a shipped one is copied there first (it is read, never written). */
function copyShippedInto(modelsDir: string, name: string, log: (m: string) => void): void {
  const dest = path.join(modelsDir, name);
  const shipped = path.join(shippedModelsDir(), name);
  if (fs.existsSync(path.join(dest, 'model.json')) || !fs.existsSync(path.join(shipped, 'model.json'))) return;
  fs.mkdirSync(modelsDir, { recursive: true });
  fs.cpSync(shipped, dest, { recursive: true });
  log(`copied the shipped ${name} to ${dest} (--init)`);
}

/** A models folder of its own names its default model, so `--models <dir>` alone finds it. */
function writeModelsIndexIfMissing(modelsDir: string, name: string): void {
  const file = path.join(modelsDir, 'models.json');
  if (!fs.existsSync(file)) fs.writeFileSync(file, `${JSON.stringify({ default: name })}\n`);
}

function useWith(modelsDir: string, name: string): string {
  return path.resolve(modelsDir) === path.resolve(shippedModelsDir())
    ? ''
    : `use it with: doppel index <folder> --models ${modelsDir} --model ${name}`;
}
