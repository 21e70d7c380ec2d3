// The library's settings (table settings): string values by key, as core/settings.ts reads and writes them.
import { reads, writes, type ReadDb, type WriteDb } from './handles.js';

const settingGet = reads('SELECT value FROM settings WHERE key = ?', 'pluck');
const settingDelete = writes('DELETE FROM settings WHERE key = ?');
const settingSet = writes(
  'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
);

export function getSetting(db: ReadDb, key: string): string | null {
  return (settingGet(db).get(key) as string | undefined) ?? null;
}

export function setSetting(db: WriteDb, key: string, value: string): void {
  settingSet(db).run(key, value);
}

export function deleteSetting(db: WriteDb, key: string): void {
  settingDelete(db).run(key);
}
