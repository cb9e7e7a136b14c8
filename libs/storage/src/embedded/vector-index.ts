import { createHash } from "node:crypto";
import { closeSync, existsSync, fsyncSync, openSync, readSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { Index, MetricKind, ScalarKind } from "usearch";

/** HNSW build and search parameters (usearch). */
export interface HnswParams {
  /** Graph degree M. */
  connectivity: number;
  /** Candidate list size while inserting (efConstruction). */
  expansionAdd: number;
  /** Minimum candidate list size while searching (ef); a search for k > ef uses k. */
  expansionSearch: number;
}

export const DEFAULT_HNSW: HnswParams = { connectivity: 16, expansionAdd: 128, expansionSearch: 64 };

/**
 * The in-memory HNSW index over every memory's embedding, keyed by the
 * SQLite row key. It is a cache of the SQLite table: it can always be
 * rebuilt from there, so its file needs to be atomic and verifiable, not
 * durable on every write.
 */
export class VectorIndex {
  private index: Index;

  constructor(
    readonly dimensions: number,
    private readonly params: HnswParams,
  ) {
    this.index = this.fresh();
  }

  get size(): number {
    return this.index.size();
  }

  /** Drops every vector. */
  clear(): void {
    this.index = this.fresh();
  }

  /** Adds vectors (row-major in `vectors`), replacing any held under the same keys. */
  put(keys: readonly number[], vectors: Float32Array): void {
    if (keys.length === 0) return;
    const big = BigUint64Array.from(keys, (key) => BigInt(key));
    // usearch refuses a key it already holds, so a replacement is remove + add.
    this.index.remove(big);
    this.index.add(big, vectors, keys.length >= 256 ? 0 : 1);
  }

  remove(keys: readonly number[]): void {
    if (keys.length > 0) this.index.remove(BigUint64Array.from(keys, (key) => BigInt(key)));
  }

  /** The `count` nearest keys by cosine distance, nearest first. */
  nearest(query: Float32Array, count: number): number[] {
    if (this.index.size() === 0 || count <= 0) return [];
    const matches = this.index.search(query, count, 1);
    return Array.from(matches.keys, (key) => Number(key));
  }

  /**
   * Writes the index to `path` atomically (temp file, fsync, rename, fsync of
   * the directory) and returns the SHA-256 of what was written.
   */
  saveAtomically(path: string): string {
    const temp = `${path}.tmp-${process.pid}`;
    try {
      this.index.save(temp);
      const fd = openSync(temp, "r");
      let digest: string;
      try {
        fsyncSync(fd);
        digest = sha256Of(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, path);
      fsyncDirectory(dirname(path));
      return digest;
    } finally {
      rmSync(temp, { force: true });
    }
  }

  /**
   * Replaces this index with the one in `path` if the file exists and its
   * SHA-256 matches: usearch aborts the whole process on some malformed
   * files, so nothing unverified is ever handed to it. Returns whether it
   * loaded.
   */
  loadVerified(path: string, expectedSha256: string | undefined): boolean {
    if (expectedSha256 === undefined || !existsSync(path)) return false;
    const fd = openSync(path, "r");
    let digest: string;
    try {
      digest = sha256Of(fd);
    } finally {
      closeSync(fd);
    }
    if (digest !== expectedSha256) return false;
    const loaded = this.fresh();
    try {
      loaded.load(path);
    } catch {
      return false;
    }
    if (loaded.dimensions() !== this.dimensions) return false;
    this.index = loaded;
    return true;
  }

  private fresh(): Index {
    return new Index({
      dimensions: this.dimensions,
      metric: MetricKind.Cos,
      quantization: ScalarKind.F32,
      connectivity: this.params.connectivity,
      expansion_add: this.params.expansionAdd,
      expansion_search: this.params.expansionSearch,
      multi: false,
    });
  }
}

function sha256Of(fd: number): string {
  const hash = createHash("sha256");
  const chunk = Buffer.allocUnsafe(1 << 20);
  let position = 0;
  for (;;) {
    const read = readSync(fd, chunk, 0, chunk.length, position);
    if (read === 0) break;
    hash.update(chunk.subarray(0, read));
    position += read;
  }
  return hash.digest("hex");
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
