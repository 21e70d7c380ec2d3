// A photo's extra vectors, stored as int8: corner views (view_vectors), views encoded from crops, turned views.
import type { Statement } from 'better-sqlite3';
import { DoppelError } from '../../shared/api.js';
import { reads, writes, type ReadDb, type WriteDb } from './handles.js';
import { modelDim } from './models.js';

/** Vectors quantised to signed bytes, each scaled so its largest value is 127 (its direction is what counts). */
function viewsToBlob(views: readonly Float32Array[], dim: number): Buffer {
  const out = Buffer.alloc(views.length * dim);
  views.forEach((v, i) => {
    let max = 0;
    for (let j = 0; j < dim; j++) max = Math.max(max, Math.abs(v[j]!));
    const scale = max > 0 ? 127 / max : 0;
    for (let j = 0; j < dim; j++) out.writeInt8(Math.round(v[j]! * scale), i * dim + j);
  });
  return out;
}

function blobToViews(blob: Buffer, dim: number): Float32Array[] {
  const bytes = new Int8Array(blob.buffer, blob.byteOffset, blob.byteLength);
  return Array.from({ length: blob.byteLength / dim }, (_, i) =>
    Float32Array.from(bytes.subarray(i * dim, (i + 1) * dim)),
  );
}

/** A page's lower bound as SQLite compares it: ids are integers, and -Infinity is before them all. */
const pageAfter = (after: number): number => (Number.isFinite(after) ? after : -1);

function checkViews(views: readonly Float32Array[], dim: number, what: string): void {
  if (views.length === 0 || views.some((v) => v.length !== dim)) {
    throw new DoppelError('invalid-argument', `${what} must be vectors of the model's ${dim} values`);
  }
}

const viewsPut = writes(
  'INSERT OR REPLACE INTO view_vectors (photo_id, model_id, fraction, vectors) VALUES (?, ?, ?, ?)',
);
const viewsDeleteModel = writes('DELETE FROM view_vectors WHERE model_id = ?');
const viewsDelete = writes('DELETE FROM view_vectors WHERE photo_id = ? AND model_id = ?');
const viewsGet = reads(
  'SELECT vectors FROM view_vectors WHERE photo_id = ? AND model_id = ? AND fraction = ?',
  'pluck',
);
const viewsEach = reads(
  `
  SELECT w.photo_id, w.vectors FROM view_vectors w JOIN photos p ON p.id = w.photo_id
  WHERE w.model_id = ? AND w.fraction = ? AND p.status = 'indexed'`,
  'raw',
);
// Pages in photo id order through the views' primary key (CROSS JOIN keeps the views the outer loop; the unary
// + keeps the model's index, which with one model is every row, out of the plan: either would sort the whole
// table for each page).
const viewsPageStmt = reads(
  `
  SELECT w.photo_id, w.vectors FROM view_vectors w CROSS JOIN photos p ON p.id = w.photo_id
  WHERE w.photo_id > ? AND +w.model_id = ? AND w.fraction = ? AND +p.status = 'indexed'
  ORDER BY w.photo_id LIMIT ?`,
  'raw',
);
const turnsPageStmt = reads(
  `
  SELECT t.photo_id, t.vectors FROM turn_vectors t CROSS JOIN photos p ON p.id = t.photo_id
  WHERE t.photo_id > ? AND +t.model_id = ? AND +p.status = 'indexed'
  ORDER BY t.photo_id LIMIT ?`,
  'raw',
);
const viewIdsInFolder = reads(
  `
  SELECT p.id FROM photos p CROSS JOIN view_vectors w ON w.photo_id = p.id AND w.model_id = ? AND w.fraction = ?
  WHERE p.folder_id = ?`,
  'pluck',
);
// Only for a photo still in the library: a duplicate scan encodes views while another process (a trash, a removed
// folder) may delete photos, and the views of a photo that went are of no use to anyone.
const encodedPut = writes(`
  INSERT OR REPLACE INTO encoded_views (photo_id, model_id, fraction, hash, vectors)
  SELECT id, ?, ?, ?, ? FROM photos WHERE id = ?`);
const encodedGet = reads(
  'SELECT vectors FROM encoded_views WHERE photo_id = ? AND model_id = ? AND fraction = ? AND hash = ?',
  'pluck',
);
const turnsPut = writes('INSERT OR REPLACE INTO turn_vectors (photo_id, model_id, vectors) VALUES (?, ?, ?)');
const turnsGet = reads('SELECT vectors FROM turn_vectors WHERE photo_id = ? AND model_id = ?', 'pluck');
const turnIdsInFolder = reads(
  `
  SELECT p.id FROM photos p CROSS JOIN turn_vectors t ON t.photo_id = p.id AND t.model_id = ?
  WHERE p.folder_id = ?`,
  'pluck',
);
const turnsDeleteModel = writes('DELETE FROM turn_vectors WHERE model_id = ?');
const encodedDeleteModel = writes('DELETE FROM encoded_views WHERE model_id = ?');

// ---- corner views ("find cropped copies"; search/crop-views.ts)

/** Stores a photo's corner views (made keeping `fraction` of each side), replacing any it had. */
export function putViews(
  db: WriteDb,
  photoId: number,
  modelId: number,
  fraction: number,
  views: readonly Float32Array[],
): void {
  const dim = modelDim(db, modelId);
  checkViews(views, dim, 'Views');
  viewsPut(db).run(photoId, modelId, fraction, viewsToBlob(views, dim));
}

