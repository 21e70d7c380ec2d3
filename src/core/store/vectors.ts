// Each photo's vector for a model (table vectors), stored as float32 BLOBs: put, get, packed, streamed, by hash.
import type { Statement } from 'better-sqlite3';
import { DoppelError } from '../../shared/api.js';
import { inTransaction, reads, writes, type ReadDb, type WriteDb } from './handles.js';
import { modelDim } from './models.js';
import { toStoredPhoto, type PhotoRow, type StoredPhoto } from './photos.js';
import { deleteViewsForModel } from './views.js';

export interface VectorSet {
  dim: number;
  /** Photo ids, ascending; row i of `vectors` belongs to ids[i]. */
  ids: Int32Array;
  /** Row-major, ids.length * dim. */
  vectors: Float32Array;
}

/** Float32Array <-> BLOB without sharing memory with SQLite's buffers (whose alignment is not guaranteed). */
function vectorToBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function blobToVector(blob: Buffer): Float32Array {
  const out = new Float32Array(blob.byteLength / 4);
  new Uint8Array(out.buffer).set(blob);
  return out;
}

const vectorPut = writes('INSERT OR REPLACE INTO vectors (photo_id, model_id, vector) VALUES (?, ?, ?)');
const vectorGet = reads('SELECT vector FROM vectors WHERE photo_id = ? AND model_id = ?', 'pluck');
const vectorCount = reads(
  `
  SELECT count(*) FROM vectors v JOIN photos p ON p.id = v.photo_id
  WHERE v.model_id = ? AND p.status = 'indexed'`,
  'pluck',
);
const vectorAll = reads(`
  SELECT v.photo_id, v.vector FROM vectors v JOIN photos p ON p.id = v.photo_id
  WHERE v.model_id = ? AND p.status = 'indexed' ORDER BY v.photo_id`);
// Unordered, for streaming every vector into the search index (ORDER BY would sort the blobs in a temp b-tree).
const vectorEach = reads(
  `
  SELECT v.photo_id, v.vector FROM vectors v JOIN photos p ON p.id = v.photo_id
  WHERE v.model_id = ? AND p.status = 'indexed'`,
  'raw',
);
const vectorDeleteModel = writes('DELETE FROM vectors WHERE model_id = ?');
// CROSS JOIN keeps photos the outer loop (SQLite never reorders it): found by hash or folder through their
// index, then each vector by its primary key. A plain JOIN let the planner start from vectors_model, which
// with one model is every row: a lookup read the whole table (60 ms at 23,000 photos, 200 ms at 100,000).
// The unary + keeps photos_status (nearly every photo is indexed) out of the plan.
const vectorByHashStmt = reads(`
  SELECT p.*, v.vector FROM photos p CROSS JOIN vectors v ON v.photo_id = p.id AND v.model_id = ?
  WHERE p.hash = ? AND +p.status = 'indexed' LIMIT 1`);
const vectorIdsInFolder = reads(
  'SELECT p.id FROM photos p CROSS JOIN vectors v ON v.photo_id = p.id AND v.model_id = ? WHERE p.folder_id = ?',
  'pluck',
);

export function putVector(db: WriteDb, photoId: number, modelId: number, vector: Float32Array): void {
  const dim = modelDim(db, modelId);
  if (vector.length !== dim) {
    throw new DoppelError('invalid-argument', `Vector has ${vector.length} values; the model expects ${dim}`);
  }
  vectorPut(db).run(photoId, modelId, vectorToBlob(vector));
}

export function getVector(db: ReadDb, photoId: number, modelId: number): Float32Array | null {
  const blob = vectorGet(db).get(photoId, modelId) as Buffer | undefined;
  return blob ? blobToVector(blob) : null;
}

/** Every vector of indexed photos for a model, packed for brute-force search. */
export function allVectors(db: ReadDb, modelId: number): VectorSet {
  const dim = modelDim(db, modelId);
  return inTransaction(db, () => {
    const n = vectorCount(db).get(modelId) as number;
    const ids = new Int32Array(n);
    const vectors = new Float32Array(n * dim);
    const bytes = new Uint8Array(vectors.buffer);
    let i = 0;
    for (const row of vectorAll(db).iterate(modelId) as Iterable<{ photo_id: number; vector: Buffer }>) {
      if (row.vector.byteLength !== dim * 4) {
        throw new DoppelError('database', `Stored vector of photo ${row.photo_id} has the wrong length`);
      }
      ids[i] = row.photo_id;
      bytes.set(row.vector, i * dim * 4);
      i++;
    }
    return { dim, ids, vectors };
  });
}

/** How many indexed photos have a vector for the model. */
export function countVectors(db: ReadDb, modelId: number): number {
  return vectorCount(db).get(modelId) as number;
}

/**
 * Every vector of indexed photos for a model, one at a time in no particular order, without a packed copy of
 * them all. `fn` gets the same buffer each time: copy what it keeps.
 */
export function forEachVector(db: ReadDb, modelId: number, fn: (photoId: number, vector: Float32Array) => void): void {
  const dim = modelDim(db, modelId);
  const vector = new Float32Array(dim);
  const bytes = new Uint8Array(vector.buffer);
  for (const [photoId, blob] of vectorEach(db).iterate(modelId) as Iterable<[number, Buffer]>) {
    if (blob.byteLength !== dim * 4) {
      throw new DoppelError('database', `Stored vector of photo ${photoId} has the wrong length`);
    }
    bytes.set(blob);
    fn(photoId, vector);
  }
}

/** A vector the model already has for this content (a moved, renamed or copied file), with its photo. */
export function vectorByHash(
  db: ReadDb,
  hash: string,
  modelId: number,
): { photo: StoredPhoto; vector: Float32Array } | null {
  const row = vectorByHashStmt(db).get(modelId, hash) as (PhotoRow & { vector: Buffer }) | undefined;
  return row ? { photo: toStoredPhoto(row), vector: blobToVector(row.vector) } : null;
}

/** Ids of a folder's photos that have a vector for the model. */
export function photoIdsWithVector(db: ReadDb, folderId: number, modelId: number): Set<number> {
  return new Set(vectorIdsInFolder(db).all(modelId, folderId) as number[]);
}

/** Deletes a model's vectors with every view made with it (turned, encoded, corner views first). */
export function deleteVectorsForModel(db: WriteDb, modelId: number): void {
  deleteViewsForModel(db, modelId);
  vectorDeleteModel(db).run(modelId);
}

/** The statements whose query plans tests/core/store.test.ts checks (through the Store's private `s`). */
export function plannedVectorStatements(db: ReadDb): Record<'vectorByHash' | 'vectorIdsInFolder', Statement> {
  return { vectorByHash: vectorByHashStmt(db), vectorIdsInFolder: vectorIdsInFolder(db) };
}
