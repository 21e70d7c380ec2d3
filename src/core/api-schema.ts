// The argument schemas of every DoppelApi member, shared by the front doors that take calls from a page (the
// Electron IPC handlers and the loopback bridge): one zod schema per member, and one dispatch that validates the
// arguments, calls the service and answers with data (errors keep their kind).
import { z } from 'zod';
import { DoppelError, KEEPER_RULES, type DoppelApi, type DoppelErrorData } from '../shared/api.js';
import type { ApiMember, IpcResult } from '../shared/ipc.js';

/** Upper bounds that keep one request from asking for unbounded work or memory. */
export const API_LIMITS = {
  maxK: 10_000,
  maxPageSize: 10_000,
  maxImageBytes: 256 * 1024 * 1024,
  maxPathLength: 32_767,
  /** Photos one trash request may move. */
  maxTrashIds: 100_000,
  /** Entries of a settings list (formats, folders). */
  maxListLength: 1_000,
} as const;

const id = z.number().int().positive();
const k = z.number().int().min(1).max(API_LIMITS.maxK);
const folderPath = z.string().min(1).max(API_LIMITS.maxPathLength);
const image = z
  .instanceof(Uint8Array)
  .refine((bytes) => bytes.byteLength > 0, 'image is empty')
  .refine((bytes) => bytes.byteLength <= API_LIMITS.maxImageBytes, 'image is too large');
const similarity = z.number().min(-1).max(1);
const photoQuery = z.strictObject({
  offset: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).max(API_LIMITS.maxPageSize).optional(),
  sort: z.enum(['name', 'date', 'path']).optional(),
});
const photoLayoutQuery = z.strictObject({ sort: z.enum(['name', 'date', 'path']).optional() });
const duplicateQuery = z.strictObject({
  kinds: z.array(z.enum(['exact', 'near', 'similar'])).optional(),
  nearThreshold: similarity.optional(),
  similarThreshold: similarity.optional(),
  verify: z.boolean().optional(),
  rescan: z.boolean().optional(),
});
const exportFormat = z.enum(['csv', 'json']);
const photoIds = z.array(id).max(API_LIMITS.maxTrashIds);
const trashOptions = z.strictObject({ dryRun: z.boolean().optional() });
const settingsUpdate = z.strictObject({
  nearThreshold: similarity.nullable().optional(),
  similarThreshold: similarity.nullable().optional(),
  keeperRules: z.array(z.enum(KEEPER_RULES)).max(KEEPER_RULES.length).nullable().optional(),
  formatPreference: z.array(z.string().min(1).max(64)).max(API_LIMITS.maxListLength).nullable().optional(),
  preferredFolders: z.array(folderPath).max(API_LIMITS.maxListLength).nullable().optional(),
  exclude: z.array(z.string().min(1).max(1024)).max(API_LIMITS.maxListLength).nullable().optional(),
  watch: z.boolean().nullable().optional(),
  findCroppedCopies: z.boolean().nullable().optional(),
});

interface Handler<K extends keyof DoppelApi> {
  /** The member's whole argument list as a tuple; extra or missing arguments fail. */
  readonly args: z.ZodType<Parameters<DoppelApi[K]>>;
  readonly call: (service: DoppelApi, args: Parameters<DoppelApi[K]>) => ReturnType<DoppelApi[K]>;
}

