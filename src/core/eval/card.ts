// Writes what `doppel eval --write-card` measured into a model's card: the calibrated duplicate
// thresholds (used by the duplicate tiers) and the retrieval figures.
import fs from 'node:fs';
import path from 'node:path';
import { DoppelError } from '../../shared/api.js';
import type { ModelCard } from '../model/autoencoder.js';
import { writeCard } from '../model/card.js';
import type { EvalReport, MethodReport } from './benchmark.js';

/** `crops`: the same model measured with its card's corner views, whose calibrated view threshold is stored too. */
export function writeEvalToCard(
  modelDir: string,
  report: EvalReport,
  method: MethodReport,
  crops?: MethodReport,
): string {
  const file = path.join(modelDir, 'card.json');
  const card = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelCard;
  const near = method.threshold.value;
  const similar = method.similarThreshold.value;
  if (near === null || similar === null) {
    throw new DoppelError('model', `No threshold reaches the target precision for ${card.name}; card left unchanged`);
  }
  card.thresholds = { near, similar };
  card.eval = {
    date: report.date,
    library: report.library,
    originals: report.originals,
    distractors: report.distractors,
    recallAt1: method.recallAt1,
    recallAt10: method.recallAt10,
    nearThreshold: method.threshold,
    similarThreshold: method.similarThreshold,
    encodeRate: method.encodeRate,
  };
  if (card.cropViews && crops?.viewThreshold) {
    const t = crops.viewThreshold;
    if (t.value === null || t.near !== near) {
      throw new DoppelError('model', `The corner views of ${card.name} found no threshold that keeps the precision`);
    }
    // The second stage's threshold belongs to these predicted views: a new calibration replaces or drops it.
    const { encodedThreshold: _old, ...views } = card.cropViews;
    const encoded = crops.encodedViewThreshold?.value ?? null;
    card.cropViews = {
      ...views,
      threshold: t.value,
      ...(encoded !== null ? { encodedThreshold: encoded } : {}),
      eval: {
        recallAt1: crops.recallAt1,
        recallAt10: crops.recallAt10,
        viewThreshold: t,
        ...(crops.encodedViewThreshold ? { encodedViewThreshold: crops.encodedViewThreshold } : {}),
      },
    };
  }
  writeCard(modelDir, card);
  return file;
}
