// The Store facade: one object over a library connection whose methods delegate to the domain files beside it.
// One file though long: it is one delegating method per store operation, and the SQL is in those domain files.
import type { Database } from 'better-sqlite3';
import type { FileError, FolderInfo, PhotoInfo, PhotoLayout, PhotoPage, PhotoStatus } from '../../shared/api.js';
import * as actions from './actions.js';
import { openDatabase } from './db.js';
import { DuplicateScans } from './duplicate-scans.js';
import * as folders from './folders.js';
import { asWriteDb, inTransaction, type WriteDb } from './handles.js';
import * as models from './models.js';
import * as pairs from './pairs.js';
import * as photos from './photos.js';
import { SearchChanges } from './search-changes.js';
import * as settings from './settings.js';
import * as vectors from './vectors.js';
import * as photoViews from './views.js';

export type { ActionFile, ActionFileState, ActionRecord } from './actions.js';
export type { ModelSpec } from './models.js';
export type { NotDuplicatePair } from './pairs.js';
export type { HashGroup, PhotoRecord, PhotoSort, StoredPhoto } from './photos.js';
export type { VectorSet } from './vectors.js';
export { blobToVector } from './vectors.js';

/** Typed access to a library database. Every SQL statement of the app lives in this folder. */
export class Store {
  /** The connection, for tests and diagnostics only (their own SQL, pragmas): code in src uses the methods below. */
  readonly db: Database;
  /** The same connection, branded for the domain functions (this Store reads and writes). */
  private readonly w: WriteDb;

  static open(file: string): Store {
    return new Store(openDatabase(file));
  }

  constructor(db: Database) {
    this.db = db;
    this.w = asWriteDb(db);
    photos.registerPhotoFunctions(db);
  }

  /** The prepared statements whose query plans tests/core/store.test.ts checks (it reads store['s']). */
  private get s() {
    return { ...vectors.plannedVectorStatements(this.w), ...photoViews.plannedViewStatements(this.w) };
  }

  private scans: DuplicateScans | null = null;
  /** The duplicate scan's kept groups and the library's generation (duplicate-scans.ts). */
  get duplicateScans(): DuplicateScans {
    return (this.scans ??= new DuplicateScans(this.db));
  }

  /** Reads of the model's search state and vector changes (search-changes.ts), for search/library-search.ts. */
  searchChanges(modelId: number): SearchChanges {
    return new SearchChanges(this.w, modelId);
  }

  /** The database file (':memory:' for an in-memory one). */
  get path(): string {
    return this.db.name;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs fn in one transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return inTransaction(this.w, fn);
  }

  // ---- folders (folders.ts)

  /** Adds a folder, or returns the one with that path; one inside another takes over its photos below it. */
  addFolder(path: string): FolderInfo {
    return folders.addFolder(this.w, path);
  }

  /** The library folders inside this one (roots of their own, which a scan of this one passes over). */
  subfolders(id: number): string[] {
    return folders.subfolders(this.w, id);
  }

  /** The ids of the photos that removing this folder removes: none when a folder around it takes them over. */
  photosRemovedWith(id: number): number[] {
    return folders.photosRemovedWith(this.w, id);
  }

  listFolders(): FolderInfo[] {
    return folders.listFolders(this.w);
  }

  getFolder(id: number): FolderInfo | null {
    return folders.getFolder(this.w, id);
  }

  getFolderByPath(path: string): FolderInfo | null {
    return folders.getFolderByPath(this.w, path);
  }

  /** Removes a folder with its photos (kept by a library folder around it, if any); returns whether it existed. */
  removeFolder(id: number): boolean {
    return folders.removeFolder(this.w, id);
  }

  setFolderStatus(id: number, status: FolderInfo['status']): void {
    folders.setFolderStatus(this.w, id, status);
  }

  /** Marks or unmarks a reference folder (a folder inside one stays one); null when there is no such folder. */
  setFolderReference(id: number, reference: boolean): FolderInfo | null {
    return folders.setFolderReference(this.w, id, reference);
  }

