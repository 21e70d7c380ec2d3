// `doppel eval`: the retrieval benchmark (src/core/eval). A readable table on stderr, the JSON report on stdout.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DoppelError } from '../shared/api.js';
import { runRetrievalBenchmark, type EvalReport, type ThresholdReport } from '../core/eval/benchmark.js';
import type { z } from 'zod';
import type { Autoencoder } from '../core/model/autoencoder.js';
import { listModels, readModelsIndex } from '../core/model/card.js';
import { defaultModelsDir, findProjectRoot } from '../core/paths.js';
import { bar, printJson, StatusLine } from './output.js';
import { intOption } from './options.js';

/** The schema of --preprocess; zod is loaded only when the option is given (it adds ~0.1 s to every CLI start). */
async function preprocessSchema() {
  const { z } = await import('zod');
  return z.strictObject({
    trimBorders: z.boolean().optional(),
    mirrorInvariant: z.boolean().optional(),
    greyWeight: z.number().min(0).max(10).optional(),
    cropViews: z.number().gt(0).lt(1).optional(),
  });
}
const PREPROCESS_EXAMPLE = '{"trimBorders":true,"mirrorInvariant":true,"cropViews":0.75}';

/** The benchmark photos live beside the project (see ../shared/data/README.md). */
const dataDir = (): string => path.resolve(findProjectRoot(), '..', 'shared', 'data');

/** The method name of a model measured with its card's corner views. */
const CROPS_SUFFIX = '+crops';

/** The default model, plus the seed baseline 'seed-ae32' when it is there. */
export function defaultEvalModels(modelsDir: string): string[] {
  const names: string[] = [];
  if (fs.existsSync(path.join(modelsDir, 'models.json'))) names.push(readModelsIndex(modelsDir).default);
  if (listModels(modelsDir).includes('seed-ae32')) names.push('seed-ae32');
  return [...new Set(names)];
}

const fmt = (v: number | null | undefined, digits = 3): string =>
  v === null || v === undefined ? '-' : v.toFixed(digits);

function thresholdCell(kind: 'model' | 'hash', t: ThresholdReport | undefined): string {
  if (!t) return '-';
  const value = t.value === null ? 'none' : kind === 'hash' ? `<=${t.value}` : `>=${fmt(t.value, 4)}`;
  return `${value} P${fmt(t.precision, 3)} R${fmt(t.recall, 3)}`;
}

