// The action log (tables actions, action_files): the trash journal's rows, written before and after each move.
import { reads, writes, type ReadDb, type WriteDb } from './handles.js';

/** One file an action moved to the trash, as the action log keeps it. */
export interface ActionFile {
  id: number;
  actionId: number;
  /** Null once the folder has left the library. */
  folderId: number | null;
  path: string;
  hash: string | null;
  size: number;
  /** Where the trash put the file, when the trash can tell. */
  trashPath: string | null;
  /** The freedesktop .trashinfo file that describes it, when there is one. */
  infoPath: string | null;
  /** DeletionDate as the trash recorded it. */
  deletedAt: string | null;
  restoredAt: number | null;
  /** 'moving' from just before the file moves until the move is recorded (duplicates/journal.ts). */
  state: ActionFileState;
  /** When the row was written (ms). */
  createdAt: number | null;
  /**
   * Set when what moved is a symbolic link (of a folder that follows links): the link's target, as readlink gave
   * it. The link itself moves, and the journal knows it by this target, never by the bytes it leads to.
   */
  linkTarget: string | null;
}

export type ActionFileState = 'moving' | 'trashed';

export interface ActionRecord {
  id: number;
  kind: 'trash';
  /** Name of the Trasher that moved the files. */
  trasher: string;
  createdAt: number;
  undoneAt: number | null;
  files: ActionFile[];
}

/** What addActionFile logs: a file's row without what the log fills in (state 'trashed' and no link by default). */
export type NewActionFile = Omit<ActionFile, 'id' | 'restoredAt' | 'state' | 'createdAt' | 'linkTarget'> & {
  state?: ActionFileState;
  linkTarget?: string | null;
};

interface ActionRow {
  id: number;
  kind: 'trash';
  trasher: string;
  created_at: number;
  undone_at: number | null;
}

interface ActionFileRow {
  id: number;
  action_id: number;
  folder_id: number | null;
  path: string;
  hash: string | null;
  size: number;
  trash_path: string | null;
  info_path: string | null;
  deleted_at: string | null;
  restored_at: number | null;
  state: ActionFileState;
  created_at: number | null;
  link_target: string | null;
}

const toActionFile = (r: ActionFileRow): ActionFile => ({
  id: r.id,
  actionId: r.action_id,
  folderId: r.folder_id,
  path: r.path,
  hash: r.hash,
  size: r.size,
  trashPath: r.trash_path,
  infoPath: r.info_path,
  deletedAt: r.deleted_at,
  restoredAt: r.restored_at,
  state: r.state,
  createdAt: r.created_at,
  linkTarget: r.link_target,
});

const actionInsert = writes('INSERT INTO actions (kind, trasher, created_at) VALUES (?, ?, ?) RETURNING id', 'pluck');
const actionFileInsert = writes(
  `
  INSERT INTO action_files (action_id, folder_id, path, hash, size, trash_path, info_path, deleted_at, state,
                            created_at, link_target)
  VALUES (@actionId, @folderId, @path, @hash, @size, @trashPath, @infoPath, @deletedAt, @state, @createdAt,
          @linkTarget)
  RETURNING id`,
  'pluck',
);
const actionFileMoved = writes(`
  UPDATE action_files SET state = 'trashed', trash_path = @trashPath, info_path = @infoPath,
    deleted_at = @deletedAt WHERE id = @id AND state = 'moving'`);
const actionFileById = reads('SELECT * FROM action_files WHERE id = ?');
const actionFileDelete = writes("DELETE FROM action_files WHERE id = ? AND state = 'moving'");
const actionFilesMoving = reads("SELECT * FROM action_files WHERE state = 'moving' ORDER BY id");
const actionTrashPaths = reads(
  'SELECT trash_path FROM action_files WHERE trash_path IS NOT NULL AND restored_at IS NULL',
  'pluck',
);
const actionDeleteAllEmpty = writes(`
  DELETE FROM actions WHERE undone_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM action_files WHERE action_id = actions.id)`);
