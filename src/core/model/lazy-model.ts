// A model known by its card whose weights (and TensorFlow.js) load on first use: what most commands hold, and what
// indexing starts with so that decoding begins before the weights are in. Apart from card.ts so that the card
// never imports the model it describes (autoencoder.ts imports the card).
import type { Autoencoder } from './autoencoder.js';
import { CardDerived, type EncodedWithViews, type ModelCard, type ModelInfo } from './card.js';

/** A model known by its name, card and folder, whose weights are somewhere else (loaded later, another thread). */
export abstract class ModelOfInfo extends CardDerived {
  constructor(readonly info: ModelInfo) {
    super();
  }

  get name(): string {
    return this.info.name;
  }

  get card(): ModelCard {
    return this.info.card;
  }
}

/** A model whose weights load on first use: `load()` once, or `prepare()` to start loading in the background. */
export class LazyModel extends ModelOfInfo {
  private loading: Promise<Autoencoder> | null = null;

  /** Whether the weights have been asked for. */
  get started(): boolean {
    return this.loading !== null;
  }

  /** The loaded model; the first call loads TensorFlow.js and the weights, later calls share that load. */
  load(): Promise<Autoencoder> {
    this.loading ??= import('./autoencoder.js').then(({ Autoencoder }) => Autoencoder.loadWeights(this.info));
    return this.loading;
  }

  /** Starts loading; a failure surfaces at the next load() or encode(). */
  prepare(): void {
    this.load().catch(() => undefined);
  }

  async encode(inputs: readonly Uint8Array[]): Promise<Float32Array[]> {
    return (await this.load()).encode(inputs);
  }

  async encodeWithViews(inputs: readonly Uint8Array[]): Promise<EncodedWithViews> {
    return (await this.load()).encodeWithViews(inputs);
  }

  async dispose(): Promise<void> {
    const model = await this.loading?.catch(() => null);
    model?.dispose();
  }
}