  /** Saves whether scans of a folder follow symbolic links (each folder its own); null when there is no such folder. */
  setFolderFollowSymlinks(id: number, follow: boolean): FolderInfo | null {
    return folders.setFolderFollowSymlinks(this.w, id, follow);
  }

  // ---- photos and scan errors (photos.ts)

  getPhoto(id: number): PhotoInfo | null {
    return photos.getPhoto(this.w, id);
  }

  /** getPhoto with what only the engine needs: the device and inode the scan saw, when it was indexed. */
  getStoredPhoto(id: number): photos.StoredPhoto | null {
    return photos.getStoredPhoto(this.w, id);
  }

  getPhotoByPath(path: string): photos.StoredPhoto | null {
    return photos.getPhotoByPath(this.w, path);
  }

  /** Every photo of a folder, whatever its status, by path. */
  photosInFolder(folderId: number): photos.StoredPhoto[] {
    return photos.photosInFolder(this.w, folderId);
  }

  /** Inserts the photo or updates the row with the same path (keeping its id); returns the id. */
  upsertPhoto(rec: photos.PhotoRecord): number {
    return photos.upsertPhoto(this.w, rec);
  }

  markMissing(ids: readonly number[]): void {
    photos.markMissing(this.w, ids);
  }

  /** Deletes photos and (by cascade) their vectors. */
  deletePhotos(ids: readonly number[]): void {
    photos.deletePhotos(this.w, ids);
  }

  countPhotos(query: { status?: PhotoStatus } = {}): number {
    return photos.countPhotos(this.w, query);
  }

  /** A page of indexed photos. 'name' sorts by file name (case-insensitive), 'date' by capture date then mtime. */
  listPhotos(query: { offset?: number; limit?: number; sort?: photos.PhotoSort } = {}): PhotoPage {
    return photos.listPhotos(this.w, query);
  }

  /** Every indexed photo's id and aspect ratio in listPhotos order, with the months of the date sort. */
  photoLayout(query: { sort?: photos.PhotoSort } = {}): PhotoLayout {
    return photos.photoLayout(this.w, query);
  }

  /** The photos with these ids (any status), in the order asked; ids not in the library are left out. */
  getPhotos(ids: readonly number[]): PhotoInfo[] {
    return photos.getPhotos(this.w, ids);
  }

  /** Files that could not be indexed plus what a scan could not read (folders, names), as listErrors gives them. */
  countErrors(): number {
    return photos.countErrors(this.w);
  }

  /** Replaces what the last scan of a folder could not read. */
  setScanErrors(folderId: number, errors: readonly FileError[]): void {
    photos.setScanErrors(this.w, folderId, errors);
  }

  /** Files that could not be indexed and what scans could not read, by path, each with the reason. */
  listErrors(): FileError[] {
    return photos.listErrors(this.w);
  }

  /** Groups of indexed photos with identical content hashes (exact duplicates), by hash. */
  photosByHash(): photos.HashGroup[] {
    return photos.photosByHash(this.w);
  }

  // ---- models (models.ts) and vectors (vectors.ts)

  /** The named model's id, created if needed; a stored model of another shape loses its vectors (models.ts). */
  ensureModel(spec: models.ModelSpec): number {
    return models.ensureModel(this.w, spec);
  }

  putVector(photoId: number, modelId: number, vector: Float32Array): void {
    vectors.putVector(this.w, photoId, modelId, vector);
  }

  getVector(photoId: number, modelId: number): Float32Array | null {
    return vectors.getVector(this.w, photoId, modelId);
  }

  /** Every vector of indexed photos for a model, packed for brute-force search. */
  allVectors(modelId: number): vectors.VectorSet {
    return vectors.allVectors(this.w, modelId);
  }

  /** How many indexed photos have a vector for the model. */
  countVectors(modelId: number): number {
    return vectors.countVectors(this.w, modelId);
  }