const actionLastOpen = reads('SELECT * FROM actions WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1');
const actionById = reads('SELECT * FROM actions WHERE id = ?');
const actionFiles = reads('SELECT * FROM action_files WHERE action_id = ? ORDER BY id');
const actionFileRestored = writes('UPDATE action_files SET restored_at = ? WHERE id = ?');
const actionUndone = writes('UPDATE actions SET undone_at = ? WHERE id = ?');
const actionDeleteEmpty = writes(
  'DELETE FROM actions WHERE id = ? AND NOT EXISTS (SELECT 1 FROM action_files WHERE action_id = actions.id)',
);

function toAction(db: ReadDb, row: ActionRow): ActionRecord {
  return {
    id: row.id,
    kind: row.kind,
    trasher: row.trasher,
    createdAt: row.created_at,
    undoneAt: row.undone_at,
    files: (actionFiles(db).all(row.id) as ActionFileRow[]).map(toActionFile),
  };
}

/** Starts an action; files are added one by one as they move, so a crash loses at most the file in flight. */
export function beginAction(db: WriteDb, kind: ActionRecord['kind'], trasher: string): number {
  return actionInsert(db).get(kind, trasher, Date.now()) as number;
}

/**
 * Logs a file of an action. The journal writes it as 'moving' before the file moves (see
 * duplicates/journal.ts); a file logged after the fact is 'trashed' (the default).
 */
export function addActionFile(db: WriteDb, file: NewActionFile): number {
  return actionFileInsert(db).get({
    state: 'trashed',
    linkTarget: null,
    ...file,
    createdAt: Date.now(),
  }) as number;
}

/** Records where a 'moving' file went (null fields: the trash cannot tell); returns whether the row was moving. */
export function markActionFileMoved(
  db: WriteDb,
  fileId: number,
  where: { trashPath: string | null; infoPath: string | null; deletedAt: string | null },
): boolean {
  const { trashPath, infoPath, deletedAt } = where;
  return actionFileMoved(db).run({ id: fileId, trashPath, infoPath, deletedAt }).changes > 0;
}

export function getActionFile(db: ReadDb, fileId: number): ActionFile | null {
  const row = actionFileById(db).get(fileId) as ActionFileRow | undefined;
  return row ? toActionFile(row) : null;
}

/** Forgets a 'moving' file that never left its place. */
export function dropMovingActionFile(db: WriteDb, fileId: number): boolean {
  return actionFileDelete(db).run(fileId).changes > 0;
}

/** Files whose move was begun and never recorded as done or undone (a process killed in between). */
export function movingActionFiles(db: ReadDb): ActionFile[] {
  return (actionFilesMoving(db).all() as ActionFileRow[]).map(toActionFile);
}

/** The trash paths of every logged file not yet put back. */
export function loggedTrashPaths(db: ReadDb): Set<string> {
  return new Set(actionTrashPaths(db).all() as string[]);
}

/** Deletes every open action without files (begun by a process that moved nothing); returns how many. */
export function dropEmptyActions(db: WriteDb): number {
  return actionDeleteAllEmpty(db).run().changes;
}

/** Deletes an action that ended up moving nothing; returns whether it did. */
export function dropEmptyAction(db: WriteDb, id: number): boolean {
  return actionDeleteEmpty(db).run(id).changes > 0;
}

export function getAction(db: ReadDb, id: number): ActionRecord | null {
  const row = actionById(db).get(id) as ActionRow | undefined;
  return row ? toAction(db, row) : null;
}

/** The most recent action not yet undone, with its files. */
export function lastOpenAction(db: ReadDb): ActionRecord | null {
  const row = actionLastOpen(db).get() as ActionRow | undefined;
  return row ? toAction(db, row) : null;
}

export function markActionFileRestored(db: WriteDb, fileId: number, at = Date.now()): void {
  actionFileRestored(db).run(at, fileId);
}

export function markActionUndone(db: WriteDb, id: number, at = Date.now()): void {
  actionUndone(db).run(at, id);
}
