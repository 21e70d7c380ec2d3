// The one contract between Doppel's engine and its front doors (Electron IPC, CLI, loopback bridge).
// Pure TypeScript: this file imports nothing.

export type PhotoStatus = 'indexed' | 'error' | 'missing';

export interface FolderInfo {
  id: number;
  path: string;
  addedAt: number;
  /** 'offline' when the folder could not be reached at the last scan; its photos are kept. */
  status: 'online' | 'offline';
}

export interface PhotoInfo {
  id: number;
  folderId: number;
  path: string;
  size: number;
  mtimeMs: number;
  /** Hex content hash of the file's bytes; equal hashes are exact duplicates. */
  hash: string | null;
  width: number | null;
  height: number | null;
  format: string | null;
  /** Capture date from EXIF as an ISO string, when the file has one. */
  takenAt: string | null;
  /** EXIF orientation 1-8, when the file has one. */
  orientation: number | null;
  status: PhotoStatus;
  /** Why the file could not be indexed (status 'error'). */
  error: string | null;
}

export interface FileError {
  path: string;
  reason: string;
}

export interface ModelInfo {
  name: string;
  /** Length of the stored vector. */
  dim: number;
  /** Side of the square model input in pixels. */
  inputSize: number;
  /** Which TensorFlow.js backend runs it: 'tensorflow' (tfjs-node) or 'wasm'. */
  backend: string;
}

export interface LibraryInfo {
  photos: number;
  errors: number;
  folders: number;
  model: ModelInfo;
  dbPath: string;
}

export type IndexPhase = 'scan' | 'index' | 'done';

export interface IndexProgress {
  phase: IndexPhase;
  done: number;
  total: number;
  currentPath: string | null;
  /** Files per second over the indexing phase so far. */
  rate: number;
  /** Estimated time left in milliseconds, null while unknown. */
  etaMs: number | null;
}

export interface IndexSummary {
  /** Files seen in the scanned folders. */
  scanned: number;
  added: number;
  updated: number;
  unchanged: number;
  removed: number;
  errors: FileError[];
  /** Folders that could not be reached; their photos were kept. */
  offlineFolders: string[];
  durationMs: number;
}

export interface PhotoRef {
  id: number;
  path: string;
  width: number | null;
  height: number | null;
}

export interface SimilarResult {
  photo: PhotoRef;
  /** Cosine similarity in [-1, 1]. */
  score: number;
}

export type DuplicateKind = 'exact' | 'near' | 'similar';

export interface DuplicateMember {
  path: string;
  photoId: number;
  /** Similarity to the group's reference photo (1 for exact copies). */
  score: number;
}

export interface DuplicateGroup {
  kind: DuplicateKind;
  reference: string;
  keeper: string;
  members: DuplicateMember[];
}

export interface DuplicateQuery {
  kinds?: DuplicateKind[];
  /** Cosine similarity a near duplicate must reach against its group's reference. */
  nearThreshold?: number;
  similarThreshold?: number;
}

export interface Reconstruction {
  /** PNG of the model input (what the model sees). */
  input: Uint8Array;
  /** PNG of the decoder's output for that input. */
  output: Uint8Array;
  /** Mean squared error between input and output on [0,1] pixels. */
  mse: number;
}

export interface PhotoPage {
  total: number;
  photos: PhotoInfo[];
}

export interface PhotoQuery {
  offset?: number;
  limit?: number;
  sort?: 'name' | 'date' | 'path';
}

/** Every member is one request/response pair; the same type drives IPC, the bridge and the CLI. */
export interface DoppelApi {
  info(): Promise<LibraryInfo>;
  listFolders(): Promise<FolderInfo[]>;
  addFolder(path: string): Promise<FolderInfo>;
  removeFolder(id: number): Promise<void>;
  /** Scans every folder and indexes what is new or changed. */
  indexAll(): Promise<IndexSummary>;
  listPhotos(query: PhotoQuery): Promise<PhotoPage>;
  listErrors(): Promise<FileError[]>;
  similarToPhoto(photoId: number, k: number): Promise<SimilarResult[]>;
  /** Query by an image that need not be in the library (dropped file, CLI argument). */
  similarToImage(image: Uint8Array, k: number): Promise<SimilarResult[]>;
  reconstructPhoto(photoId: number): Promise<Reconstruction>;
  findDuplicates(query: DuplicateQuery): Promise<DuplicateGroup[]>;
}

export interface DoppelEvents {
  progress: IndexProgress;
  libraryChanged: { added: number; updated: number; removed: number };
}

export type DoppelErrorKind =
  'invalid-argument' | 'not-found' | 'decode-failed' | 'io' | 'model' | 'database' | 'cancelled' | 'internal';

/** Errors cross process boundaries as plain data. */
export interface DoppelErrorData {
  kind: DoppelErrorKind;
  message: string;
}

export class DoppelError extends Error {
  readonly kind: DoppelErrorKind;
  constructor(kind: DoppelErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DoppelError';
    this.kind = kind;
  }
  toData(): DoppelErrorData {
    return { kind: this.kind, message: this.message };
  }
}

export function isDoppelErrorData(value: unknown): value is DoppelErrorData {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { kind?: unknown }).kind === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

export const API_MEMBERS = [
  'info',
  'listFolders',
  'addFolder',
  'removeFolder',
  'indexAll',
  'listPhotos',
  'listErrors',
  'similarToPhoto',
  'similarToImage',
  'reconstructPhoto',
  'findDuplicates',
] as const satisfies readonly (keyof DoppelApi)[];
