// What is known about pairs of contents, by hash: "not a duplicate" answers and the duplicate verifier's verdicts.
import { DoppelError } from '../../shared/api.js';
import { inTransaction, reads, writes, type ReadDb, type WriteDb } from './handles.js';

export interface NotDuplicatePair {
  hashA: string;
  hashB: string;
}

/** Pairs are stored once, the smaller hash first. */
const orderedPair = (a: string, b: string): [string, string] => (a <= b ? [a, b] : [b, a]);

const verdictGet = reads('SELECT measure FROM pair_verdicts WHERE hash_a = ? AND hash_b = ? AND version = ?', 'pluck');
const verdictPut = writes(
  'INSERT OR REPLACE INTO pair_verdicts (hash_a, hash_b, version, measure, created_at) VALUES (?, ?, ?, ?, ?)',
);
const notDuplicateAdd = writes(
  'INSERT INTO not_duplicates (hash_a, hash_b, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
);
const notDuplicateDelete = writes('DELETE FROM not_duplicates WHERE hash_a = ? AND hash_b = ?');
const notDuplicateAll = reads('SELECT hash_a AS hashA, hash_b AS hashB FROM not_duplicates ORDER BY hash_a, hash_b');

// ---- the duplicate verifier's verdicts, by content-hash pair

/** The measure stored for two contents (in either order) by this verifier version, as stored (JSON), or null. */
export function getVerdict(db: ReadDb, hashA: string, hashB: string, version: number): string | null {
  const [a, b] = orderedPair(hashA, hashB);
  return (verdictGet(db).get(a, b, version) as string | undefined) ?? null;
}

/** Stores measures (JSON, for the ordered pair hashA < hashB), in one transaction. */
export function putVerdicts(
  db: WriteDb,
  verdicts: readonly { hashA: string; hashB: string; measure: string }[],
  version: number,
): void {
  const now = Date.now();
  const put = verdictPut(db);
  inTransaction(db, () => {
    for (const v of verdicts) {
      if (!(v.hashA < v.hashB)) throw new DoppelError('invalid-argument', 'A verdict needs hashA < hashB');
      put.run(v.hashA, v.hashB, version, v.measure, now);
    }
  });
}

// ---- "not a duplicate" answers

/** Remembers that photos with these content hashes are not duplicates of each other (in either order). */
export function addNotDuplicate(db: WriteDb, hashA: string, hashB: string): void {
  notDuplicateAdd(db).run(...orderedPair(hashA, hashB), Date.now());
}

/** Forgets an answer; returns whether there was one. */
export function removeNotDuplicate(db: WriteDb, hashA: string, hashB: string): boolean {
  return notDuplicateDelete(db).run(...orderedPair(hashA, hashB)).changes > 0;
}

/** Every answer, hashA <= hashB. */
export function notDuplicatePairs(db: ReadDb): NotDuplicatePair[] {
  return notDuplicateAll(db).all() as NotDuplicatePair[];
}