  /** Every vector of indexed photos for a model, one at a time, unordered; `fn` gets the same buffer each time. */
  forEachVector(modelId: number, fn: (photoId: number, vector: Float32Array) => void): void {
    vectors.forEachVector(this.w, modelId, fn);
  }

  /** A vector the model already has for this content (a moved, renamed or copied file), with its photo. */
  vectorByHash(hash: string, modelId: number): { photo: photos.StoredPhoto; vector: Float32Array } | null {
    return vectors.vectorByHash(this.w, hash, modelId);
  }

  /** Ids of a folder's photos that have a vector for the model. */
  photoIdsWithVector(folderId: number, modelId: number): Set<number> {
    return vectors.photoIdsWithVector(this.w, folderId, modelId);
  }

  // ---- corner views, encoded views, turned views (views.ts)

  /** Stores a photo's corner views (made keeping `fraction` of each side), replacing any it had. */
  putViews(photoId: number, modelId: number, fraction: number, views: readonly Float32Array[]): void {
    photoViews.putViews(this.w, photoId, modelId, fraction, views);
  }

  deleteViews(photoId: number, modelId: number): void {
    photoViews.deleteViews(this.w, photoId, modelId);
  }

  /** A photo's corner views made with this fraction (their direction: compare by cosine), or null. */
  getViews(photoId: number, modelId: number, fraction: number): Float32Array[] | null {
    return photoViews.getViews(this.w, photoId, modelId, fraction);
  }

  /** The views of at most `limit` photos after photo id `after`, in id order (a page of a scan). */
  viewsPage(modelId: number, fraction: number, after: number, limit: number): [number, Float32Array[]][] {
    return photoViews.viewsPage(this.w, modelId, fraction, after, limit);
  }

  /** Every indexed photo's views as stored: each photo's views as one int8 array (view after view, dim values each). */
  forEachViewBytes(modelId: number, fraction: number, fn: (photoId: number, bytes: Int8Array) => void): void {
    photoViews.forEachViewBytes(this.w, modelId, fraction, fn);
  }

  /** Ids of a folder's photos that have corner views of this fraction for the model. */
  photoIdsWithViews(folderId: number, modelId: number, fraction: number): Set<number> {
    return photoViews.photoIdsWithViews(this.w, folderId, modelId, fraction);
  }

  /** Stores the views encoded from crops of the thumbnail of content `hash`; returns them as stored (quantised). */
  putEncodedViews(
    photoId: number,
    modelId: number,
    fraction: number,
    hash: string,
    views: readonly Float32Array[],
  ): Float32Array[] {
    return photoViews.putEncodedViews(this.w, photoId, modelId, fraction, hash, views);
  }

  /** The views encoded for this photo from the thumbnail of content `hash`, or null (none, or made from other content). */
  getEncodedViews(photoId: number, modelId: number, fraction: number, hash: string): Float32Array[] | null {
    return photoViews.getEncodedViews(this.w, photoId, modelId, fraction, hash);
  }

  /** Stores a photo's turned views (its picture turned 90 and 180 degrees), replacing any it had. */
  putTurns(photoId: number, modelId: number, turns: readonly Float32Array[]): void {
    photoViews.putTurns(this.w, photoId, modelId, turns);
  }

  /** A photo's turned views (compare by cosine), or null. */
  getTurns(photoId: number, modelId: number): Float32Array[] | null {
    return photoViews.getTurns(this.w, photoId, modelId);
  }

  /** The turned views of photos a page at a time, as viewsPage. */
  turnsPage(modelId: number, after: number, limit: number): [number, Float32Array[]][] {
    return photoViews.turnsPage(this.w, modelId, after, limit);
  }

  /** Ids of a folder's photos that have turned views for the model. */
  photoIdsWithTurns(folderId: number, modelId: number): Set<number> {
    return photoViews.photoIdsWithTurns(this.w, folderId, modelId);
  }

  // ---- the duplicate verifier's verdicts and "not a duplicate" answers, by content-hash pair (pairs.ts)

