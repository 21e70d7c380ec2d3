// The one contract between Doppel's engine and its front doors (Electron IPC, CLI, loopback bridge).
// Pure TypeScript: this file imports nothing.

export type PhotoStatus = 'indexed' | 'error' | 'missing';

/** Which picture of a photo the media front doors serve: its display thumbnail or the original file. */
export type MediaKind = 'thumb' | 'original';

export interface FolderInfo {
  id: number;
  path: string;
  addedAt: number;
  /** 'offline' when the folder could not be reached at the last scan; its photos are kept. */
  status: 'online' | 'offline';
  /** A reference folder: its photos are never proposed for removal, and a group's keeper comes from it. */
  reference: boolean;
  /**
   * Scans follow symbolic links to files and folders (a saved setting of this folder, off by default): photos
   * reached through a link are indexed, shown and can be moved to the trash (the link moves, not its target).
   */
  followSymlinks: boolean;
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
  /**
   * The decoder's format name: 'jpeg', 'png', 'webp', 'gif', 'tiff', 'heif' (HEIC and AVIF), 'jxl', 'bmp', 'pnm', or
   * 'raw' for a camera RAW, which is read from the camera's JPEG preview (src/shared/formats.ts names them).
   */
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

export type IndexState = 'idle' | 'running' | 'paused';

/** Where background indexing stands; also sent as the `indexStatus` event whenever it changes. */
export interface IndexStatus {
  state: IndexState;
  /** The last progress of the current run; null when idle. */
  progress: IndexProgress | null;
  /** Whether the library's folders are being watched for changes. */
  watching: boolean;
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
  /** Cosine similarity to the group's reference photo (1 for the reference itself and for exact copies). */
  score: number;
  /**
   * Kept when the group is acted on: the keeper and every photo in a reference folder. In a look-alike group (not
   * verified to be the same photo) nothing is selected for the trash nor moved by `doppel dupes --trash`.
   */
  keep: boolean;
  /** The photo lies in a reference folder (never proposed for removal). */
  referenceFolder: boolean;
  size: number;
  width: number | null;
  height: number | null;
  format: string | null;
  /**
   * What the duplicate verifier saw between this photo and the group's keeper (else its reference), in words ("mirrored",
   * "rotated 90°", "cropped to 70%", "greyscale", "border added", "re-encoded", ...); empty for the reference
   * itself, for exact copies and for look-alikes (unverified).
   */
  edits: string[];
}

/**
 * A group of duplicates. Every member is within the tier's threshold of `reference` (groups are tight, not
 * chains); `keeper` is the member the keeper rules suggest keeping. `members` lists every photo of the group,
 * the reference first.
 */
export interface DuplicateGroup {
  kind: DuplicateKind;
  reference: string;
  keeper: string;
  members: DuplicateMember[];
}

export interface DuplicateQuery {
  /**
   * Tiers to list (default exact and near). exact: identical files, and a camera RAW with the JPEG shot with it;
   * near: pairs the verifier found to be the same picture (an edited copy); similar ("look-alikes"): similar vectors
   * that are not verified as the same picture.
   */
  kinds?: DuplicateKind[];
  /** Cosine similarity a near duplicate must reach against its group's reference (default: the setting). */
  nearThreshold?: number;
  /** Cosine similarity a similar photo must reach against its group's reference (default: the setting). */
  similarThreshold?: number;
  /**
   * Verify candidate pairs by comparing the pictures (default true). false: the near tier is the cosine threshold
   * alone, as before verification existed (faster, and wrong for many look-alikes; for measurements).
   */
  verify?: boolean;
  /**
   * Search the whole library again (default false). A scan of a library unchanged since the last scan of
   * the same query reads that scan's groups back; a new or changed photo, folder, mark or setting moves the library
   * on and the next scan searches again by itself.
   */
  rescan?: boolean;
}

export type ExportFormat = 'csv' | 'json';

/**
 * Keeper rules, applied in the order the settings give until one tells two photos apart:
 * - original: a photo the duplicate verifier saw to be derived from another member (cropped from it, greyscale of
 *   its colour, with a border added) last
 * - resolution: more pixels first
 * - format: earlier in `formatPreference` first (formats not listed come last)
 * - exif: a capture date (EXIF) first: edited and re-saved copies usually lose it
 * - file-size: bigger file first
 * - oldest: earlier capture date first (the file's mtime when there is none, or when both have the same date)
 * - preferred-folder: inside an earlier entry of `preferredFolders` first
 * Photos in reference folders always come before the others; the last resort is the shorter, then smaller, path.
 */
export type KeeperRule = 'original' | 'resolution' | 'format' | 'file-size' | 'exif' | 'oldest' | 'preferred-folder';

/** Every rule, in the default order: originals first, then the photo more likely to be one. */
export const KEEPER_RULES = [
  'original',
  'resolution',
  'exif',
  'oldest',
  'format',
  'file-size',
  'preferred-folder',
] as const satisfies readonly KeeperRule[];

/** The library's adjustable settings. Thresholds are per model (cosine scales differ between models). */
export interface Settings {
  nearThreshold: number;
  similarThreshold: number;
  keeperRules: KeeperRule[];
  /** Format names as the photos list them ('jpeg', 'png', 'heif', ...), preferred first. */
  formatPreference: string[];
  /** Absolute folder paths, preferred first. */
  preferredFolders: string[];
  /** Globs of paths (relative to each library folder) that indexing skips, e.g. `**\/Thumbs/**`, `*.gif`. */
  exclude: string[];
  /** Keep the library in sync with its folders while the app runs. */
  watch: boolean;
  /**
   * Find cropped copies: every photo also gets four corner views, so a copy cut down to about three quarters of
   * a photo's sides is found as its duplicate. The model predicts the views from the codes it makes anyway
   * (photos indexed before get theirs from their cached thumbnails); duplicate scans search with them too, which
   * makes them several times as long. On by default where the model offers them (`cropViewsAvailable`).
   */
  findCroppedCopies: boolean;
  /** Whether the model offers corner views; when not, findCroppedCopies cannot be turned on. */
  cropViewsAvailable: boolean;
  /** What the thresholds are when not set: the model card's calibrated values, else Doppel's fallback. */
  defaults: { nearThreshold: number; similarThreshold: number };
  /**
   * Where each threshold in force comes from. 'fallback' means nobody calibrated it for this model: a review
   * should say so before acting on near or similar groups.
   */
  sources: { nearThreshold: ThresholdSource; similarThreshold: ThresholdSource };
}

export type ThresholdSource = 'setting' | 'model-card' | 'fallback';

/** A partial update; `null` puts a setting back to its default. */
export type SettingsUpdate = {
  [K in Exclude<keyof Settings, 'defaults' | 'sources' | 'cropViewsAvailable'>]?: Settings[K] | null;
};

export interface TrashOptions {
  /** Report what would be moved and change nothing. */
  dryRun?: boolean;
}

export interface TrashedFile {
  photoId: number;
  path: string;
}

export interface TrashReport {
  /** The action log entry that `undoLastAction` reverts; null for a dry run or when nothing moved. */
  actionId: number | null;
  dryRun: boolean;
  /** Files moved to the trash (in a dry run: that would be moved). */
  files: TrashedFile[];
  /** Files left in place, each with the reason. */
  skipped: FileError[];
  /** Whether `undoLastAction` can put the files back on this platform; when not, `undoNote` says why. */
  undoable: boolean;
  undoNote: string | null;
}

export interface UndoReport {
  actionId: number;
  /** Files put back at their old paths. */
  restored: string[];
  /**
   * Files that could not be put back, each with the reason. Undo again retries those that may still come back (a
   * transient error); a file that never can (gone from the trash, a file of the user's in its place) is reported
   * once, and the action is closed so that the next undo goes on to the one before it.
   */
  failed: FileError[];
  /** Restored files indexed again. */
  reindexed: number;
  /** Failed files that the next undo retries (0 when the action is closed: every other one can never come back). */
  retried: number;
}

export interface Reconstruction {
  /** PNG of the model input (what the model sees). */
  input: Uint8Array;
  /** PNG of the decoder's output for that input. */
  output: Uint8Array;
  /** Mean squared error between input and output on [0,1] pixels. */
  mse: number;
  /** The encoder's code, one small map per channel of its bottleneck (what the model keeps of the picture). */
  codeMaps: CodeMap[];
  /**
   * Channels of a detail code that the decoder reads beside the code, to draw the picture more faithfully; it is
   * neither stored nor compared (0 when the decoder reads the code alone).
   */
  detailChannels: number;
}

/** One channel of the code as a grey PNG, scaled from its own min (black) to max (white). */
export interface CodeMap {
  width: number;
  height: number;
  png: Uint8Array;
  min: number;
  max: number;
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

/** Which photos photoLayout describes, in which order: the order listPhotos gives for the same sort. */
export interface PhotoLayoutQuery {
  sort?: PhotoQuery['sort'];
}

/**
 * A run of consecutive photos (in the layout's order) under one heading: for the 'date' sort, one month of the
 * photos' dates (`key` 'YYYY-MM' of the EXIF capture date, else of the file's modification time in UTC, as the sort
 * uses them; its runs are contiguous because the month is the start of the sort key).
 */
export interface PhotoSection {
  key: string;
  /** Position of the run's first photo in the layout. */
  start: number;
  count: number;
}

/**
 * Every listed photo's id and shape in listPhotos order, packed, so the grid can place all of them before fetching
 * their pages: 6 bytes a photo (600 KB for 100,000) plus the sections. Byte arrays carry the typed arrays' bytes
 * (little-endian, as on every platform Doppel runs on), since byte arrays are what both front doors carry as binary.
 */
export interface PhotoLayout {
  count: number;
  /** `count` photo ids as a Uint32Array's bytes. */
  ids: Uint8Array;
  /**
   * `count` aspect ratios (width / height after the EXIF orientation) times ASPECT_SCALE, rounded, as a Uint16Array's
   * bytes: 0 when the photo has no known size. Ratios are clamped to [1 / 64, 64].
   */
  aspects: Uint8Array;
  /** The 'date' sort's months in order, covering every photo; none for the other sorts. */
  sections: PhotoSection[];
}

/** PhotoLayout.aspects holds width / height times this. */
export const ASPECT_SCALE = 1000;

/** Every member is one request/response pair; the same type drives IPC, the bridge and the CLI. */
export interface DoppelApi {
  info(): Promise<LibraryInfo>;
  listFolders(): Promise<FolderInfo[]>;
  addFolder(path: string): Promise<FolderInfo>;
  removeFolder(id: number): Promise<void>;
  /** Scans every folder and indexes what is new or changed. */
  indexAll(): Promise<IndexSummary>;
  indexStatus(): Promise<IndexStatus>;
  /** Pauses the running indexing after its current batch (its work so far is kept). */
  pauseIndexing(): Promise<IndexStatus>;
  resumeIndexing(): Promise<IndexStatus>;
  /** Stops the running indexing after its current batch; finished batches are kept, `indexAll` rejects 'cancelled'. */
  cancelIndexing(): Promise<IndexStatus>;
  listPhotos(query: PhotoQuery): Promise<PhotoPage>;
  /** Every listed photo's id and aspect ratio in listPhotos order, with the months of the date sort (compact). */
  photoLayout(query: PhotoLayoutQuery): Promise<PhotoLayout>;
  /**
   * The photos with these ids, in the order asked (the grid's pages, by the ids of photoLayout: no sort per page);
   * ids the library does not have are left out.
   */
  getPhotos(ids: number[]): Promise<PhotoInfo[]>;
  listErrors(): Promise<FileError[]>;
  similarToPhoto(photoId: number, k: number): Promise<SimilarResult[]>;
  /** Query by an image that need not be in the library (dropped file, CLI argument). */
  similarToImage(image: Uint8Array, k: number): Promise<SimilarResult[]>;
  reconstructPhoto(photoId: number): Promise<Reconstruction>;
  findDuplicates(query: DuplicateQuery): Promise<DuplicateGroup[]>;
  /** The groups of findDuplicates as CSV (one row per member) or JSON (an array of groups). */
  exportDuplicates(query: DuplicateQuery, format: ExportFormat): Promise<string>;
  /** Marks or unmarks a folder as a reference folder. */
  setReferenceFolder(folderId: number, reference: boolean): Promise<FolderInfo>;
  /** Remembers that two photos are not duplicates (by content hash: it survives moves and re-indexing). */
  markNotDuplicate(photoA: number, photoB: number): Promise<void>;
  /** Forgets a "not a duplicate" answer. */
  clearNotDuplicate(photoA: number, photoB: number): Promise<void>;
  /** Moves photos to the system trash (never deletes), removes them from the library and logs the action. */
  trashPhotos(photoIds: number[], opts: TrashOptions): Promise<TrashReport>;
  /** Puts the files of the last trash action back and indexes them again. */
  undoLastAction(): Promise<UndoReport>;
  getSettings(): Promise<Settings>;
  updateSettings(update: SettingsUpdate): Promise<Settings>;
}

/**
 * Where a duplicate scan that searches the library stands (a scan that reads its last groups back sends none):
 * photos whose corner views were searched so far, photos whose cropped views are encoded of those it has to encode,
 * photos whose turned views were searched, pairs compared picture by picture of those it has to compare (pairs
 * compared by an earlier scan are not counted), then done.
 */
export interface DuplicateScanProgress {
  step: 'views' | 'encode' | 'turns' | 'verify' | 'done';
  done: number;
  total: number;
}

export interface DoppelEvents {
  progress: IndexProgress;
  indexStatus: IndexStatus;
  libraryChanged: { added: number; updated: number; removed: number };
  duplicateScan: DuplicateScanProgress;
}

/** Every DoppelEvents name: what the desktop window and the bridge forward, and what `on` accepts there. */
export const EVENT_NAMES: readonly (keyof DoppelEvents)[] = [
  'progress',
  'indexStatus',
  'libraryChanged',
  'duplicateScan',
];

export type DoppelErrorKind =
  | 'invalid-argument'
  | 'not-found'
  | 'decode-failed'
  | 'io'
  | 'model'
  | 'database'
  | 'cancelled'
  /** The platform cannot do it (e.g. undoing a move to the trash where the trash cannot be read back). */
  | 'unsupported'
  | 'internal';

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
  'indexStatus',
  'pauseIndexing',
  'resumeIndexing',
  'cancelIndexing',
  'listPhotos',
  'photoLayout',
  'getPhotos',
  'listErrors',
  'similarToPhoto',
  'similarToImage',
  'reconstructPhoto',
  'findDuplicates',
  'exportDuplicates',
  'setReferenceFolder',
  'markNotDuplicate',
  'clearNotDuplicate',
  'trashPhotos',
  'undoLastAction',
  'getSettings',
  'updateSettings',
] as const satisfies readonly (keyof DoppelApi)[];
