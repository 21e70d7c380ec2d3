import type { PhotoRef } from '../../shared/api.js';

export interface MenuItem {
  label: string;
  action: () => void;
  /** Why the entry cannot be used here; the entry is shown disabled with this explanation. */
  unavailable?: string | null;
  danger?: boolean;
}

/**
 * What "find similar" was asked about: a library photo, or an image from outside, dropped on the window or opened
 * (named on the desktop app's command line, e.g. by a file manager's "Find similar photos").
 */
export type SimilarQuery = { kind: 'photo'; photo: PhotoRef } | ImageQuery;

export interface ImageQuery {
  kind: 'image';
  name: string;
  url: string;
  bytes: Uint8Array;
  origin: 'dropped' | 'opened';
}
