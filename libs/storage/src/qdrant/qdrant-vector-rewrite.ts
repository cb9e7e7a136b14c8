import { QdrantClient, type Schemas } from "@qdrant/js-client-rest";
import { StoreConfigError, StoreInputError } from "../errors.js";
import { fromBlob, toBlob } from "../embedded/embedding-blob.js";
import type { RewriteItem, StagedVector, VectorRewrite } from "../vector-rewrite.js";
import { QdrantUnavailableError, qdrantError } from "./qdrant-errors.js";
import type { QdrantEpisodicStoreOptions } from "./qdrant-episodic-store.js";

const KINDS = ["episodic", "working", "semantic", "procedural"] as const;
const PAGE = 256;
/** Payload fields of a staged point: the new vector's float32 bytes (base64) and the target it was made for. */
const STAGED = "reembed_vector";
const TARGET = "reembed_target";

/**
 * The Qdrant episodic store's rewrite, for a new embedder of the same
 * dimension only: a collection's vector size is fixed, and moving points to
 * new collections is not built yet (`open` refuses another dimension). A
 * staged vector is a payload field beside the target; `commit` moves each
 * staged point's vector (and its `embedding` payload, which reads return)
 * into place in batches. A commit killed part-way leaves some points moved,
 * which the memory service never sees (it refuses to start until the
 * re-embed finishes) and which the next commit completes.
 */
export class QdrantVectorRewrite implements VectorRewrite {
  readonly name = "episodic (qdrant)";

  private constructor(
    private readonly client: QdrantClient,
    private readonly url: string,
    private readonly collections: readonly string[],
    private readonly target: string,
  ) {}

  static async open(options: Omit<QdrantEpisodicStoreOptions, "dimensions">, target: string, dimensions: number): Promise<QdrantVectorRewrite> {
    const config: ConstructorParameters<typeof QdrantClient>[0] = { url: options.url, timeout: options.timeoutMs ?? 30_000, checkCompatibility: false };
    if (options.apiKey) config.apiKey = options.apiKey;
    const client = new QdrantClient(config);
    const prefix = options.collectionPrefix ?? "t4dm";
    const collections: string[] = [];
    for (const kind of KINDS) {
      const name = `${prefix}_${kind}`;
      let info: Schemas["CollectionInfo"];
      try {
        if (!(await client.collectionExists(name)).exists) continue;
        info = await client.getCollection(name);
      } catch (error) {
        throw qdrantError(options.url, `reading collection ${name}`, error);
      }
      const size = vectorSize(info);
      if (size !== dimensions) {
        throw new StoreConfigError(
          `Qdrant collection ${name} holds ${size}-dimensional vectors and the new embedder makes ${dimensions}; re-embedding Qdrant to another dimension is not supported yet`,
        );
      }
      collections.push(name);
    }
    return new QdrantVectorRewrite(client, options.url, collections, target);
  }

  async progress(): Promise<{ done: number; total: number }> {
    let done = 0;
    let total = 0;
    for (const name of this.collections) {
      total += (await this.request(`count ${name}`, () => this.client.count(name, { exact: true }))).count;
      done += (await this.request(`count ${name}`, () => this.client.count(name, { exact: true, filter: this.staged() }))).count;
    }
    return { done, total };
  }

  async pending(limit: number): Promise<RewriteItem[]> {
    const items: RewriteItem[] = [];
    for (const name of this.collections) {
      if (items.length >= limit) break;
      const page = await this.request(`scroll ${name}`, () =>
        this.client.scroll(name, { filter: { must_not: [this.targetIs()] }, limit: limit - items.length, with_payload: ["content"], with_vector: false }),
      );
      for (const point of page.points) items.push({ ref: `${name}/${String(point.id)}`, text: String(point.payload?.content ?? "") });
    }
    return items;
  }

  async stage(vectors: readonly StagedVector[]): Promise<void> {
    for (const name of this.collections) {
      const operations: Schemas["UpdateOperation"][] = vectors
        .filter((v) => v.ref.startsWith(`${name}/`))
        .map((v) => {
          if (!v.vector.every(Number.isFinite)) throw new StoreInputError(`the new vector for ${v.ref} has a non-finite component`);
          return { set_payload: { payload: { [STAGED]: toBlob(v.vector).toString("base64"), [TARGET]: this.target }, points: [v.ref.slice(name.length + 1)] } };
        });
      if (operations.length > 0) await this.batch(name, operations);
    }
  }

  async *members(): AsyncIterable<{ namespace: string; clusterId: number; vector: Float32Array }> {
    for (const name of this.collections) {
      let offset: Schemas["ExtendedPointId"] | undefined;
      do {
        const page = await this.request(`scroll ${name}`, () =>
          this.client.scroll(name, { limit: PAGE, with_payload: ["namespace", "cluster_id", "embedding", STAGED], with_vector: false, ...(offset === undefined ? {} : { offset }) }),
        );
        for (const point of page.points) {
          const p = point.payload ?? {};
          const bytes = typeof p[STAGED] === "string" ? p[STAGED] : String(p.embedding);
          yield { namespace: String(p.namespace), clusterId: Number(p.cluster_id ?? 0), vector: fromBlob(Buffer.from(bytes, "base64")) };
        }
        const next = page.next_page_offset;
        offset = typeof next === "string" || typeof next === "number" ? next : undefined;
      } while (offset !== undefined);
    }
  }

  async commit(): Promise<void> {
    const { done, total } = await this.progress();
    if (done < total) throw new StoreConfigError(`${this.name}: ${total - done} points have no new vector yet; finish staging first`);
    for (const name of this.collections) {
      for (;;) {
        const page = await this.request(`scroll ${name}`, () =>
          this.client.scroll(name, { filter: { must_not: [{ is_empty: { key: STAGED } }] }, limit: PAGE, with_payload: [STAGED], with_vector: false }),
        );
        if (page.points.length === 0) break;
        const operations: Schemas["UpdateOperation"][] = [];
        for (const point of page.points) {
          const staged = String(point.payload?.[STAGED]);
          operations.push({ update_vectors: { points: [{ id: point.id, vector: { "": Array.from(fromBlob(Buffer.from(staged, "base64"))) } }] } });
          operations.push({ set_payload: { payload: { embedding: staged }, points: [point.id] } });
          operations.push({ delete_payload: { keys: [STAGED], points: [point.id] } });
        }
        await this.batch(name, operations);
      }
    }
  }

  async close(): Promise<void> {}

  private targetIs(): Schemas["FieldCondition"] {
    return { key: TARGET, match: { value: this.target } };
  }

  private staged(): Schemas["Filter"] {
    return { must: [this.targetIs()] };
  }

  private async batch(name: string, operations: Schemas["UpdateOperation"][]): Promise<void> {
    const results = await this.request(`update ${name}`, () => this.client.batchUpdate(name, { wait: true, operations }));
    if (!results.every((result) => result.status === "completed")) {
      throw new QdrantUnavailableError(`Qdrant at ${this.url} did not complete re-embedding writes to ${name}; run the re-embed again`);
    }
  }

  private async request<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw qdrantError(this.url, what, error);
    }
  }
}

/** The dense vector size of a collection made by QdrantEpisodicStore (the unnamed "" vector). */
function vectorSize(info: Schemas["CollectionInfo"]): number | undefined {
  const vectors = info.config.params.vectors as { size?: number } | Record<string, { size?: number }> | undefined;
  if (!vectors) return undefined;
  if (typeof (vectors as { size?: number }).size === "number") return (vectors as { size: number }).size;
  return (vectors as Record<string, { size?: number }>)[""]?.size;
}
