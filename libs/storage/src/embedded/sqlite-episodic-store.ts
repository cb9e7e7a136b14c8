import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { bm25 } from "@t4dm/learning";
import type { AccessUpdate, EpisodicStore, LexicalSearchResult, PageCursor, SearchHit, StoreFilter, StoreHealth, StoredMemory } from "../episodic-store.js";
import { StoreClosedError, StoreConfigError, StoreInputError } from "../errors.js";
import { checkEmbedding, cosine, fromBlob, millis, toBlob } from "./embedding-blob.js";
import { filterSql } from "./filter-sql.js";
import { EPISODIC_SCHEMA, EPISODIC_SCHEMA_VERSION, type MemoryRow, rowToMemory } from "./episodic-schema.js";
import { checkSchemaVersion, MetaTable, openDatabase, type SqliteDatabase, StatementCache, type Statement } from "./sqlite-database.js";
import { buildLexicalIndex, lexicalColumns } from "./lexical-schema.js";
import { queryTermCounts } from "./term-frequency.js";
import { ScopeDirectory } from "./scope-directory.js";
import { SqliteWalSync, type SyncFile } from "./sqlite-wal-sync.js";
import { ThreadedVectorIndex } from "./threaded-vector-index.js";
import { DEFAULT_HNSW, type HnswParams } from "./vector-index.js";

export interface SqliteEpisodicStoreOptions {
  /** The store directory ($T4DM_DATA_DIR/store); created if missing. */
  dir: string;
  /** Embedding dimension, fixed per data directory. */
  dimensions: number;
  hnsw?: Partial<HnswParams>;
  /** Write the vector index file after this many vector changes (it is a cache: a crash costs only a catch-up from SQLite). */
  saveIndexEvery?: number;
  /** Searches whose namespace and filter match at most this many memories are exact scans instead of HNSW. */
  exactSearchBelow?: number;
  /**
   * "auto" (default) scans exactly when that reads fewer rows than the
   * over-fetched HNSW candidates would; "index" always tries HNSW first (for
   * tests and benchmarks of the index path).
   */
  searchStrategy?: "auto" | "index";
  /**
   * Which files and health label this memory table uses: the episodic store's
   * by default; the embedded graph store keeps its memory nodes in a second
   * table of the same kind (GRAPH_MEMORY_LAYOUT).
   */
  layout?: MemoryTableLayout;
  /** How the SQLite `-wal` file is made durable before a write resolves (fdatasync; a test may hold it back). */
  syncFile?: SyncFile;
}

/** The files of one embedded memory table, and the store name its health reports under. */
export interface MemoryTableLayout {
  database: string;
  index: string;
  store: string;
}

export const EPISODIC_LAYOUT: MemoryTableLayout = { database: "episodic.sqlite", index: "episodic.usearch", store: "episodic" };

/** How the vector index came to be at the last `init()`. */
export type IndexOrigin = "empty" | "loaded" | "caught-up" | "rebuilt";

/** Keyword candidates read and scored per result wanted (FTS5's own ranking picks them). */
const LEXICAL_CANDIDATES_PER_K = 5;
const LEXICAL_MIN_CANDIDATES = 50;
/** A term in more than this share of a namespace's memories does not pick keyword candidates (it still scores them). */
const COMMON_TERM_SHARE = 0.1;
const REBUILD_BATCH = 4096;

/**
 * The embedded episodic store: memories in SQLite (`episodic.sqlite`), their
 * embeddings also in one usearch HNSW index (`episodic.usearch`) keyed by the
 * row's integer key. SQLite is the truth; the index is a cache written on
 * close and every `saveIndexEvery` changes, and on start it is loaded only if
 * its SHA-256 matches the one recorded in SQLite, then caught up with the
 * rows changed since (each row and each deletion carries the generation of
 * its write), else rebuilt from SQLite. The index lives in a worker thread
 * (ThreadedVectorIndex): a change is sent right after its SQLite commit, in
 * commit order, so a search sent later sees it.
 *
 * Ids are unique per namespace: the same id in two namespaces is two
 * memories. One process owns a data directory at a time.
 *
 * Commits run with synchronous=NORMAL and a write resolves only after an
 * fdatasync of the SQLite WAL file (SqliteWalSync) on libuv's thread pool:
 * as durable as a FULL commit when the promise resolves, without blocking
 * the event loop for the sync. A promotion is logged as stored (STORE_SYNCED)
 * only after its upsert resolved, and redone after a crash until then, so a
 * commit lost with the page cache is written again from the WAL.
 */
