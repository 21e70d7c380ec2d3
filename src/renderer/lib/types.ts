import type { PhotoRef } from '../../shared/api.js';

export interface MenuItem {
  label: string;
  action: () => void;
  /** Why the entry cannot be used here; the entry is shown disabled with this explanation. */
  unavailable?: string | null;
  danger?: boolean;
}

/** What "find similar" was asked about: a library photo, or an image dropped from outside. */
export type SimilarQuery =
  { kind: 'photo'; photo: PhotoRef } | { kind: 'image'; name: string; url: string; bytes: Uint8Array };
