// What the retrieval benchmark extracts from an image for every method: a model input per distinct input spec,
// the corner views the models that use them want, and the two hashes.
import { imageToModelInput, imageToModelInputViews, type ModelInputSpec } from '../imaging/analyze.js';
import type { Autoencoder } from '../model/autoencoder.js';
import { hasViewPredictor } from '../model/view-predictor.js';
import { imageHashes, type ImageHashes } from './hashes.js';

/**
 * Features of one image for every method: a model input per distinct input spec, the four corner views of a
 * library photo per distinct (spec, cropViews) of the models that use views, and the two hashes.
 */
export interface Features {
  inputs: Map<string, Uint8Array>;
  views: Map<string, Uint8Array[]>;
  hashes?: ImageHashes;
}

/** The key of a model input spec in Features.inputs, and of a spec and views fraction in Features.views. */
export const specKey = (spec: ModelInputSpec): string => `${spec.size}:${spec.trimBorders ? 'trim' : 'full'}`;
export const viewsKey = (spec: ModelInputSpec, fraction: number): string => `${specKey(spec)}:${fraction}`;
/** The corner-view fraction a model is measured with (its preprocess), if any. */
export const cropViewsOf = (model: Autoencoder): number | undefined => model.card.preprocess?.cropViews;
/** Whether a model's views come from its card's view predictor (model/view-predictor.ts), fitted for its fraction. */
export const predictsViews = (model: Autoencoder): boolean =>
  hasViewPredictor(model.card) && model.card.cropViews?.fraction === cropViewsOf(model);

/** An image's features (from its encoded bytes) for the given input specs, views and, when asked, hashes. */
export async function features(
  bytes: Uint8Array,
  specs: readonly ModelInputSpec[],
  viewSpecs: readonly { spec: ModelInputSpec; fraction: number }[],
  withHashes: boolean,
): Promise<Features> {
  const inputs = new Map<string, Uint8Array>();
  const views = new Map<string, Uint8Array[]>();
  for (const { spec, fraction } of viewSpecs) {
    const made = await imageToModelInputViews(bytes, spec, fraction); // the photo's own input from the same decode
    inputs.set(specKey(spec), made.input);
    views.set(viewsKey(spec, fraction), made.views);
  }
  for (const spec of specs) {
    if (!inputs.has(specKey(spec))) inputs.set(specKey(spec), await imageToModelInput(bytes, spec));
  }
  return { inputs, views, hashes: withHashes ? await imageHashes(bytes) : undefined };
}
