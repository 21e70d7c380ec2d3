// What a model is without its weights: its card (architecture, input, code size, retrieval steps, thresholds),
// read, written and rendered (CARD.md) without loading TensorFlow.js. Most commands and the start of indexing need
// only this; the weights (and TensorFlow.js, ~0.3 s to load) come when something is first encoded (lazy-model.ts).
import fs from 'node:fs';
import path from 'node:path';
import { DoppelError } from '../../shared/api.js';
import { writeFileAtomic } from '../atomic.js';
import type { ModelInputSpec } from '../imaging/analyze.js';

/** How the corner-view map was fitted (ModelCard.cropViews.predictor; model/view-predictor.ts). */
export interface ViewPredictorInfo {
  file: string;
  /** Ridge penalty on the map's weights (not on its bias). */
  lambda: number;
  data: { folders: string[]; images: number; skipped: number; heldOut: number };
  /** Mean cosine, on the held-out images, of predicted views to the views encoded from crops. */
  heldOutCosine: number;
  /** The same for the bilinear samples alone, without the map. */
  sampledCosine: number;
  command?: string;
  createdAt: string;
}

export interface ModelCard {
  name: string;
  architecture: { id: string; description: string };
  inputSize: number;
  codeShape: number[];
  dim: number;
  data: { folders: string[]; images: number; trainImages: number; validationImages: number };
  training: {
    epochs: number;
    samplesSeen: number;
    batchSize: number;
    learningRate: number;
    /** When a run was resumed with another learning rate: each rate and the first epoch it trained. */
    learningRates?: { fromEpoch: number; rate: number }[];
    augmentation: string;
    backend: string;
    trainSeconds: number;
  };
  losses: { trainMse: number | null; validationMse: number | null };
  history: { epoch: number; samplesSeen: number; trainMse: number; validationMse: number }[];
  eval?: Record<string, unknown>;
  /**
   * Retrieval steps around the network: trim uniform borders from the input, and store the sum of the
   * codes of the image and its mirror image so that a mirrored copy has the same vector. `cropViews` (a fraction
   * of each side) also gives every library photo four corner views, matched by the best one: an ablation for
   * `doppel eval` (the library's own setting is `cropViews` below).
   */
  preprocess?: { trimBorders?: boolean; mirrorInvariant?: boolean; greyWeight?: number; cropViews?: number };
  /** Cosine similarity thresholds for the duplicate tiers, calibrated on the retrieval benchmark. */
  thresholds?: { near: number; similar: number };
  /**
   * Corner views that the library's "find cropped copies" setting uses (search/crop-views.ts): the fraction of
   * each side a view keeps, and the view similarity `doppel eval --write-card` calibrated to count as the near
   * threshold (the setting cannot be turned on until it has), and the fitted map that predicts a photo's views from
   * its code maps (model/view-predictor.ts; the setting needs it too).
   */
  cropViews?: {
    fraction: number;
    threshold?: number;
    /**
     * For predicted views: the threshold of views encoded from crops (of the cached thumbnails) that re-score, in a
     * duplicate scan, the pairs whose predicted view reaches the look-alike tier but not the near one.
     */
    encodedThreshold?: number;
    eval?: Record<string, unknown>;
    predictor?: ViewPredictorInfo;
  };
  /**
   * The model whose vectors this one makes, bit for bit (its encoder is that model's, frozen; only what draws the
   * reconstruction differs). A library keeps its vectors, corner views, settings and search index when it moves
   * between the two: they are stored under that model's name.
   */
  vectorsOf?: string;
  command: string;
  createdAt: string;
}

export interface ModelsIndex {
  default: string;
}

export function readModelsIndex(modelsDir: string): ModelsIndex {
  const file = path.join(modelsDir, 'models.json');
  if (!fs.existsSync(file)) throw new DoppelError('model', `No models index at ${file}`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ModelsIndex;
}

export function listModels(modelsDir: string): string[] {
  if (!fs.existsSync(modelsDir)) return [];
  return fs
    .readdirSync(modelsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(modelsDir, d.name, 'model.json')))
    .map((d) => d.name)
    .sort();
}

/** What every form of a model (its card alone, lazily loaded, loaded) derives from its card. */
export abstract class CardDerived {
  abstract readonly name: string;
  abstract readonly card: ModelCard;

  /** The name a library stores this model's vectors (and its settings for them) under: see ModelCard.vectorsOf. */
  get vectorKey(): string {
    return this.card.vectorsOf ?? this.name;
  }

  get inputSize(): number {
    return this.card.inputSize;
  }

  get dim(): number {
    return this.card.dim;
  }

  /** How this model's input is made from an image (pass to imageToModelInput / analyzeImage). */
  get inputSpec(): ModelInputSpec {
    return { size: this.card.inputSize, trimBorders: this.card.preprocess?.trimBorders ?? false };
  }
}

/** A model's name, card and folder. */
export class ModelInfo extends CardDerived {
  private constructor(
    readonly name: string,
    readonly card: ModelCard,
    readonly dir: string,
  ) {
    super();
  }

  /** `models/<name>` (the default model when name is omitted); an error when it is missing. */
  static read(modelsDir: string, name?: string): ModelInfo {
    const modelName = name ?? readModelsIndex(modelsDir).default;
    const dir = path.join(modelsDir, modelName);
    if (!fs.existsSync(path.join(dir, 'model.json'))) {
      throw new DoppelError('model', `Model "${modelName}" not found in ${modelsDir}`);
    }
    const card = JSON.parse(fs.readFileSync(path.join(dir, 'card.json'), 'utf8')) as ModelCard;
    return new ModelInfo(modelName, card, dir);
  }
}

