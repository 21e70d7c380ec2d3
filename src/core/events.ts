// The engine's event bus: what the service tells its front doors (progress, status, library changes, scans).
import type { DoppelEvents } from '../shared/api.js';

export type Listener<K extends keyof DoppelEvents> = (payload: DoppelEvents[K]) => void;

/** Typed listeners by event name; `on` returns the unsubscriber. */
export class EventBus {
  private readonly listeners = new Map<keyof DoppelEvents, Set<(payload: never) => void>>();

  on<K extends keyof DoppelEvents>(event: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  emit<K extends keyof DoppelEvents>(event: K, payload: DoppelEvents[K]): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as Listener<K>)(payload);
  }
}