  /** The measure stored for two contents (in either order) by this verifier version, as stored (JSON), or null. */
  getVerdict(hashA: string, hashB: string, version: number): string | null {
    return pairs.getVerdict(this.w, hashA, hashB, version);
  }

  /** Stores measures (JSON, for the ordered pair hashA < hashB), in one transaction. */
  putVerdicts(verdicts: readonly { hashA: string; hashB: string; measure: string }[], version: number): void {
    pairs.putVerdicts(this.w, verdicts, version);
  }

  /** Deletes a model's vectors and every view made with it (vectors.ts). */
  deleteVectorsForModel(modelId: number): void {
    vectors.deleteVectorsForModel(this.w, modelId);
  }

  /** Remembers that photos with these content hashes are not duplicates of each other (in either order). */
  addNotDuplicate(hashA: string, hashB: string): void {
    pairs.addNotDuplicate(this.w, hashA, hashB);
  }

  /** Forgets an answer; returns whether there was one. */
  removeNotDuplicate(hashA: string, hashB: string): boolean {
    return pairs.removeNotDuplicate(this.w, hashA, hashB);
  }

  /** Every answer, hashA <= hashB. */
  notDuplicatePairs(): pairs.NotDuplicatePair[] {
    return pairs.notDuplicatePairs(this.w);
  }

  // ---- action log (actions.ts)

  /** Starts an action; files are added one by one as they move, so a crash loses at most the file in flight. */
  beginAction(kind: actions.ActionRecord['kind'], trasher: string): number {
    return actions.beginAction(this.w, kind, trasher);
  }

  /** Logs a file of an action: 'moving' before the file moves (duplicates/journal.ts), else 'trashed'. */
  addActionFile(file: actions.NewActionFile): number {
    return actions.addActionFile(this.w, file);
  }

  /** Records where a 'moving' file went (null fields: the trash cannot tell); returns whether the row was moving. */
  markActionFileMoved(
    fileId: number,
    where: { trashPath: string | null; infoPath: string | null; deletedAt: string | null },
  ): boolean {
    return actions.markActionFileMoved(this.w, fileId, where);
  }

  getActionFile(fileId: number): actions.ActionFile | null {
    return actions.getActionFile(this.w, fileId);
  }

  /** Forgets a 'moving' file that never left its place. */
  dropMovingActionFile(fileId: number): boolean {
    return actions.dropMovingActionFile(this.w, fileId);
  }

  /** Files whose move was begun and never recorded as done or undone (a process killed in between). */
  movingActionFiles(): actions.ActionFile[] {
    return actions.movingActionFiles(this.w);
  }

  /** The trash paths of every logged file not yet put back. */
  loggedTrashPaths(): Set<string> {
    return actions.loggedTrashPaths(this.w);
  }

  /** Deletes every open action without files (begun by a process that moved nothing); returns how many. */
  dropEmptyActions(): number {
    return actions.dropEmptyActions(this.w);
  }

  /** Deletes an action that ended up moving nothing; returns whether it did. */
  dropEmptyAction(id: number): boolean {
    return actions.dropEmptyAction(this.w, id);
  }

  getAction(id: number): actions.ActionRecord | null {
    return actions.getAction(this.w, id);
  }

  /** The most recent action not yet undone, with its files. */
  lastOpenAction(): actions.ActionRecord | null {
    return actions.lastOpenAction(this.w);
  }

  markActionFileRestored(fileId: number, at = Date.now()): void {
    actions.markActionFileRestored(this.w, fileId, at);
  }

  markActionUndone(id: number, at = Date.now()): void {
    actions.markActionUndone(this.w, id, at);
  }

  // ---- settings (settings.ts)

  getSetting(key: string): string | null {
    return settings.getSetting(this.w, key);
  }

  setSetting(key: string, value: string): void {
    settings.setSetting(this.w, key, value);
  }

  deleteSetting(key: string): void {
    settings.deleteSetting(this.w, key);
  }
}