/** Vectors and, for each input, its four predicted corner views (Autoencoder.encodeWithViews). */
export interface EncodedWithViews {
  vectors: Float32Array[];
  views: Float32Array[][];
}

/** Writes a model's card: card.json, and CARD.md rendered from it. */
export function writeCard(dir: string, card: ModelCard): void {
  writeFileAtomic(path.join(dir, 'card.json'), JSON.stringify(card, null, 2) + '\n');
  writeFileAtomic(path.join(dir, 'CARD.md'), renderCard(card));
}

export function renderCard(card: ModelCard): string {
  const f = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(5));
  const rows = card.history
    .map((h) => `| ${h.epoch} | ${h.samplesSeen} | ${h.trainMse.toFixed(5)} | ${h.validationMse.toFixed(5)} |`)
    .join('\n');
  const evalLines = card.eval ? renderEval(card) : '';
  return `# Model card: ${card.name}

- **Architecture** (\`${card.architecture.id}\`): ${card.architecture.description}
- **Input**: ${card.inputSize}x${card.inputSize} RGB on [0,1]; **code**: ${card.codeShape.join('x')} = ${card.dim}-d vector
- **Data**: ${card.data.folders.join(', ')} — ${card.data.images} images, ${card.data.trainImages} for training, ${card.data.validationImages} held out for validation
- **Training**: ${card.training.epochs} epoch(s), ${card.training.samplesSeen} samples seen, batch ${card.training.batchSize}, Adam lr ${card.training.learningRates?.map((r) => `${r.rate} from epoch ${r.fromEpoch}`).join(', ') ?? card.training.learningRate}, augmentation: ${card.training.augmentation}; backend ${card.training.backend}; ${card.training.trainSeconds} s of training
- **Losses** (MSE on [0,1] pixels): train ${f(card.losses.trainMse)}, validation ${f(card.losses.validationMse)}
- **Date**: ${card.createdAt}
- **Command**: \`${card.command}\`${predictorLine(card)}

| epoch | samples seen | train MSE | validation MSE |
|---|---|---|---|
${rows}
${evalLines}`;
}

function predictorLine(card: ModelCard): string {
  const p = card.cropViews?.predictor;
  if (!p) return '';
  return (
    `\n- **Corner views** (keeping ${card.cropViews!.fraction} of each side): predicted from the codes of the image and ` +
    `its mirror image by a linear map (\`${p.file}\`, ridge ${p.lambda}) fitted on ${p.data.images} images of ` +
    `${p.data.folders.join(', ')} (the first ${p.data.skipped} left out); on ${p.data.heldOut} held-out images its ` +
    `views have cosine ${p.heldOutCosine.toFixed(3)} to views encoded from crops (${p.sampledCosine.toFixed(3)} ` +
    `for the sampled codes alone); \`${p.command ?? 'doppel fit-views'}\``
  );
}

interface CardEval {
  date: string;
  library: number;
  originals: number;
  distractors: number;
  recallAt1: { perAttack: Record<string, number>; mean: number };
  recallAt10: { perAttack: Record<string, number>; mean: number };
  nearThreshold: { value: number; precision: number | null; recall: number };
  similarThreshold: { value: number; precision: number | null; recall: number };
  encodeRate?: number;
}

function renderEval(card: ModelCard): string {
  const e = card.eval as unknown as CardEval;
  const views = card.cropViews?.eval as
    | { recallAt1: CardEval['recallAt1']; viewThreshold: { value: number; precision: number | null; recall: number } }
    | undefined;
  const cell = (r: CardEval['recallAt1'] | undefined, a: string): string =>
    r ? ` ${r.perAttack[a]?.toFixed(3) ?? '-'} |` : '';
  const rows = Object.keys(e.recallAt1.perAttack)
    .map(
      (a) =>
        `| ${a} | ${e.recallAt1.perAttack[a]!.toFixed(3)} | ${e.recallAt10.perAttack[a]!.toFixed(3)} |${cell(views?.recallAt1, a)}`,
    )
    .join('\n');
  const p = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(3));
  const viewsNote = views
    ? `\nWith corner views keeping ${card.cropViews!.fraction} of each side (the library setting "find cropped copies"): ` +
      `a view counts as a near duplicate from cosine ${views.viewThreshold.value.toFixed(4)}; photo or view, precision ` +
      `${p(views.viewThreshold.precision)}, recall ${p(views.viewThreshold.recall)}.\n`
    : '';
  return `
## Retrieval benchmark (\`doppel eval\`, ${e.date})

${e.originals} originals with 12 attacked copies each, among ${e.library} library photos (${e.distractors} distractors).
Duplicate thresholds (cosine): near ${e.nearThreshold.value.toFixed(4)} (precision ${p(e.nearThreshold.precision)}, recall ${p(e.nearThreshold.recall)}), similar ${e.similarThreshold.value.toFixed(4)} (precision ${p(e.similarThreshold.precision)}, recall ${p(e.similarThreshold.recall)}).${e.encodeRate ? ` Encoding: ${Math.round(e.encodeRate)} images/s.` : ''}
${viewsNote}
| attack | recall@1 | recall@10 |${views ? ' recall@1 with corner views |' : ''}
|---|---|---|${views ? '---|' : ''}
${rows}
| **mean** | **${e.recallAt1.mean.toFixed(3)}** | **${e.recallAt10.mean.toFixed(3)}** |${views ? ` **${views.recallAt1.mean.toFixed(3)}** |` : ''}
`;
}
