// The search index persisted beside the library, so a library opens without re-reading and re-quantising every
// vector and without training its partition again. Two files per model in `<library>.search/`:
//   <model>.rows   "DOPPELIX", a uint32 header length, a JSON header, the ids (int32 LE), the int8 rows;
//   <model>.cells  the partition: its centroids (cells x dim int8), the cell of each row (int32 LE), then each
//                  row's graph links (degree photo ids, int32 LE).
// The header names the library (the token SQLite keeps for the model), the model, the dimension, the row count,
// the generation of the library's vectors the rows were taken at, and CRC-32s of the rows and of the cells file.
// Each file is written to a temporary name, flushed and renamed over the old one, the rows file last: it is the
// commit point, so a process killed mid-write leaves either the old snapshot or files whose CRCs do not match.
// A snapshot is trusted only when every check passes; otherwise the caller rebuilds from SQLite.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const MAGIC = 'DOPPELIX';
const VERSION = 2;

export interface SnapshotHeader {
  version: number;
  model: string;
  dim: number;
  count: number;
  token: string;
  generation: number;
  rowsCrc: number;
  partition: { cells: number; trainedOn: number; degree: number; bytes: number; crc: number } | null;
}

/** A partition as saved: its centroids, the photos it was trained on, and the cell of each row in row order. */
export interface SavedPartition {
  centroids: Int8Array;
  trainedOn: number;
  cells: Int32Array;
  /** Links a photo keeps in the graph. */
  degree: number;
  /** Each row's links (degree photo ids, -1 for none). */
  links: Int32Array;
}

export interface Snapshot {
  header: SnapshotHeader;
  ids: Int32Array;
  data: Int8Array;
  /** The partition, when one was saved and its file checks out. */
  partition: SavedPartition | null;
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

export function snapshotPaths(dir: string, model: string): { rows: string; cells: string } {
  return { rows: path.join(dir, `${fileName(model)}.rows`), cells: path.join(dir, `${fileName(model)}.cells`) };
}

function crcOf(...parts: ArrayBufferView[]): number {
  let crc = 0;
  for (const p of parts) crc = zlib.crc32(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), crc);
  return crc;
}

/** Writes the snapshot (see the file comment for the order that keeps it safe). */
export function writeSnapshot(
  dir: string,
  meta: Omit<SnapshotHeader, 'version' | 'count' | 'rowsCrc' | 'partition'>,
  rows: { ids: Int32Array; data: Int8Array },
  partition: SavedPartition | null,
): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const paths = snapshotPaths(dir, meta.model);
  const suffix = `.${process.pid}.tmp`;
  let partitionInfo: SnapshotHeader['partition'] = null;
  if (partition) {
    const tmp = paths.cells + suffix;
    const parts = [partition.centroids, partition.cells, partition.links];
    writeParts(tmp, parts);
    partitionInfo = {
      cells: partition.centroids.length / meta.dim,
      trainedOn: partition.trainedOn,
      degree: partition.degree,
      bytes: parts.reduce((n, p) => n + p.byteLength, 0),
      crc: crcOf(...parts),
    };
    fs.renameSync(tmp, paths.cells);
  }
  const header: SnapshotHeader = {
    version: VERSION,
    ...meta,
    count: rows.ids.length,
    rowsCrc: crcOf(rows.ids, rows.data),
    partition: partitionInfo,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(12);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.byteLength, 8);
  const tmp = paths.rows + suffix;
  writeParts(tmp, [head, json, rows.ids, rows.data]);
  fs.renameSync(tmp, paths.rows);
  if (!partition) fs.rmSync(paths.cells, { force: true });
}

/** Writes `parts` one after another to `file` and flushes it. */
function writeParts(file: string, parts: ArrayBufferView[]): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (const part of parts) {
      const bytes = new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
      let written = 0;
      while (written < bytes.byteLength) written += fs.writeSync(fd, bytes, written);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
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
  return { header, ids, data, partition: readPartition(paths.cells, header) };
}

/** The saved partition when its file matches the header, else null (the caller trains a new one). */
function readPartition(file: string, header: SnapshotHeader): SavedPartition | null {
  const info = header.partition;
  if (!info) return null;
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return null;
  }
  const centroidBytes = info.cells * header.dim;
  const cellBytes = header.count * 4;
  const linkBytes = header.count * info.degree * 4;
  if (bytes.byteLength !== info.bytes || bytes.byteLength !== centroidBytes + cellBytes + linkBytes) return null;
  const centroids = new Int8Array(centroidBytes);
  centroids.set(new Int8Array(bytes.buffer, bytes.byteOffset, centroidBytes));
  // Copies: the file buffer's offset may not suit an Int32Array view.
  const cells = new Int32Array(header.count);
  new Uint8Array(cells.buffer).set(bytes.subarray(centroidBytes, centroidBytes + cellBytes));
  const links = new Int32Array(header.count * info.degree);
  new Uint8Array(links.buffer).set(bytes.subarray(centroidBytes + cellBytes));
  if (crcOf(centroids, cells, links) !== info.crc) return null;
  return { centroids, trainedOn: info.trainedOn, cells, degree: info.degree, links };
}
