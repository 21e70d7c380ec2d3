// The duplicate review as the service offers it: scans with the settings in force (scan.ts), the verifier's
// threads kept between scans, what the last scan did, and the user's "not a duplicate" answers.
import { DoppelError, type DuplicateGroup, type DuplicateQuery } from '../../shared/api.js';
import type { KeeperOptions } from './keeper.js';
import { scanDuplicates, type ScanReport, type ScanSetup } from './scan.js';
import { VerifierPool } from './verify-pool.js';

/** What a scan needs that the service knows: everything in ScanSetup but the verifier and the settings in force. */
export interface DuplicateReviewOptions extends Omit<ScanSetup, 'pool' | 'near' | 'similar' | 'keeper' | 'crops'> {
  /** The settings in force when a scan starts. */
  inForce: () => Pick<ScanSetup, 'near' | 'similar' | 'crops'> & { keeper: KeeperOptions };
}

export class DuplicateReview {
  private pool: VerifierPool | null = null;
  /** What the last scan's verification did: pairs measured now, read from the library, left unverified. */
  lastVerification: { fresh: number; cached: number; skipped: number } | null = null;
  /** What the last scan did: groups kept from an earlier scan, or a search (and whether it was complete). */
  lastScan: ScanReport | null = null;

  constructor(private readonly opts: DuplicateReviewOptions) {}

  async find(query: DuplicateQuery): Promise<DuplicateGroup[]> {
    const { inForce, ...setup } = this.opts;
    const { groups, report } = await scanDuplicates(query, {
      ...setup,
      ...inForce(),
      pool: () => (this.pool ??= new VerifierPool()),
    });
    this.lastScan = report;
    if (report.verification) this.lastVerification = report.verification;
    return groups;
  }

  markNotDuplicate(photoA: number, photoB: number): void {
    this.opts.store.addNotDuplicate(...this.hashPair(photoA, photoB));
  }

  clearNotDuplicate(photoA: number, photoB: number): void {
    this.opts.store.removeNotDuplicate(...this.hashPair(photoA, photoB));
  }

  /** Stops the verifier's threads. */
  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = null;
  }

  /** The content hashes of two different library photos, for "not a duplicate" answers. */
  private hashPair(photoA: number, photoB: number): [string, string] {
    if (photoA === photoB) throw new DoppelError('invalid-argument', 'A photo cannot be "not a duplicate" of itself');
    return [photoA, photoB].map((id) => {
      const photo = this.opts.store.getPhoto(id);
      if (!photo) throw new DoppelError('not-found', `No photo with id ${id}`);
      if (!photo.hash)
        throw new DoppelError('invalid-argument', `${photo.path} has no content hash (it could not be read)`);
      return photo.hash;
    }) as [string, string];
  }
}