/** Rows = attacks + mean, columns = methods (R@1 and R@k), then the threshold and speed rows. */
export function formatEvalTable(r: EvalReport): string {
  const first = 22;
  const col = 30;
  const pad = (s: string, n: number): string => (s.length >= n ? `${s} ` : s.padEnd(n));
  const lines: string[] = [];
  lines.push(
    `library: ${r.library} photos (${r.originals} originals + ${r.distractors} distractors); ` +
      `${r.queries} queries (${r.attacks.length} attacks); pairs: ${r.pairs.positive} positive, ${r.pairs.negative} negative`,
  );
  lines.push(pad('attack', first) + r.methods.map((m) => pad(m.method, col)).join(''));
  lines.push(pad('', first) + r.methods.map(() => pad(`R@1    R@${r.k}`, col)).join(''));
  const row = (label: string, values: string[]): void => {
    lines.push(pad(label, first) + values.map((v) => pad(v, col)).join(''));
  };
  for (const a of r.attacks) {
    row(
      a,
      r.methods.map((m) => `${fmt(m.recallAt1.perAttack[a])}  ${fmt(m.recallAt10.perAttack[a])}`),
    );
  }
  row(
    'mean',
    r.methods.map((m) => `${fmt(m.recallAt1.mean)}  ${fmt(m.recallAt10.mean)}`),
  );
  row(
    `threshold (P>=${r.minPrecision})`,
    r.methods.map((m) => thresholdCell(m.kind, m.threshold)),
  );
  row(
    'card / default thr.',
    r.methods.map((m) => thresholdCell(m.kind, m.referenceThreshold)),
  );
  if (r.methods.some((m) => m.viewThreshold)) {
    row(
      'corner-view thr.',
      r.methods.map((m) => (m.viewThreshold ? thresholdCell('model', m.viewThreshold) : '-')),
    );
  }
  if (r.methods.some((m) => m.encodedViewThreshold)) {
    row(
      'then encoded views',
      r.methods.map((m) => (m.encodedViewThreshold ? thresholdCell('model', m.encodedViewThreshold) : '-')),
    );
  }
  row(
    'encode rate',
    r.methods.map((m) => (m.encodeRate === undefined ? '-' : `${m.encodeRate.toFixed(0)} img/s`)),
  );
  if (r.errors.length) lines.push(`${r.errors.length} file(s) skipped: ${r.errors.map((e) => e.path).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description(
      'retrieval benchmark: attacked copies of originals among distractors; recall@1/@10 and duplicate-threshold ' +
        'precision/recall per model, with dHash and pHash baselines (table on stderr, JSON on stdout)',
    )
    .option('--originals <dir>', 'folder of original photos', path.join(dataDir(), 'photos'))
    .option('--distractors <dir>', 'folder of distractor photos', path.join(dataDir(), 'imagenette', 'train'))
    .option('--distractors-limit <n>', 'use the first N distractors in sorted order', intOption, 2000)
    .option('--model <name...>', 'models to evaluate (default: the default model and seed-ae32 when present)')
    .option('--models <dir>', 'models folder', defaultModelsDir())
    .option('--no-hashes', 'skip the dHash and pHash baselines')
    .option('--retrieval-steps', 'also evaluate each model with border trimming and mirror-invariant vectors', false)
    .option(
      '--preprocess <json...>',
      `also evaluate each model with these retrieval steps, e.g. '${PREPROCESS_EXAMPLE}'`,
    )
    .option('--out <file>', 'also write the JSON report to this file')
    .option('--write-card', "store the calibrated duplicate thresholds and the figures in each model's card", false)
    .action(
      async (o: {
        originals: string;
        distractors: string;
        distractorsLimit: number;
        model?: string[];
        models: string;
        hashes: boolean;
        retrievalSteps: boolean;
        preprocess?: string[];
        writeCard: boolean;
        out?: string;
      }) => {
        const modelsDir = path.resolve(o.models);
        const names = [...new Set(o.model ?? defaultEvalModels(modelsDir))];
        if (names.length === 0 && !o.hashes) throw new DoppelError('model', `No models found in ${modelsDir}`);
        const status = new StatusLine();
        if (names.length === 0) status.done(`no models found in ${modelsDir}: hashes only`);
        // TensorFlow.js (through the models and the card writer) only for this command.
        const [{ Autoencoder }, { writeEvalToCard }] = await Promise.all([
          import('../core/model/autoencoder.js'),
          import('../core/eval/card.js'),
        ]);
        const models: Autoencoder[] = [];
        try {
          for (const name of names) {
            const model = await Autoencoder.load(modelsDir, name);
            models.push(model);
            // A card that offers corner views ("find cropped copies") is measured with them too.
            const views = model.card.cropViews;
            if (views) {
              models.push(
                model.withPreprocess({ ...model.card.preprocess, cropViews: views.fraction }, `${name}${CROPS_SUFFIX}`),
              );
            }
            if (o.retrievalSteps) {
              models.push(model.withPreprocess({ trimBorders: true, mirrorInvariant: true }, `${name}+steps`));
            }
            for (const json of o.preprocess ?? []) {
              let steps: z.infer<Awaited<ReturnType<typeof preprocessSchema>>>;
              try {
                steps = (await preprocessSchema()).parse(JSON.parse(json));
              } catch {
                throw new DoppelError(
                  'invalid-argument',
                  `--preprocess takes JSON like ${PREPROCESS_EXAMPLE}, got ${json}`,
                );
              }
              models.push(model.withPreprocess(steps, `${name}+${json}`));
            }
          }
          const report = await runRetrievalBenchmark({
            originals: path.resolve(o.originals),
            distractors: path.resolve(o.distractors),
            distractorsLimit: o.distractorsLimit,
            models,
            hashes: o.hashes,
            onLog: (m) => status.done(m),
            onProgress: (p) => status.update(`${p.phase} ${bar(p.done, p.total)} ${p.done}/${p.total}`),
          });
          status.done();
          process.stderr.write(formatEvalTable(report));
          if (o.out) {
            fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
            fs.writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
          }
          if (o.writeCard) {
            for (const name of names) {
              const method = report.methods.find((m) => m.method === name);
              const crops = report.methods.find((m) => m.method === `${name}${CROPS_SUFFIX}`);
              if (method) status.done(`card: ${writeEvalToCard(path.join(modelsDir, name), report, method, crops)}`);
            }
          }
          printJson(report);
        } finally {
          for (const m of models) m.dispose();
        }
      },
    );
}