/** Typed by DoppelApi's keys, so a member without a handler (or a handler without a member) fails typecheck. */
const apiHandlers: { readonly [K in keyof DoppelApi]: Handler<K> } = {
  info: { args: z.tuple([]), call: (s) => s.info() },
  listFolders: { args: z.tuple([]), call: (s) => s.listFolders() },
  addFolder: { args: z.tuple([folderPath]), call: (s, [path]) => s.addFolder(path) },
  removeFolder: { args: z.tuple([id]), call: (s, [folderId]) => s.removeFolder(folderId) },
  indexAll: { args: z.tuple([]), call: (s) => s.indexAll() },
  indexStatus: { args: z.tuple([]), call: (s) => s.indexStatus() },
  pauseIndexing: { args: z.tuple([]), call: (s) => s.pauseIndexing() },
  resumeIndexing: { args: z.tuple([]), call: (s) => s.resumeIndexing() },
  cancelIndexing: { args: z.tuple([]), call: (s) => s.cancelIndexing() },
  listPhotos: { args: z.tuple([photoQuery]), call: (s, [query]) => s.listPhotos(query) },
  getPhotos: { args: z.tuple([z.array(id).max(API_LIMITS.maxPageSize)]), call: (s, [ids]) => s.getPhotos(ids) },
  photoLayout: { args: z.tuple([photoLayoutQuery]), call: (s, [query]) => s.photoLayout(query) },
  listErrors: { args: z.tuple([]), call: (s) => s.listErrors() },
  similarToPhoto: { args: z.tuple([id, k]), call: (s, [photoId, n]) => s.similarToPhoto(photoId, n) },
  similarToImage: { args: z.tuple([image, k]), call: (s, [bytes, n]) => s.similarToImage(bytes, n) },
  reconstructPhoto: { args: z.tuple([id]), call: (s, [photoId]) => s.reconstructPhoto(photoId) },
  findDuplicates: { args: z.tuple([duplicateQuery]), call: (s, [query]) => s.findDuplicates(query) },
  exportDuplicates: {
    args: z.tuple([duplicateQuery, exportFormat]),
    call: (s, [query, format]) => s.exportDuplicates(query, format),
  },
  setReferenceFolder: {
    args: z.tuple([id, z.boolean()]),
    call: (s, [folderId, reference]) => s.setReferenceFolder(folderId, reference),
  },
  markNotDuplicate: { args: z.tuple([id, id]), call: (s, [a, b]) => s.markNotDuplicate(a, b) },
  clearNotDuplicate: { args: z.tuple([id, id]), call: (s, [a, b]) => s.clearNotDuplicate(a, b) },
  trashPhotos: { args: z.tuple([photoIds, trashOptions]), call: (s, [ids, opts]) => s.trashPhotos(ids, opts) },
  undoLastAction: { args: z.tuple([]), call: (s) => s.undoLastAction() },
  getSettings: { args: z.tuple([]), call: (s) => s.getSettings() },
  updateSettings: { args: z.tuple([settingsUpdate]), call: (s, [update]) => s.updateSettings(update) },
};

export function failure(error: DoppelErrorData): IpcResult<never> {
  return { ok: false, error };
}

function describeIssues(member: string, error: z.ZodError): string {
  const issues = error.issues.map((issue) => {
    const where = issue.path.length > 0 ? `argument ${issue.path.map(String).join('.')}` : 'arguments';
    return `${where}: ${issue.message}`;
  });
  return `${member}: ${issues.join('; ')}`;
}

export function toErrorData(member: string, err: unknown): DoppelErrorData {
  if (err instanceof DoppelError) return err.toData();
  // Unexpected failures keep their detail in the log; the renderer gets the message only.
  console.error(`doppel: ${member} failed`, err);
  return { kind: 'internal', message: err instanceof Error ? err.message : String(err) };
}

/** Validates `raw` as `member`'s argument list and calls the service; never throws. */
export async function dispatch(
  service: DoppelApi,
  member: ApiMember,
  raw: readonly unknown[],
): Promise<IpcResult<unknown>> {
  return dispatchTyped(service, member, raw);
}

async function dispatchTyped<K extends ApiMember>(
  service: DoppelApi,
  member: K,
  raw: readonly unknown[],
): Promise<IpcResult<unknown>> {
  const handler: Handler<K> = apiHandlers[member];
  const parsed = handler.args.safeParse(raw);
  if (!parsed.success) return failure({ kind: 'invalid-argument', message: describeIssues(member, parsed.error) });
  try {
    return { ok: true, value: await handler.call(service, parsed.data) };
  } catch (err) {
    return failure(toErrorData(member, err));
  }
}
