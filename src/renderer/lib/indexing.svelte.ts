// Background indexing as the renderer shows it: its state and progress, and indexing now, pause, resume, cancel.
import type { IndexProgress, IndexStatus } from '../../shared/api.js';
import type { Client } from './client.js';
import type { LibraryManager } from './library.svelte.js';
import type { Notifications } from './notifications.svelte.js';

export class IndexingManager {
  status = $state<IndexStatus>({ state: 'idle', progress: null, watching: false });
  progress = $state<IndexProgress | null>(null);
  /** Indexing runs or is paused. */
  readonly active = $derived(this.status.state !== 'idle');
  /** How much of the photos being indexed are done, 0 to 1. */
  readonly fraction = $derived(this.progress && this.progress.total > 0 ? this.progress.done / this.progress.total : 0);

  readonly #client: Client;
  readonly #library: LibraryManager;
  readonly #notifications: Notifications;

  constructor(client: Client, library: LibraryManager, notifications: Notifications) {
    this.#client = client;
    this.#library = library;
    this.#notifications = notifications;
  }

  /** Reads where indexing stands, then follows its events until the returned function is called. */
  connect(): () => void {
    void this.#client.api.indexStatus().then((s) => {
      this.status = s;
      this.progress = s.progress;
    });
    const offs = [
      this.#client.on('progress', (p) => (this.progress = p)),
      this.#client.on('indexStatus', (s) => {
        this.status = s;
        if (s.state === 'idle') this.progress = null;
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  /** Indexes every folder now; the status line says what it found, or why it stopped. */
  async indexNow(): Promise<void> {
    this.#notifications.clear();
    try {
      const summary = await this.#client.api.indexAll();
      const errors = summary.errors.length > 0 ? `, ${summary.errors.length} could not be read` : '';
      this.#notifications.show(
        `Indexed: ${summary.added} added, ${summary.updated} updated, ${summary.removed} removed${errors}.`,
      );
    } catch (err) {
      this.#notifications.handleError(err, 'Indexing stopped');
    } finally {
      await this.#library.refresh().catch(() => undefined);
    }
  }

  pause(): Promise<IndexStatus> {
    return this.#client.api.pauseIndexing();
  }

  resume(): Promise<IndexStatus> {
    return this.#client.api.resumeIndexing();
  }

  cancel(): Promise<IndexStatus> {
    return this.#client.api.cancelIndexing();
  }
}
