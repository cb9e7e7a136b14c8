import { QdrantClient, type Schemas } from "@qdrant/js-client-rest";
import { bm25, documentTerms } from "@t4dm/learning";
import type { AccessUpdate, EpisodicStore, LexicalSearchResult, PageCursor, SearchHit, StoreFilter, StoreHealth, StoredMemory } from "../episodic-store.js";
import { StoreClosedError, StoreConfigError, StoreInputError } from "../errors.js";
import { checkEmbedding, cosine, millis } from "../embedded/embedding-blob.js";
import { FIELD, fromPayload, toPayload } from "./memory-payload.js";
import { pointId } from "./point-id.js";
import { LEXICAL_VECTOR, lexicalDocument, querySparseVector } from "./sparse-terms.js";
import { QdrantRequestError, QdrantUnavailableError, qdrantError } from "./qdrant-errors.js";
import { namespaceOnly, type QdrantCondition, type QdrantFilter, qdrantFilter } from "./qdrant-filter.js";

export interface QdrantEpisodicStoreOptions {
  /** e.g. http://127.0.0.1:6333 (T4DM_QDRANT_URL). */
  url: string;
  /** T4DM_QDRANT_API_KEY, sent as the `api-key` header. */
  apiKey?: string;
  /** Embedding dimension; every collection is created with it, and an existing one must have it. */
  dimensions: number;
  /** Collections are `<prefix>_episodic`, `<prefix>_working`, `<prefix>_semantic`, `<prefix>_procedural`. Default "t4dm". */
  collectionPrefix?: string;
  /** Points per upsert request. Default 256. */
  batchSize?: number;
  /** Per-request timeout. Default 30 s. */
  timeoutMs?: number;
}

/**
 * One collection per memory kind (t4dm.wal.v1.MemoryKind). Semantic and
 * procedural memories normally live in the graph store, but the contract lets
 * any kind be written here, so they get collections too.
 */
const KIND_COLLECTIONS: readonly (readonly [kind: number, suffix: string])[] = [
  [1, "episodic"],
  [2, "working"],
  [3, "semantic"],
  [4, "procedural"],
];

/** Payload indexes every collection gets: the namespace is the tenant key; times are integer ms (ranges and `order_by`). */
const PAYLOAD_INDEXES: readonly { field: string; schema: Schemas["PayloadFieldSchema"]; type: Schemas["PayloadSchemaType"] }[] = [
  { field: FIELD.namespace, schema: { type: "keyword", is_tenant: true }, type: "keyword" },
  { field: FIELD.kind, schema: "integer", type: "integer" },
  { field: FIELD.createTime, schema: "integer", type: "integer" },
  { field: FIELD.expireTime, schema: "integer", type: "integer" },
  // Keyword search counts document frequencies by term and sums lengths by facet.
  { field: FIELD.lexicalTerms, schema: "keyword", type: "keyword" },
  { field: FIELD.lexicalLength, schema: "integer", type: "integer" },
];
/** The most namespaces `namespaces()` lists per collection. */
const MAX_NAMESPACES = 1_000_000;

/** Candidates the sparse query fetches per collection before exact scoring: this many times k, at least k + 32. */
const LEXICAL_OVERFETCH = 4;
/** Distinct lengths a facet may report; a namespace's lengths beyond it would be missed in the total. */
const LENGTH_FACET_LIMIT = 100_000;

const SCROLL_PAGE = 1000;
/** Qdrant scores in float32 from its own normalised copy; an exact cosine may differ from its score by this much. */
const SCORE_SLACK = 1e-4;

