// How DoppelApi values travel as JSON over the loopback bridge: byte arrays (images, PNGs) become
// `{ "$bytes": "<base64>" }`; everything else is plain JSON. Pure TypeScript, runs in Node and in the page.

const BYTES = '$bytes';
const CHUNK = 0x8000;

function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A JSON-ready copy of `value` with every Uint8Array replaced by its base64 form. */
export function toWire(value: unknown): unknown {
  if (value instanceof Uint8Array) return { [BYTES]: bytesToBase64(value) };
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = toWire(v);
    return out;
  }
  return value;
}

/**
 * The inverse of toWire, applied to parsed JSON. A malformed `$bytes` string throws, and so does a `__proto__` key
 * (JSON.parse makes it an own property; copied by assignment it would replace the new object's prototype).
 */
export function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]![0] === BYTES && typeof entries[0]![1] === 'string') {
      return base64ToBytes(entries[0]![1]);
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of entries) {
      if (key === '__proto__') throw new Error('a __proto__ key is not allowed');
      out[key] = fromWire(v);
    }
    return out;
  }
  return value;
}
