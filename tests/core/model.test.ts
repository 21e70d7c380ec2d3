import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageToModelInput } from '../../src/core/imaging/analyze.js';
import { Autoencoder, listModels, readModelsIndex } from '../../src/core/model/autoencoder.js';
import { defaultModelsDir } from '../../src/core/paths.js';
import { correlation, photos, std } from '../helpers.js';

const modelsDir = defaultModelsDir();
let model: Autoencoder;
let inputs: Uint8Array[];

beforeAll(async () => {
  model = await Autoencoder.load(modelsDir);
  inputs = await Promise.all(
    [...photos('CSun_Hays80', 6), ...photos('CBSD68', 4)].map((f) =>
      imageToModelInput(fs.readFileSync(f), model.inputSize),
    ),
  );
}, 60_000);

describe('the shipped model', () => {
  it('is the default named by models/models.json, with its card, on a named backend', () => {
    expect(model.name).toBe(readModelsIndex(modelsDir).default);
    expect(listModels(modelsDir)).toContain('seed-ae32');
    expect(['wasm', 'tensorflow']).toContain(model.backend);
    expect(model.dim).toBe(model.card.codeShape.reduce((a, b) => a * b, 1));
    expect(model.card.losses.validationMse).toBeGreaterThan(0);
  });

  it('encodes real photos to distinct vectors of the card dimension, the same in a batch as alone', () => {
    const batch = model.encode(inputs);
    expect(batch).toHaveLength(inputs.length);
    for (const v of batch) expect(v).toHaveLength(model.dim);
    const alone = model.encode([inputs[3]!])[0]!;
    for (let i = 0; i < model.dim; i++) expect(alone[i]).toBeCloseTo(batch[3]![i]!, 4);
    // Different photos, different codes.
    const distinct = new Set(batch.map((v) => Array.from(v.slice(0, 32), (x) => x.toFixed(4)).join(',')));
    expect(distinct.size).toBe(inputs.length);
  });

  it('reconstructs a photo recognisably (low MSE, high correlation with the input)', () => {
    for (const input of inputs.slice(0, 4)) {
      const { output, mse, code } = model.reconstruct(input);
      expect(output).toHaveLength(input.length);
      expect(code).toHaveLength(model.dim);
      expect(mse).toBeLessThan(0.03);
      expect(std(output)).toBeGreaterThan(10);
      expect(correlation(input, output)).toBeGreaterThan(0.7); // recognisable at 32x32, if blurred
    }
  });

  it('loads the seed-architecture baseline by name', async () => {
    const seed = await Autoencoder.load(modelsDir, 'seed-ae32');
    expect(seed.card.architecture.id).toBe('seed-conv-ae-32');
    expect(seed.card).toMatchObject({ inputSize: 32, dim: 512, codeShape: [8, 8, 8] });
    seed.dispose();
  });

  it('says clearly when a model does not exist', async () => {
    await expect(Autoencoder.load(modelsDir, 'no-such-model')).rejects.toThrow(/Model "no-such-model" not found/);
  });
});