/**
 * The episodic store on Qdrant (`@qdrant/js-client-rest`), passing the same
 * contract suite as the embedded store.
 *
 * - Points are named by `pointId(namespace, id)` (a UUIDv5), so the same id in
 *   two namespaces is two points; every filter includes the namespace.
 * - Writes use `wait: true` and resolve only once Qdrant reports them
 *   "completed". A batch larger than `batchSize` is several requests and is
 *   not atomic: a failure part-way leaves a prefix written, which the WAL's
 *   replay of the same (idempotent) upsert completes.
 * - A memory lives in its kind's collection; an upsert that changes a
 *   memory's kind deletes it from the other collections after writing it, so a
 *   crash in between leaves a duplicate (never a loss) until the replay.
 * - Search asks each kind's collection for more than k, recomputes exact
 *   cosines from the stored float32 embeddings, and widens the request until
 *   nothing unfetched can tie or beat the k-th hit, so ties break by id.
 * - Keyword search: each point also carries a sparse vector (`lexical`, IDF
 *   modifier) of its content's terms, and the terms as payload. Qdrant's
 *   sparse query picks candidates (its IDF counts the whole collection);
 *   they are then scored exactly with BM25 over the namespace's own
 *   statistics (counts by term, total length by facet), as the contract asks.
 *   Fusion with vector candidates happens in the planner, not in Qdrant's
 *   Query API fusion: it must fuse buffered memories too, and the scorer
 *   needs each list's rank. Collections made before keyword search get the
 *   sparse vector added (Qdrant 1.18+) and their points re-written at init.
 * - List pages by (create_time, id): Qdrant orders by the create_time index,
 *   and memories sharing the boundary create time are fetched whole and sorted
 *   by id, which makes the `after` cursor exact across equal create times.
 */
export class QdrantEpisodicStore implements EpisodicStore {
  readonly backend = "qdrant";
  private readonly client: QdrantClient;
  private readonly collections: ReadonlyMap<number, string>;
  private readonly batchSize: number;
  private state: "new" | "open" | "closed" = "new";
  private starting: Promise<void> | undefined;
  private serverVersion = "unknown";

