// The models vectors are made with (table models): their ids and shapes, each model's dimension cached per connection.
import { DoppelError } from '../../shared/api.js';
import { inWriteTransaction, reads, writes, type ReadDb, type WriteDb } from './handles.js';

export interface ModelSpec {
  name: string;
  dim: number;
  inputSize: number;
}

const modelByName = reads('SELECT id, dim, input_size FROM models WHERE name = ?');
const modelById = reads('SELECT dim FROM models WHERE id = ?', 'pluck');
const modelInsert = writes('INSERT INTO models (name, dim, input_size, created_at) VALUES (?, ?, ?, ?) RETURNING id');
const modelUpdate = writes('UPDATE models SET dim = ?, input_size = ? WHERE id = ?');
// The same statement as vectors.ts's: a model whose shape changed loses its vectors (and only those).
const vectorDeleteModel = writes('DELETE FROM vectors WHERE model_id = ?');

/** Each connection's known model dimensions, by model id (set by ensureModel, else read once). */
const dims = new WeakMap<ReadDb, Map<number, number>>();

function dimsOf(db: ReadDb): Map<number, number> {
  let known = dims.get(db);
  if (!known) dims.set(db, (known = new Map()));
  return known;
}

/**
 * Returns the id of the named model, creating it if needed. If the stored model has a different shape
 * its vectors are from an incompatible network: they are deleted and the shape updated.
 */
export function ensureModel(db: WriteDb, spec: ModelSpec): number {
  // The usual case, a model stored with this shape, only reads (and so never waits for another writer).
  const known = modelByName(db).get(spec.name) as { id: number; dim: number; input_size: number } | undefined;
  if (known && known.dim === spec.dim && known.input_size === spec.inputSize) {
    dimsOf(db).set(known.id, spec.dim);
    return known.id;
  }
  return inWriteTransaction(db, () => {
    const row = modelByName(db).get(spec.name) as { id: number; dim: number; input_size: number } | undefined;
    let id: number;
    if (!row) {
      id = (modelInsert(db).get(spec.name, spec.dim, spec.inputSize, Date.now()) as { id: number }).id;
    } else {
      id = row.id;
      if (row.dim !== spec.dim || row.input_size !== spec.inputSize) {
        vectorDeleteModel(db).run(id);
        modelUpdate(db).run(spec.dim, spec.inputSize, id);
      }
    }
    dimsOf(db).set(id, spec.dim);
    return id;
  });
}

/** How many values a vector of the model has; throws not-found for an unknown model. */
export function modelDim(db: ReadDb, modelId: number): number {
  const known = dimsOf(db);
  let dim = known.get(modelId);
  if (dim === undefined) {
    dim = modelById(db).get(modelId) as number | undefined;
    if (dim === undefined) throw new DoppelError('not-found', `No model with id ${modelId}`);
    known.set(modelId, dim);
  }
  return dim;
}
