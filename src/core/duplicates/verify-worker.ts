// A verifier thread: loads OpenCV.js once and compares pairs of cached thumbnails (verify.ts), keeping the
// features of the pictures it saw last, since a photo is often in several candidate pairs.
import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { loadOpenCv, loadPicture, Verifier, type Features, type VerifyPicture } from './verify.js';
import type { FromVerifier, ToVerifier } from './verify-protocol.js';

const port = parentPort;
if (!port) throw new Error('verify-worker.ts runs as a worker thread');
const post = (msg: FromVerifier) => port.postMessage(msg);

/** Pictures whose features are kept (each ~40 KB with its grey Mat, its mirror's when made). */
const KEPT = 400;

interface Seen {
  picture: VerifyPicture;
  features: Features;
  mirror: Features | null;
}

let verifier: Verifier;
const seen = new Map<string, Seen>();

async function picture(file: string): Promise<Seen> {
  const kept = seen.get(file);
  if (kept) {
    seen.delete(file);
    seen.set(file, kept);
    return kept;
  }
  const p = await loadPicture(await fs.promises.readFile(file));
  const entry: Seen = { picture: p, features: verifier.features(p, false), mirror: null };
  seen.set(file, entry);
  for (const [key, old] of seen) {
    if (seen.size <= KEPT) break;
    verifier.free(old.features);
    if (old.mirror) verifier.free(old.mirror);
    seen.delete(key);
  }
  return entry;
}

try {
  const { cv } = await loadOpenCv();
  verifier = new Verifier(cv);
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'failed', message: (err as Error)?.message ?? String(err) });
}

port.on('message', (msg: ToVerifier) => {
  void (async () => {
    const results: (ReturnType<Verifier['compare']> | { error: string })[] = [];
    for (const job of msg.jobs) {
      try {
        const a = await picture(job.a);
        const b = await picture(job.b);
        results.push(
          await verifier.verifyPair(a, {
            picture: b.picture,
            features: b.features,
            mirror: () => (b.mirror ??= verifier.features(b.picture, true)),
          }),
        );
      } catch (err) {
        results.push({ error: (err as Error)?.message ?? String(err) });
      }
    }
    post({ type: 'done', id: msg.id, results });
  })();
});