export class SqliteEpisodicStore implements EpisodicStore {
  readonly backend = "embedded";
  private db: SqliteDatabase | undefined;
  private walSync: SqliteWalSync | undefined;
  private meta: MetaTable | undefined;
  private readonly vectors: ThreadedVectorIndex;
  /** Each row's namespace and kind, in memory, so searches neither count nor read out-of-scope rows. */
  private readonly directory = new ScopeDirectory();
  private readonly saveIndexEvery: number;
  private readonly exactSearchBelow: number;
  private generation = 0;
  private changesSinceSave = 0;
  private closed = false;
  private origin: IndexOrigin = "empty";
  private indexSaveError: string | undefined;
  private saving = false;
  private statements: StatementCache | undefined;
  private readonly layout: MemoryTableLayout;

  constructor(private readonly options: SqliteEpisodicStoreOptions) {
    this.layout = options.layout ?? EPISODIC_LAYOUT;
    if (!Number.isInteger(options.dimensions) || options.dimensions <= 0) {
      throw new StoreConfigError(`dimensions must be a positive integer, got ${options.dimensions}`);
    }
    this.vectors = new ThreadedVectorIndex(options.dimensions, { ...DEFAULT_HNSW, ...options.hnsw });
    this.saveIndexEvery = options.saveIndexEvery ?? 10_000;
    this.exactSearchBelow = options.exactSearchBelow ?? 2_048;
  }

  /** How the vector index was obtained at start-up (for logs and tests). */
  get indexOrigin(): IndexOrigin {
    return this.origin;
  }

  async init(): Promise<void> {
    if (this.closed) throw new StoreClosedError(`the ${this.layout.store} store is closed`);
    if (this.db) return;
    mkdirSync(this.options.dir, { recursive: true });
    const file = join(this.options.dir, this.layout.database);
    const db = openDatabase(file, "NORMAL");
    try {
      const meta = new MetaTable(db);
      db.transaction(() => {
        const version = meta.get("schema_version");
        // Version 1 (before the keyword index) is migrated below; anything else must be this version.
        if (version !== "1") checkSchemaVersion(meta, file, EPISODIC_SCHEMA_VERSION);
        const stored = meta.get("dimensions");
        if (stored === undefined) meta.set("dimensions", this.options.dimensions);
        else if (Number(stored) !== this.options.dimensions) {
          throw new StoreConfigError(
            `${file} holds ${stored}-dimensional embeddings but ${this.options.dimensions} are configured; the dimension is fixed per data directory`,
          );
        }
        db.exec(EPISODIC_SCHEMA);
        if (version === undefined || version === "1") {
          buildLexicalIndex(db, version === undefined ? EPISODIC_SCHEMA_VERSION : 1);
          meta.set("schema_version", EPISODIC_SCHEMA_VERSION);
        }
      })();
      this.generation = Number(meta.get("generation") ?? 0);
      this.db = db;
      this.walSync = new SqliteWalSync(file, this.options.syncFile);
      this.meta = meta;
      this.statements = new StatementCache(db);
      for (const row of this.statement<{ key: number; namespace: string; kind: number }>("SELECT key, namespace, kind FROM memories").iterate()) {
        this.directory.set(row.key, row.namespace, row.kind);
      }
      await this.openIndex();
    } catch (error) {
      this.db = undefined;
      this.walSync = undefined;
      this.statements = undefined;
      db.close();
      await this.vectors.close();
      throw error;
    }
  }

  async upsert(memories: readonly StoredMemory[]): Promise<void> {
    const db = this.open();
    if (memories.length === 0) return;
    const rows = memories.map((memory) => this.toRow(memory));
    const generation = this.generation + 1;
    const statement = this.statement<{ key: number }>(UPSERT);
    const keys = db.transaction(() => {
      this.meta!.set("generation", generation);
      return rows.map((row) => statement.get({ ...row, gen: generation })!.key);
    })();
    this.generation = generation;
    keys.forEach((key, i) => this.directory.set(key, rows[i]!.namespace, rows[i]!.kind));
    // The last write of a key in the batch wins, as it did in SQLite.
    const latest = new Map<number, Float32Array>();
    keys.forEach((key, i) => latest.set(key, memories[i]!.embedding));
    const matrix = new Float32Array(latest.size * this.options.dimensions);
    let offset = 0;
    for (const vector of latest.values()) {
      matrix.set(vector, offset);
      offset += vector.length;
    }
    // The index insert (worker thread) and the WAL sync (thread pool) run at once, both off the event loop.
    await Promise.all([this.applyToIndex(() => this.vectors.put([...latest.keys()], matrix), latest.size), this.walSync!.sync()]);
  }

