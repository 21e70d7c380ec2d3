import path from 'node:path';
import type { Command } from 'commander';
import { defaultModelsDir } from '../core/paths.js';
import { bar, formatDuration, StatusLine } from './output.js';
import { intOption, numberOption } from './options.js';

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train an autoencoder on folders of images; resumes from its checkpoint when run again')
    .requiredOption('--data <folder...>', 'folders of training images (searched recursively)')
    .option('--name <name>', 'model name: the output goes to models/<name>/', 'seed-ae32')
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
    .option('--checkpoint-dir <dir>', 'checkpoint folder (default: .train/<name>)')
    .option('--models <dir>', 'models folder', defaultModelsDir())
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
      const { train } = await import('../core/model/train.js'); // TensorFlow.js only for this command
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
        checkpointDir: path.resolve((o.checkpointDir as string | undefined) ?? path.join('.train', name)),
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
    .option('--models <dir>', 'models folder', defaultModelsDir())
    .action(async (o: Record<string, unknown>) => {
      const status = new StatusLine();
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      const { fitViews } = await import('../core/model/fit-views.js'); // TensorFlow.js only for this command
      const { dir, info } = await fitViews({
        modelsDir: path.resolve(o.models as string),
        model: o.model as string | undefined,
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
          `(sampled codes alone ${info.sampledCosine}); wrote ${dir}. Run doppel eval --write-card to calibrate it.`,
      );
    });
}