export function deleteViews(db: WriteDb, photoId: number, modelId: number): void {
  viewsDelete(db).run(photoId, modelId);
}

/** A photo's corner views made with this fraction (their direction: compare by cosine), or null. */
export function getViews(db: ReadDb, photoId: number, modelId: number, fraction: number): Float32Array[] | null {
  const blob = viewsGet(db).get(photoId, modelId, fraction) as Buffer | undefined;
  return blob ? blobToViews(blob, modelDim(db, modelId)) : null;
}

/**
 * The views of photos a page at a time: the views of at most `limit` photos after photo id `after`, in id order (for a
 * scan that gives the event loop a turn between pages; an open iteration would hold the connection).
 */
export function viewsPage(
  db: ReadDb,
  modelId: number,
  fraction: number,
  after: number,
  limit: number,
): [number, Float32Array[]][] {
  const dim = modelDim(db, modelId);
  const rows = viewsPageStmt(db).all(pageAfter(after), modelId, fraction, limit) as [number, Buffer][];
  return rows.map(([photoId, blob]) => [photoId, blobToViews(blob, dim)]);
}

/** Every indexed photo's views as stored: each photo's views as one int8 array (view after view, dim values each). */
export function forEachViewBytes(
  db: ReadDb,
  modelId: number,
  fraction: number,
  fn: (photoId: number, bytes: Int8Array) => void,
): void {
  for (const [photoId, blob] of viewsEach(db).iterate(modelId, fraction) as Iterable<[number, Buffer]>) {
    fn(photoId, new Int8Array(blob.buffer, blob.byteOffset, blob.byteLength));
  }
}

/** Ids of a folder's photos that have corner views of this fraction for the model. */
export function photoIdsWithViews(db: ReadDb, folderId: number, modelId: number, fraction: number): Set<number> {
  return new Set(viewIdsInFolder(db).all(modelId, fraction, folderId) as number[]);
}

// ---- views encoded from thumbnail crops (the duplicate scan's second stage; duplicates/encoded-views.ts)

/**
 * Stores the views encoded from crops of the thumbnail of content `hash`, replacing any the photo had (nothing for
 * a photo no longer in the library). Returns them as stored (quantised), as getEncodedViews will read them.
 */
export function putEncodedViews(
  db: WriteDb,
  photoId: number,
  modelId: number,
  fraction: number,
  hash: string,
  views: readonly Float32Array[],
): Float32Array[] {
  const dim = modelDim(db, modelId);
  checkViews(views, dim, 'Views');
  const blob = viewsToBlob(views, dim);
  encodedPut(db).run(modelId, fraction, hash, blob, photoId);
  return blobToViews(blob, dim);
}

/** The views encoded for this photo from the thumbnail of content `hash`, or null (none, or made from other content). */
export function getEncodedViews(
  db: ReadDb,
  photoId: number,
  modelId: number,
  fraction: number,
  hash: string,
): Float32Array[] | null {
  const blob = encodedGet(db).get(photoId, modelId, fraction, hash) as Buffer | undefined;
  return blob ? blobToViews(blob, modelDim(db, modelId)) : null;
}

// ---- turned views (rotated copies; search/turn-views.ts)

/** Stores a photo's turned views (its picture turned 90 and 180 degrees), replacing any it had. */
export function putTurns(db: WriteDb, photoId: number, modelId: number, turns: readonly Float32Array[]): void {
  const dim = modelDim(db, modelId);
  checkViews(turns, dim, 'Turned views');
  turnsPut(db).run(photoId, modelId, viewsToBlob(turns, dim));
}

/** A photo's turned views (compare by cosine), or null. */
export function getTurns(db: ReadDb, photoId: number, modelId: number): Float32Array[] | null {
  const blob = turnsGet(db).get(photoId, modelId) as Buffer | undefined;
  return blob ? blobToViews(blob, modelDim(db, modelId)) : null;
}

/** The turned views of photos a page at a time, as viewsPage. */
export function turnsPage(db: ReadDb, modelId: number, after: number, limit: number): [number, Float32Array[]][] {
  const dim = modelDim(db, modelId);
  const rows = turnsPageStmt(db).all(pageAfter(after), modelId, limit) as [number, Buffer][];
  return rows.map(([photoId, blob]) => [photoId, blobToViews(blob, dim)]);
}

/** Ids of a folder's photos that have turned views for the model. */
export function photoIdsWithTurns(db: ReadDb, folderId: number, modelId: number): Set<number> {
  return new Set(turnIdsInFolder(db).all(modelId, folderId) as number[]);
}

/** Deletes every turned, encoded and corner view of a model (vectors.ts's deleteVectorsForModel, before the vectors). */
export function deleteViewsForModel(db: WriteDb, modelId: number): void {
  turnsDeleteModel(db).run(modelId);
  encodedDeleteModel(db).run(modelId);
  viewsDeleteModel(db).run(modelId);
}

/** The statements whose query plans tests/core/store.test.ts checks (through the Store's private `s`). */
export function plannedViewStatements(
  db: ReadDb,
): Record<'viewIdsInFolder' | 'turnIdsInFolder' | 'viewsPage' | 'turnsPage', Statement> {
  return {
    viewIdsInFolder: viewIdsInFolder(db),
    turnIdsInFolder: turnIdsInFolder(db),
    viewsPage: viewsPageStmt(db),
    turnsPage: turnsPageStmt(db),
  };
}
