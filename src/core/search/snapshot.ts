// The search index persisted beside the library, so a library opens without re-reading and re-quantising every
// vector and without rebuilding its HNSW graph. Two files per model in `<library>.search/`:
//   <model>.rows   "DOPPELIX", a uint32 header length, a JSON header, the ids (int32 LE), the int8 rows;
//   <model>.hnsw   the usearch graph (usearch's own format).
// The header names the library (the token SQLite keeps for the model), the model, the dimension, the row count,
// the generation of the library's vectors the rows were taken at, and CRC-32s of the rows and of the graph file.
// Each file is written to a temporary name, flushed and renamed over the old one, the rows file last: it is the
// commit point, so a process killed mid-write leaves either the old snapshot or files whose CRCs do not match.
// A snapshot is trusted only when every check passes; otherwise the caller rebuilds from SQLite.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { HnswGraph } from './search-index.js';

const MAGIC = 'DOPPELIX';
const VERSION = 1;

export interface SnapshotHeader {
  version: number;
  model: string;
  dim: number;
  count: number;
  token: string;
  generation: number;
  rowsCrc: number;
  graph: { bytes: number; crc: number } | null;
}

export interface Snapshot {
  header: SnapshotHeader;
  ids: Int32Array;
  data: Int8Array;
  /** The graph, when one was saved and its file checks out. */
  graph: HnswGraph | null;
}

/** What a snapshot must match to be trusted. */
export interface SnapshotExpectation {
  model: string;
  dim: number;
  token: string;
  /** The library's current generation: a snapshot from a later one is not this library's past. */
  generation: number;
}

const fileName = (model: string): string => model.replace(/[^A-Za-z0-9._-]/g, '_');

export function snapshotPaths(dir: string, model: string): { rows: string; graph: string } {
  return { rows: path.join(dir, `${fileName(model)}.rows`), graph: path.join(dir, `${fileName(model)}.hnsw`) };
}

function crcOf(...parts: ArrayBufferView[]): number {
  let crc = 0;
  for (const p of parts) crc = zlib.crc32(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), crc);
  return crc;
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes the snapshot (see the file comment for the order that keeps it safe). */
export function writeSnapshot(
  dir: string,
  meta: Omit<SnapshotHeader, 'version' | 'count' | 'rowsCrc' | 'graph'>,
  rows: { ids: Int32Array; data: Int8Array },
  graph: HnswGraph | null,
): void {
  fs.mkdirSync(dir, { recursive: true });
  const paths = snapshotPaths(dir, meta.model);
  const suffix = `.${process.pid}.tmp`;
  let graphInfo: SnapshotHeader['graph'] = null;
  if (graph) {
    const tmp = paths.graph + suffix;
    graph.save(tmp);
    fsyncFile(tmp);
    const bytes = fs.readFileSync(tmp);
    graphInfo = { bytes: bytes.byteLength, crc: crcOf(bytes) };
    fs.renameSync(tmp, paths.graph);
  }
  const header: SnapshotHeader = {
    version: VERSION,
    ...meta,
    count: rows.ids.length,
    rowsCrc: crcOf(rows.ids, rows.data),
    graph: graphInfo,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(12);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.byteLength, 8);
  const tmp = paths.rows + suffix;
  const fd = fs.openSync(tmp, 'w');
  try {
    for (const part of [head, json, rows.ids, rows.data]) {
      const bytes = new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
      let written = 0;
      while (written < bytes.byteLength) written += fs.writeSync(fd, bytes, written);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, paths.rows);
  if (!graph) fs.rmSync(paths.graph, { force: true });
}

/** The snapshot when it exists and passes every check, else null with the reason. */
export function readSnapshot(dir: string, expect: SnapshotExpectation): Snapshot | { reason: string } {
  const paths = snapshotPaths(dir, expect.model);
  let buf: Buffer;
  try {
    buf = fs.readFileSync(paths.rows);
  } catch {
    return { reason: 'no snapshot' };
  }
  if (buf.byteLength < 12 || buf.toString('latin1', 0, 8) !== MAGIC) return { reason: 'not a snapshot' };
  const length = buf.readUInt32LE(8);
  let header: SnapshotHeader;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + length)) as SnapshotHeader;
  } catch {
    return { reason: 'unreadable header' };
  }
  if (header.version !== VERSION) return { reason: `snapshot version ${header.version}` };
  if (header.model !== expect.model || header.dim !== expect.dim) return { reason: 'another model' };
  if (header.token !== expect.token) return { reason: 'another library' };
  if (!(header.generation <= expect.generation)) return { reason: 'from a later generation of the library' };
  const start = 12 + length;
  const idBytes = header.count * 4;
  if (buf.byteLength !== start + idBytes + header.count * header.dim) return { reason: 'truncated or padded' };
  // Copies: the file buffer's offset may not suit an Int32Array view.
  const ids = new Int32Array(header.count);
  new Uint8Array(ids.buffer).set(buf.subarray(start, start + idBytes));
  const data = new Int8Array(buf.buffer, buf.byteOffset + start + idBytes, header.count * header.dim);
  if (crcOf(ids, data) !== header.rowsCrc) return { reason: 'rows do not match their checksum' };
  let graph: HnswGraph | null = null;
  if (header.graph) {
    try {
      const bytes = fs.readFileSync(paths.graph);
      if (bytes.byteLength === header.graph.bytes && crcOf(bytes) === header.graph.crc) {
        graph = HnswGraph.load(expect.dim, paths.graph);
        if (graph.size !== header.count) graph = null;
      }
    } catch {
      graph = null; // rebuilt by the caller
    }
  }
  return { header, ids, data, graph };
}