  constructor(private readonly options: QdrantEpisodicStoreOptions) {
    if (!Number.isInteger(options.dimensions) || options.dimensions <= 0) {
      throw new StoreConfigError(`dimensions must be a positive integer, got ${options.dimensions}`);
    }
    const prefix = options.collectionPrefix ?? "t4dm";
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(prefix)) {
      throw new StoreConfigError(`the Qdrant collection prefix must be letters, digits, "_" or "-", got ${JSON.stringify(prefix)}`);
    }
    this.collections = new Map(KIND_COLLECTIONS.map(([kind, suffix]) => [kind, `${prefix}_${suffix}`]));
    this.batchSize = Math.max(1, Math.floor(options.batchSize ?? 256));
    try {
      // Compatibility is checked by init(), which fails clearly instead of logging a warning in the background.
      const client: ConstructorParameters<typeof QdrantClient>[0] = { url: options.url, timeout: options.timeoutMs ?? 30_000, checkCompatibility: false };
      if (options.apiKey) client.apiKey = options.apiKey;
      this.client = new QdrantClient(client);
    } catch (error) {
      throw new StoreConfigError(`the Qdrant URL ${JSON.stringify(options.url)} is not usable: ${(error as Error).message}`, { cause: error });
    }
  }

  /** The collection names, by memory kind. */
  get collectionNames(): ReadonlyMap<number, string> {
    return this.collections;
  }

  /**
   * Checks that Qdrant answers, creates missing collections (configured size,
   * cosine distance) and payload indexes, and verifies existing collections:
   * another vector size or distance is a StoreConfigError, an unreachable
   * server a QdrantUnavailableError, a refused API key a StoreConfigError.
   */
  async init(): Promise<void> {
    if (this.state === "closed") throw new StoreClosedError("the episodic store is closed");
    if (this.state === "open") return;
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    await this.starting;
  }

  async upsert(memories: readonly StoredMemory[]): Promise<void> {
    this.open();
    if (memories.length === 0) return;
    // Everything is checked before anything is written. The last write of an id in the batch wins.
    const latest = new Map<string, { collection: string; point: Schemas["PointStruct"] }>();
    for (const memory of memories) {
      if (typeof memory.id !== "string" || memory.id === "") throw new StoreInputError("a memory needs a non-empty id");
      if (typeof memory.namespace !== "string") throw new StoreInputError(`memory ${memory.id} has no namespace`);
      checkEmbedding(memory.embedding, this.options.dimensions, `the embedding of memory ${memory.id}`);
      const collection = this.collections.get(memory.kind);
      if (!collection) throw new StoreInputError(`memory ${memory.id} has kind ${memory.kind}; this store holds kinds 1-4`);
      const id = pointId(memory.namespace, memory.id);
      latest.set(id, { collection, point: toPoint(id, memory) });
    }
    const entries = [...latest.values()];
    await settleAll(
      [...this.collections.values()].map(async (name) => {
        const points = entries.filter((entry) => entry.collection === name).map((entry) => entry.point);
        for (const chunk of chunks(points, this.batchSize)) await this.write(`upsert into ${name}`, () => this.client.upsert(name, { wait: true, points: chunk }));
      }),
    );
    await settleAll(
      [...this.collections.values()].map(async (name) => {
        const elsewhere = entries.filter((entry) => entry.collection !== name).map((entry) => entry.point.id);
        await this.deletePoints(name, elsewhere);
      }),
    );
  }

  async get(namespace: string, id: string): Promise<StoredMemory | undefined> {
    return (await this.getMany(namespace, [id]))[0];
  }

  /** Found memories in the order of `ids`; missing ids are left out. */
  async getMany(namespace: string, ids: readonly string[]): Promise<StoredMemory[]> {
    this.open();
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    const found = new Map<string, StoredMemory>();
    const pointIds = unique.map((id) => pointId(namespace, id));
    await settleAll(
      [...this.collections.values()].map(async (name) => {
        for (const chunk of chunks(pointIds, SCROLL_PAGE)) {
          const records = await this.request(`retrieve from ${name}`, () => this.client.retrieve(name, { ids: chunk, with_payload: true, with_vector: false }));
          for (const record of records) {
            const memory = fromPayload(record.payload);
            if (memory.namespace === namespace) found.set(memory.id, memory);
          }
        }
      }),
    );
    return unique.flatMap((id) => {
      const memory = found.get(id);
      return memory ? [memory] : [];
    });
  }

  async delete(namespace: string, ids: readonly string[]): Promise<void> {
    this.open();
    const pointIds = [...new Set(ids)].map((id) => pointId(namespace, id));
    if (pointIds.length === 0) return;
    // Deleting points that are not there is not an error in Qdrant either.
    await settleAll([...this.collections.values()].map((name) => this.deletePoints(name, pointIds)));
  }

  async findIds(namespace: string, filter: StoreFilter): Promise<string[]> {
    this.open();
    const where = qdrantFilter(namespace, filter);
    const rows = await settleAll(this.collectionsFor(filter.kinds).map((name) => this.scrollAll(name, where, [FIELD.id, FIELD.createTime])));
    return rows
      .flat()
      .map((payload) => ({ id: String(payload[FIELD.id]), time: Number(payload[FIELD.createTime]) }))
      .sort((a, b) => a.time - b.time || compareIds(a.id, b.id))
      .map((row) => row.id);
  }

  async search(namespace: string, query: Float32Array, k: number, filter: StoreFilter): Promise<SearchHit[]> {
    this.open();
    checkEmbedding(query, this.options.dimensions, "the query");
    if (!(k > 0)) return [];
    k = Math.floor(k);
    if (k === 0) return [];
    const where = qdrantFilter(namespace, filter);
    const vector = Array.from(query);
    const hits = await settleAll(this.collectionsFor(filter.kinds).map((name) => this.searchCollection(name, query, vector, k, where)));
    return hits.flat().sort(bySimilarityThenId).slice(0, k);
  }

  async lexicalSearch(namespace: string, terms: readonly string[], k: number, filter: StoreFilter): Promise<LexicalSearchResult> {
    this.open();
    const distinct = [...new Set(terms)].filter((term) => term.length > 0);
    const corpus = await this.lexicalCorpus(namespace, distinct);
    if (distinct.length === 0 || corpus.documents === 0 || !(k > 0)) return { hits: [], corpus };
    k = Math.floor(k);
    const where = qdrantFilter(namespace, filter, [{ key: FIELD.lexicalTerms, match: { any: distinct } }]);
    const query = querySparseVector(distinct);
    const limit = Math.max(LEXICAL_OVERFETCH * k, k + 32);
    const found = await settleAll(
      this.collectionsFor(filter.kinds).map(async (name) => {
        const { points } = await this.request(`query ${name}`, () =>
          this.client.query(name, { query, using: LEXICAL_VECTOR, filter: where, limit, with_payload: true, with_vector: false }),
        );
        return points.map((point) => fromPayload(point.payload));
      }),
    );
    const hits = found
      .flat()
      .map((memory) => ({ memory, bm25: bm25(distinct, documentTerms(memory.content), corpus) }))
      .filter((hit) => hit.bm25 > 0)
      .sort((a, b) => b.bm25 - a.bm25 || compareIds(a.memory.id, b.memory.id));
    return { hits: hits.slice(0, k), corpus };
  }

  async list(namespace: string, filter: StoreFilter, page: { after?: PageCursor; limit: number }): Promise<StoredMemory[]> {
    this.open();
    if (!(page.limit > 0)) return [];
    const limit = Math.floor(page.limit);
    const names = this.collectionsFor(filter.kinds);
    const out: StoredMemory[] = [];
    const later: QdrantCondition[] = [];
    if (page.after) {
      // The rest of the cursor's own create time first: Qdrant cannot compare ids, so that group is read whole.
      const time = millis(page.after.createTime, "page.after.createTime");
      const afterId = page.after.id;
      const group = await this.timeGroup(names, namespace, filter, time);
      out.push(...group.filter((memory) => compareIds(memory.id, afterId) > 0).slice(0, limit));
      if (out.length === limit) return out;
      later.push({ key: FIELD.createTime, range: { gt: time } });
    }
    const wanted = limit - out.length;
    const where = qdrantFilter(namespace, filter, later);
    const batches = await settleAll(
      names.map(async (name) => {
        const result = await this.request(`scroll ${name}`, () =>
          this.client.scroll(name, {
            filter: where,
            limit: wanted,
            with_payload: true,
            with_vector: false,
            order_by: { key: FIELD.createTime, direction: "asc" },
          }),
        );
        return result.points.map((point) => fromPayload(point.payload));
      }),
    );
    // A collection that filled its batch may hold more memories at its last create time; before the
    // earliest such time every memory is known, and at it the whole group is read and sorted by id.
    let bound = Infinity;
    for (const batch of batches) {
      if (batch.length < wanted) continue;
      bound = Math.min(bound, batch.reduce((latest, memory) => Math.max(latest, memory.createTime.getTime()), -Infinity));
    }
    const known = batches
      .flat()
      .filter((memory) => memory.createTime.getTime() < bound)
      .sort(byTimeThenId);
    if (known.length >= wanted || bound === Infinity) return out.concat(known.slice(0, wanted));
    const atBound = await this.timeGroup(names, namespace, filter, bound);
    return out.concat(known, atBound.slice(0, wanted - known.length));
  }

  async count(namespace: string): Promise<number> {
    this.open();
    const counts = await settleAll(
      [...this.collections.values()].map((name) =>
        this.request(`count ${name}`, () => this.client.count(name, { filter: namespaceOnly(namespace), exact: true })),
      ),
    );
    return counts.reduce((sum, result) => sum + result.count, 0);
  }

  /** From the namespace payload index (Qdrant's facet counts, 1.12 and later), every collection. */
  async namespaces(): Promise<string[]> {
    this.open();
    const facets = await settleAll(
      [...this.collections.values()].map((name) =>
        this.request(`list namespaces of ${name}`, () => this.client.facet(name, { key: "namespace", limit: MAX_NAMESPACES, exact: true })),
      ),
    );
    const found = new Set(facets.flatMap((facet) => facet.hits.map((hit) => String(hit.value))));
    return [...found].sort();
  }

  async recordAccess(namespace: string, updates: readonly AccessUpdate[]): Promise<void> {
    this.open();
    const payloads = updates.map((update) => {
      const payload = {
        access_count: update.accessCount,
        last_access_time: millis(update.lastAccessTime, "lastAccessTime"),
        reward_sum: update.rewardSum,
        reward_count: update.rewardCount,
      };
      for (const [field, value] of Object.entries(payload)) {
        if (!Number.isFinite(value)) throw new StoreInputError(`recordAccess: ${field} must be a finite number`);
      }
      return { id: update.id, payload };
    });
    // By filter, not by point id: setting the payload of a missing point is an error, and a missing memory is not.
    // Qdrant sets one payload per request; the updates are sent together.
    await settleAll(
      payloads.flatMap(({ id, payload }) => {
        const filter: QdrantFilter = { must: [{ has_id: [pointId(namespace, id)] }, { key: FIELD.namespace, match: { value: namespace } }] };
        return [...this.collections.values()].map((name) => this.write(`set payload in ${name}`, () => this.client.setPayload(name, { payload, filter, wait: true })));
      }),
    );
  }

  async health(): Promise<StoreHealth> {
    const report = (healthy: boolean, detail: string): StoreHealth => ({ store: "episodic", backend: this.backend, healthy, detail });
    try {
      if (this.state !== "open") return report(false, this.state === "closed" ? "closed" : "not initialised");
      const infos = await Promise.all(
        [...this.collections.values()].map(async (name) => ({ name, info: await this.request(`read collection ${name}`, () => this.client.getCollection(name)) })),
      );
      const red = infos.filter(({ info }) => info.status === "red").map(({ name }) => name);
      const points = infos.reduce((sum, { info }) => sum + (info.points_count ?? 0), 0);
      if (red.length > 0) return report(false, `qdrant ${this.serverVersion} at ${this.options.url}: collection(s) ${red.join(", ")} red`);
      return report(true, `qdrant ${this.serverVersion} at ${this.options.url}: ${infos.length} collections, about ${points} points`);
    } catch (error) {
      return report(false, (error as Error).message);
    }
  }

  /** Nothing to flush (every write was acknowledged as applied); later calls fail with StoreClosedError. */
  async close(): Promise<void> {
    this.state = "closed";
  }

  private async start(): Promise<void> {
    try {
      this.serverVersion = (await this.request("the start-up check", () => this.client.versionInfo())).version;
    } catch (error) {
      if (error instanceof QdrantRequestError && (error.status === 401 || error.status === 403)) {
        throw new StoreConfigError(`Qdrant at ${this.options.url} refused the API key (T4DM_QDRANT_API_KEY): ${error.message}`, { cause: error });
      }
      throw error;
    }
    for (const name of this.collections.values()) await this.prepareCollection(name);
    if (this.state === "new") this.state = "open";
  }

  /** Creates the collection if missing, checks its vectors, adds missing payload indexes. */
  private async prepareCollection(name: string): Promise<void> {
    const size = this.options.dimensions;
    const { exists } = await this.request(`check collection ${name}`, () => this.client.collectionExists(name));
    if (!exists) {
      try {
        await this.request(`create collection ${name}`, () =>
          this.client.createCollection(name, { vectors: { size, distance: "Cosine" }, sparse_vectors: { [LEXICAL_VECTOR]: { modifier: "idf" } } }),
        );
      } catch (error) {
        // Another process may have created it meanwhile; then it is checked like any existing one.
        if (!(error instanceof QdrantRequestError)) throw error;
        const again = await this.request(`check collection ${name}`, () => this.client.collectionExists(name));
        if (!again.exists) throw error;
      }
    }
    const info = await this.request(`read collection ${name}`, () => this.client.getCollection(name));
    const vectors = info.config.params.vectors as Partial<Schemas["VectorParams"]> | undefined;
    if (typeof vectors?.size !== "number") {
      throw new StoreConfigError(`Qdrant collection ${name} has named or no vectors; T4DM needs one unnamed ${size}-dimensional cosine vector`);
    }
    if (vectors.size !== size) {
      throw new StoreConfigError(
        `Qdrant collection ${name} holds ${vectors.size}-dimensional embeddings but ${size} are configured; the dimension is fixed per collection`,
      );
    }
    if (vectors.distance !== "Cosine") {
      throw new StoreConfigError(`Qdrant collection ${name} uses ${String(vectors.distance)} distance; T4DM needs Cosine`);
    }
    const lexical = info.config.params.sparse_vectors?.[LEXICAL_VECTOR];
    if (lexical && lexical.modifier !== "idf") {
      throw new StoreConfigError(`Qdrant collection ${name} has a "${LEXICAL_VECTOR}" sparse vector without the IDF modifier; T4DM needs modifier "idf"`);
    }
    for (const { field, schema, type } of PAYLOAD_INDEXES) {
      const existing = info.payload_schema[field];
      if (existing && existing.data_type !== type) {
        throw new StoreConfigError(`Qdrant collection ${name} indexes ${field} as ${existing.data_type}; T4DM needs ${type}`);
      }
      if (!existing) {
        await this.write(`index ${field} in ${name}`, () => this.client.createPayloadIndex(name, { field_name: field, field_schema: schema, wait: true }));
      }
    }
    if (!lexical) await this.addLexicalVector(name);
  }

  /**
   * The memories of one collection nearest the query, exactly scored: every
   * point not returned scored at most the last returned score in Qdrant, so
   * once the k-th exact similarity clears that score (with float slack) no
   * unfetched point can beat or tie it; until then the request doubles.
   */
  private async searchCollection(name: string, query: Float32Array, vector: number[], k: number, filter: QdrantFilter): Promise<SearchHit[]> {
    let limit = k + 16;
    for (;;) {
      const { points } = await this.request(`query ${name}`, () =>
        this.client.query(name, { query: vector, filter, limit, with_payload: true, with_vector: false }),
      );
      const hits = points.map((point) => {
        const memory = fromPayload(point.payload);
        return { memory, similarity: cosine(query, memory.embedding) };
      });
      if (points.length < limit) return hits;
      const kth = hits.map((hit) => hit.similarity).sort((a, b) => b - a)[k - 1]!;
      const floor = points.reduce((least, point) => Math.min(least, point.score), Infinity);
      if (kth > floor + SCORE_SLACK) return hits;
      limit *= 2;
    }
  }

  /** The namespace's keyword statistics over every collection: documents, total length (by facet) and per-term counts. */
  private async lexicalCorpus(namespace: string, terms: readonly string[]): Promise<LexicalSearchResult["corpus"]> {
    const names = [...this.collections.values()];
    const count = (name: string, filter: QdrantFilter) => this.request(`count ${name}`, () => this.client.count(name, { filter, exact: true }));
    const [documents, lengths, frequencies] = await Promise.all([
      settleAll(names.map((name) => count(name, namespaceOnly(namespace)))),
      settleAll(
        names.map((name) =>
          this.request(`facet ${name}`, () =>
            this.client.facet(name, { key: FIELD.lexicalLength, filter: namespaceOnly(namespace), limit: LENGTH_FACET_LIMIT, exact: true }),
          ),
        ),
      ),
      settleAll(
        terms.map(async (term) => {
          const filter: QdrantFilter = { must: [{ key: FIELD.namespace, match: { value: namespace } }, { key: FIELD.lexicalTerms, match: { value: term } }] };
          const counts = await settleAll(names.map((name) => count(name, filter)));
          return [term, counts.reduce((sum, c) => sum + c.count, 0)] as const;
        }),
      ),
    ]);
    let totalLength = 0;
    for (const facet of lengths) for (const hit of facet.hits) totalLength += Number(hit.value) * hit.count;
    return { documents: documents.reduce((sum, c) => sum + c.count, 0), totalLength, documentFrequency: new Map(frequencies) };
  }

  /** Adds the keyword vector to a collection made before keyword search, and re-writes its points with it. */
  private async addLexicalVector(name: string): Promise<void> {
    await this.request(`add the keyword vector to ${name}`, () => this.client.updateCollection(name, { sparse_vectors: { [LEXICAL_VECTOR]: { modifier: "idf" } } }));
    let offset: Schemas["ExtendedPointId"] | undefined;
    for (;;) {
      const page = await this.request(`scroll ${name}`, () =>
        this.client.scroll(name, { limit: SCROLL_PAGE, with_payload: true, with_vector: false, ...(offset === undefined ? {} : { offset }) }),
      );
      const points = page.points.map((point) => toPoint(point.id, fromPayload(point.payload)));
      for (const chunk of chunks(points, this.batchSize)) await this.write(`re-write points of ${name}`, () => this.client.upsert(name, { wait: true, points: chunk }));
      const next = page.next_page_offset;
      if (typeof next !== "string" && typeof next !== "number") return;
      offset = next;
    }
  }

  /** Every memory in the namespace and filter created at exactly `time`, by id. */
  private async timeGroup(names: readonly string[], namespace: string, filter: StoreFilter, time: number): Promise<StoredMemory[]> {
    const where = qdrantFilter(namespace, filter, [{ key: FIELD.createTime, range: { gte: time, lte: time } }]);
    const payloads = await settleAll(names.map((name) => this.scrollAll(name, where, true)));
    return payloads
      .flat()
      .map((payload) => fromPayload(payload))
      .sort((a, b) => compareIds(a.id, b.id));
  }

  /** Every matching point's payload (or the listed fields of it), page by page. */
  private async scrollAll(name: string, filter: QdrantFilter, withPayload: true | string[]): Promise<Record<string, unknown>[]> {
    const payloads: Record<string, unknown>[] = [];
    let offset: Schemas["ExtendedPointId"] | undefined;
    for (;;) {
      const page = await this.request(`scroll ${name}`, () =>
        this.client.scroll(name, { filter, limit: SCROLL_PAGE, with_payload: withPayload, with_vector: false, ...(offset === undefined ? {} : { offset }) }),
      );
      for (const point of page.points) payloads.push((point.payload ?? {}) as Record<string, unknown>);
      const next = page.next_page_offset;
      if (typeof next !== "string" && typeof next !== "number") return payloads;
      offset = next;
    }
  }

  private async deletePoints(name: string, pointIds: readonly Schemas["ExtendedPointId"][]): Promise<void> {
    for (const chunk of chunks(pointIds, SCROLL_PAGE)) await this.write(`delete from ${name}`, () => this.client.delete(name, { wait: true, points: chunk }));
  }

  private collectionsFor(kinds: readonly number[] | undefined): string[] {
    if (!kinds || kinds.length === 0) return [...this.collections.values()];
    return [...this.collections].filter(([kind]) => kinds.includes(kind)).map(([, name]) => name);
  }

  /** A write counts as done only once Qdrant says it was applied ("completed", not "acknowledged" or "wait_timeout"). */
  private async write(what: string, run: () => Promise<Schemas["UpdateResult"]>): Promise<void> {
    const result = await this.request(what, run);
    if (result.status !== "completed") {
      throw new QdrantUnavailableError(`Qdrant at ${this.options.url} did not complete ${what} (status ${result.status}); it may still apply it`);
    }
  }

  private async request<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw qdrantError(this.options.url, what, error);
    }
  }

  private open(): void {
    if (this.state === "open") return;
    throw new StoreClosedError(this.state === "closed" ? "the episodic store is closed" : "the episodic store is not initialised; call init()");
  }
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** Like Promise.all, but settles every task before failing, so no request is still running when the call rejects. */
async function settleAll<T>(tasks: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function bySimilarityThenId(a: SearchHit, b: SearchHit): number {
  return b.similarity - a.similarity || compareIds(a.memory.id, b.memory.id);
}

function byTimeThenId(a: StoredMemory, b: StoredMemory): number {
  return a.createTime.getTime() - b.createTime.getTime() || compareIds(a.id, b.id);
}

/** A memory as a point: the unnamed dense vector, the keyword vector when it has terms, the payload. */
function toPoint(id: Schemas["ExtendedPointId"], memory: StoredMemory): Schemas["PointStruct"] {
  const sparse = lexicalDocument(memory.content).vector;
  const vector: Record<string, number[] | { indices: number[]; values: number[] }> = { "": Array.from(memory.embedding) };
  if (sparse.indices.length > 0) vector[LEXICAL_VECTOR] = sparse;
  return { id, vector, payload: toPayload(memory) };
}