  async get(namespace: string, id: string): Promise<StoredMemory | undefined> {
    const row = this.statement<MemoryRow>("SELECT * FROM memories WHERE namespace = ? AND id = ?").get(namespace, id);
    return row ? rowToMemory(row) : undefined;
  }

  /** Found memories in the order of `ids`; missing ids are left out. */
  async getMany(namespace: string, ids: readonly string[]): Promise<StoredMemory[]> {
    if (ids.length === 0) return [];
    const rows = this.statement<MemoryRow>("SELECT * FROM memories WHERE namespace = ? AND id IN (SELECT value FROM json_each(?))").all(
      namespace,
      JSON.stringify(ids),
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    return [...new Set(ids)].flatMap((id) => {
      const row = byId.get(id);
      return row ? [rowToMemory(row)] : [];
    });
  }

  async delete(namespace: string, ids: readonly string[]): Promise<void> {
    const db = this.open();
    if (ids.length === 0) return;
    const generation = this.generation + 1;
    const keys = db.transaction(() => {
      const deleted = this.statement<{ key: number }>("DELETE FROM memories WHERE namespace = ? AND id IN (SELECT value FROM json_each(?)) RETURNING key")
        .all(namespace, JSON.stringify(ids))
        .map((row) => row.key);
      if (deleted.length > 0) {
        // Tombstones let a stale index file catch up with deletions made after it was written.
        const tombstone = this.statement("INSERT OR REPLACE INTO vector_tombstones (key, gen) VALUES (?, ?)");
        for (const key of deleted) tombstone.run(key, generation);
        this.meta!.set("generation", generation);
      }
      return deleted;
    })();
    if (keys.length === 0) return;
    this.generation = generation;
    for (const key of keys) this.directory.remove(key);
    await Promise.all([this.applyToIndex(() => this.vectors.remove(keys), keys.length), this.walSync!.sync()]);
  }

  async findIds(namespace: string, filter: StoreFilter): Promise<string[]> {
    const where = filterSql(filter);
    return this.statement<{ id: string }>(`SELECT id FROM memories WHERE namespace = ? AND ${where.sql} ORDER BY create_time, id`)
      .all(namespace, ...where.params)
      .map((row) => row.id);
  }

  /**
   * The HNSW index is global, so it is over-fetched until enough of its
   * candidates fall in the namespace and filter (if the true nearest `fetch`
   * hold k matches, those are the k best matches), and similarities are then
   * recomputed exactly from the stored embeddings. When the namespace is
   * small, or the over-fetch would read as many rows as scanning the
   * namespace does, an exact scan is both cheaper and exact. The scope is
   * counted by namespace and kinds only (kept in memory); metadata and time
   * filters would need a scan of their own just to be counted.
   */
  async search(namespace: string, query: Float32Array, k: number, filter: StoreFilter): Promise<SearchHit[]> {
    this.open();
    checkEmbedding(query, this.options.dimensions, "the query");
    if (!(k > 0)) return [];
    k = Math.floor(k);
    const where = filterSql(filter);
    const inScope = this.directory.count(namespace, filter.kinds);
    if (inScope === 0) return [];
    let scored: Scored[] | undefined;
    const preferIndex = this.options.searchStrategy === "index";
    if (preferIndex || inScope > this.exactSearchBelow) {
      const total = await this.vectors.size();
      // Twice k: HNSW reads a beam of expansionSearch (64) candidates anyway, and a filter that
      // passes fewer than k of them grows the fetch below; a larger first fetch cost 2 ms at 100k.
      let fetch = Math.min(total, Math.max(2 * k, Math.ceil((3 * k * total) / inScope)));
      for (;;) {
        // Reading as many candidate rows as the scope holds costs more than scanning the scope.
        if (!preferIndex && fetch >= inScope) break;
        // Only candidates in the namespace and kinds are read; SQLite applies the rest of the filter.
        const keys = this.directory.filter(await this.vectors.nearest(query, fetch), namespace, filter.kinds);
        // "+namespace" keeps the planner on rowid lookups of the candidates instead of walking the namespace's index.
        const rows =
          keys.length === 0
            ? []
            : this.statement<CandidateRow>(
                `SELECT key, id, embedding FROM memories WHERE key IN (SELECT value FROM json_each(?)) AND +namespace = ? AND ${where.sql}`,
              ).all(JSON.stringify(keys), namespace, ...where.params);
        if (rows.length >= k) {
          scored = rows.map((row) => ({ key: row.key, id: row.id, similarity: cosine(query, fromBlob(row.embedding)) }));
          break;
        }
        if (fetch >= total) break;
        // Grow by the match rate seen so far (with a margin), so a selective filter reaches its exact scan in few rounds.
        const needed = Math.ceil((1.5 * fetch * k) / Math.max(rows.length, 0.5));
        fetch = Math.min(total, Math.max(2 * fetch, needed));
      }
    }
    if (!scored) {
      scored = [];
      const rows = this.statement<CandidateRow>(`SELECT key, id, embedding FROM memories WHERE namespace = ? AND ${where.sql}`).iterate(
        namespace,
        ...where.params,
      );
      for (const row of rows) scored.push({ key: row.key, id: row.id, similarity: cosine(query, fromBlob(row.embedding)) });
    }
    const best = scored.sort(bySimilarityThenId).slice(0, k);
    const full = this.statement<MemoryRow>("SELECT * FROM memories WHERE key IN (SELECT value FROM json_each(?))").all(
      JSON.stringify(best.map((hit) => hit.key)),
    );
    const byKey = new Map(full.map((row) => [row.key, row]));
    return best.map((hit) => ({ memory: rowToMemory(byKey.get(hit.key)!), similarity: hit.similarity }));
  }

  /**
   * FTS5 finds the rows holding any term and orders them by its own bm25()
   * (C, from the index alone); the in-memory directory keeps the namespace's
   * (and kinds'); the best LEXICAL_CANDIDATES_PER_K · k (at least 50) are read and
   * scored here with the namespace's own statistics (`lexical_stats`, and
   * per-term counts of the namespace's matches), then the filter applies.
   * FTS5's statistics span every namespace, so they only choose which
   * candidates are scored, never a score: reading and scoring every match in
   * JS cost 80 ms a Recall at 10k memories of long text, since each row's
   * terms sit past its content and embedding.
   */
  async lexicalSearch(namespace: string, terms: readonly string[], k: number, filter: StoreFilter): Promise<LexicalSearchResult> {
    this.open();
    const distinct = [...new Set(terms)].filter((term) => term.length > 0);
    const stats = this.statement<{ documents: number; total_length: number }>("SELECT documents, total_length FROM lexical_stats WHERE namespace = ?").get(namespace);
    const documentFrequency = new Map<string, number>();
    const corpus = { documents: stats?.documents ?? 0, totalLength: stats?.total_length ?? 0, documentFrequency };
    if (distinct.length === 0 || corpus.documents === 0) return { hits: [], corpus: { ...corpus, documentFrequency: new Map(distinct.map((t) => [t, 0])) } };
    // Row keys straight from the full-text index: counting through a join with `memories` read
    // every matching row (2.5 ms a query at 100k memories), the index alone is a tenth of that.
    const matching = this.statement<number>("SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?").pluck();
    for (const term of distinct) documentFrequency.set(term, this.directory.filter(matching.all(ftsQuery([term])), namespace).length);
    if (!(k > 0)) return { hits: [], corpus };
    k = Math.floor(k);
    const inScope = this.directory.matcher(namespace, filter.kinds);
    const candidates = (candidateTerms: readonly string[]) =>
      (this.statement("SELECT rowid, rank FROM memories_fts WHERE memories_fts MATCH ?").raw().all(ftsQuery(candidateTerms)) as [number, number][])
        .filter(([key]) => inScope(key))
        .sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    const where = filterSql(filter);
    const read = this.statement<{ key: number; id: string; lexical_terms: string; lexical_length: number }>(
      `SELECT key, id, lexical_terms, lexical_length FROM memories WHERE key IN (SELECT value FROM json_each(?)) AND ${where.sql}`,
    );
    const scoreBest = (ranked: readonly [number, number][]) => {
      const scored: { key: number; id: string; bm25: number }[] = [];
      // A selective filter may pass few of the first candidates: read on, in growing steps, until k pass.
      for (let from = 0, step = Math.max(LEXICAL_CANDIDATES_PER_K * k, LEXICAL_MIN_CANDIDATES); from < ranked.length && scored.length < k; from += step, step *= 2) {
        const keys = ranked.slice(from, from + step).map(([key]) => key);
        for (const row of read.all(JSON.stringify(keys), ...where.params)) {
          scored.push({ key: row.key, id: row.id, bm25: bm25(distinct, queryTermCounts(row.lexical_terms, row.lexical_length, distinct), corpus) });
        }
      }
      return scored;
    };
    // Terms held by more than a tenth of the namespace carry little idf and match most of its rows
    // (FTS5 ranks every match): the rarer terms pick the candidates, every term scores them. If
    // fewer than k of those pass, all terms pick them.
    const selective = distinct.filter((term) => documentFrequency.get(term)! <= COMMON_TERM_SHARE * corpus.documents);
    let scored = selective.length > 0 && selective.length < distinct.length ? scoreBest(candidates(selective)) : [];
    if (scored.length < k) scored = scoreBest(candidates(distinct));
    const best = scored.sort((a, b) => b.bm25 - a.bm25 || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, k);
    const full = this.statement<MemoryRow>("SELECT * FROM memories WHERE key IN (SELECT value FROM json_each(?))").all(JSON.stringify(best.map((hit) => hit.key)));
    const byKey = new Map(full.map((row) => [row.key, row]));
    return { hits: best.map((hit) => ({ memory: rowToMemory(byKey.get(hit.key)!), bm25: hit.bm25 })), corpus };
  }

  async list(namespace: string, filter: StoreFilter, page: { after?: PageCursor; limit: number }): Promise<StoredMemory[]> {
    this.open();
    if (!(page.limit > 0)) return [];
    const where = filterSql(filter);
    const params: unknown[] = [namespace, ...where.params];
    let cursor = "";
    if (page.after) {
      const time = millis(page.after.createTime, "page.after.createTime");
      cursor = " AND (create_time > ? OR (create_time = ? AND id > ?))";
      params.push(time, time, page.after.id);
    }
    params.push(Math.floor(page.limit));
    return this.statement<MemoryRow>(`SELECT * FROM memories WHERE namespace = ? AND ${where.sql}${cursor} ORDER BY create_time, id LIMIT ?`)
      .all(...params)
      .map(rowToMemory);
  }

  async count(namespace: string): Promise<number> {
    return this.statement<{ n: number }>("SELECT count(*) AS n FROM memories WHERE namespace = ?").get(namespace)!.n;
  }

  async namespaces(): Promise<string[]> {
    return this.statement<{ namespace: string }>("SELECT DISTINCT namespace FROM memories ORDER BY namespace").all().map((row) => row.namespace);
  }

  /**
   * One transaction for all the updates, and no WAL sync awaited: statistics
   * are best effort, and an fsync per recall hit cost more than the rest of a
   * Recall. In WAL mode the database stays consistent either way, and the
   * next write's sync makes these pages durable with its own.
   */
  async recordAccess(namespace: string, updates: readonly AccessUpdate[]): Promise<void> {
    const db = this.open();
    const rows = updates.map((update) => [update.accessCount, millis(update.lastAccessTime, "lastAccessTime"), update.rewardSum, update.rewardCount, namespace, update.id] as const);
    if (rows.length === 0) return;
    // Statistics only: no vector changes, so no new index generation.
    const statement = this.statement(
      "UPDATE memories SET access_count = ?, last_access_time = ?, reward_sum = ?, reward_count = ? WHERE namespace = ? AND id = ?",
    );
    db.transaction(() => {
      for (const row of rows) statement.run(...row);
    })();
  }

  async health(): Promise<StoreHealth> {
    const report = (healthy: boolean, detail: string): StoreHealth => ({ store: this.layout.store, backend: this.backend, healthy, detail });
    try {
      if (!this.db) return report(false, this.closed ? "closed" : "not initialised");
      const rows = this.statement<{ n: number }>("SELECT count(*) AS n FROM memories").get()!.n;
      // Sent right after the count, so every change committed before the count is in the index by then.
      const indexed = await this.vectors.size();
      if (indexed !== rows) return report(false, `sqlite holds ${rows} memories but the vector index ${indexed}`);
      const saving = this.indexSaveError ? `; the index file could not be written (${this.indexSaveError})` : "";
      return report(true, `sqlite ok; ${rows} memories indexed (index ${this.origin} at start)${saving}`);
    } catch (error) {
      return report(false, `sqlite error: ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const db = this.db;
    if (!db) return;
    try {
      await this.saveIndex();
    } catch {
      // Every write is already in SQLite; the next start catches the older index file up or rebuilds it.
    } finally {
      this.db = undefined;
      this.walSync = undefined;
      this.statements = undefined;
      db.close();
      await this.vectors.close();
    }
  }

  private statement<Row = unknown>(sql: string): Statement<unknown[], Row> {
    this.open();
    return this.statements!.get<Row>(sql);
  }

  private open(): SqliteDatabase {
    if (this.db) return this.db;
    throw new StoreClosedError(`the ${this.layout.store} store is ${this.closed ? "closed" : "not initialised; call init()"}`);
  }

  /** Loads, catches up or rebuilds the vector index so it holds exactly the SQLite rows. */
  private async openIndex(): Promise<void> {
    const meta = this.meta!;
    const rows = this.statement<{ n: number }>("SELECT count(*) AS n FROM memories").get()!.n;
    const savedAt = Number(meta.get("index_generation") ?? -1);
    const path = join(this.options.dir, this.layout.index);
    if (savedAt >= 0 && savedAt <= this.generation && (await this.vectors.loadVerified(path, meta.get("index_sha256")))) {
      if (savedAt < this.generation) await this.catchUp(savedAt);
      if ((await this.vectors.size()) === rows) {
        this.origin = savedAt === this.generation ? "loaded" : "caught-up";
        if (this.origin === "caught-up") await this.saveIndex(true);
        return;
      }
    }
    await this.rebuild();
    this.origin = rows === 0 ? "empty" : "rebuilt";
    await this.saveIndex(true);
  }

  private async catchUp(savedAt: number): Promise<void> {
    const gone = this.statement<{ key: number }>("SELECT key FROM vector_tombstones WHERE gen > ?").all(savedAt);
    await this.vectors.remove(gone.map((row) => row.key));
    await this.addRows(this.statement<{ key: number; embedding: Buffer }>("SELECT key, embedding FROM memories WHERE gen > ?").iterate(savedAt));
  }

  /**
   * Refills the index from SQLite. The rows are read and sent in the same
   * turn as the clear, so a change committed later is sent after them and wins.
   */
  private async rebuild(): Promise<void> {
    const cleared = this.vectors.clear();
    await Promise.all([cleared, this.addRows(this.statement<{ key: number; embedding: Buffer }>("SELECT key, embedding FROM memories").iterate())]);
  }

  /** Sends the rows' vectors in batches, all in the calling turn (so in order with the caller's other changes). */
  private async addRows(rows: Iterable<{ key: number; embedding: Buffer }>): Promise<void> {
    const dims = this.options.dimensions;
    const sent: Promise<void>[] = [];
    let keys: number[] = [];
    let matrix = new Float32Array(REBUILD_BATCH * dims);
    for (const row of rows) {
      matrix.set(fromBlob(row.embedding), keys.length * dims);
      keys.push(row.key);
      if (keys.length === REBUILD_BATCH) {
        sent.push(this.vectors.put(keys, matrix));
        keys = [];
        matrix = new Float32Array(REBUILD_BATCH * dims);
      }
    }
    sent.push(this.vectors.put(keys, matrix.subarray(0, keys.length * dims)));
    await Promise.all(sent);
  }

  /**
   * The SQLite write has committed, so the write has happened: bring the
   * index along (rebuilding it from SQLite if a change fails half-way), and
   * never fail the write for the cache's sake.
   */
  private async applyToIndex(change: () => Promise<void>, changes: number): Promise<void> {
    // Sent in the caller's turn, right after its commit: the worker applies changes in commit order.
    const sent = change();
    this.changesSinceSave += changes;
    try {
      await sent;
    } catch {
      if (!this.db) return; // closed meanwhile: the next start catches up or rebuilds
      await this.rebuild();
    }
    if (this.changesSinceSave < this.saveIndexEvery || this.saving || !this.db) return;
    this.saving = true;
    try {
      await this.saveIndex();
      this.indexSaveError = undefined;
    } catch (error) {
      // Retried at the next change; until then a restart catches up from an older file.
      this.indexSaveError = (error as Error).message;
    } finally {
      this.saving = false;
    }
  }

  /**
   * Writes the index file and records its generation and hash; tombstones it
   * covers are no longer needed. The save is sent after every change up to
   * this generation (in commit order), so the file holds at least those;
   * changes sent after it are caught up from SQLite at the next start.
   */
  private async saveIndex(force = false): Promise<void> {
    const meta = this.meta!;
    const generation = this.generation;
    const changes = this.changesSinceSave;
    if (!force && Number(meta.get("index_generation") ?? -1) === generation && changes === 0) return;
    const digest = await this.vectors.saveAtomically(join(this.options.dir, this.layout.index));
    const db = this.db;
    if (!db) return;
    db.transaction(() => {
      meta.set("index_generation", generation);
      meta.set("index_sha256", digest);
      this.statement("DELETE FROM vector_tombstones WHERE gen <= ?").run(generation);
    })();
    this.changesSinceSave -= changes;
  }

  private toRow(memory: StoredMemory): Omit<MemoryRow, "key" | "gen"> {
    if (typeof memory.id !== "string" || memory.id === "") throw new StoreInputError("a memory needs a non-empty id");
    if (typeof memory.namespace !== "string") throw new StoreInputError(`memory ${memory.id} has no namespace`);
    checkEmbedding(memory.embedding, this.options.dimensions, `the embedding of memory ${memory.id}`);
    return {
      namespace: memory.namespace,
      id: memory.id,
      kind: memory.kind,
      content: memory.content,
      embedding: toBlob(memory.embedding),
      metadata: JSON.stringify(memory.metadata ?? {}),
      importance: memory.importance,
      create_time: millis(memory.createTime, `createTime of memory ${memory.id}`),
      expire_time: memory.expireTime ? millis(memory.expireTime, `expireTime of memory ${memory.id}`) : null,
      evidence: memory.evidence,
      access_count: memory.accessCount,
      last_access_time: memory.lastAccessTime ? millis(memory.lastAccessTime, `lastAccessTime of memory ${memory.id}`) : null,
      reward_sum: memory.rewardSum,
      reward_count: memory.rewardCount,
      cluster_id: memory.clusterId,
      ...lexicalColumns(memory.content),
    };
  }
}

/** An FTS5 query matching any of the terms; each is quoted, so no term is read as an operator. */
function ftsQuery(terms: readonly string[]): string {
  return terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(" OR ");
}

interface CandidateRow {
  key: number;
  id: string;
  embedding: Buffer;
}

interface Scored {
  key: number;
  id: string;
  similarity: number;
}

function bySimilarityThenId(a: Scored, b: Scored): number {
  return b.similarity - a.similarity || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

const UPSERT = `
INSERT INTO memories (namespace, id, kind, content, embedding, metadata, importance, create_time, expire_time, evidence,
                      access_count, last_access_time, reward_sum, reward_count, cluster_id, gen, lexical_terms, lexical_length)
VALUES (@namespace, @id, @kind, @content, @embedding, @metadata, @importance, @create_time, @expire_time, @evidence,
        @access_count, @last_access_time, @reward_sum, @reward_count, @cluster_id, @gen, @lexical_terms, @lexical_length)
ON CONFLICT (namespace, id) DO UPDATE SET
  kind = excluded.kind, content = excluded.content, embedding = excluded.embedding, metadata = excluded.metadata,
  importance = excluded.importance, create_time = excluded.create_time, expire_time = excluded.expire_time,
  evidence = excluded.evidence, access_count = excluded.access_count, last_access_time = excluded.last_access_time,
  reward_sum = excluded.reward_sum, reward_count = excluded.reward_count, cluster_id = excluded.cluster_id, gen = excluded.gen,
  lexical_terms = excluded.lexical_terms, lexical_length = excluded.lexical_length
RETURNING key`;
