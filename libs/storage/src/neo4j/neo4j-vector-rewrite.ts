import neo4j, { type Driver } from "neo4j-driver";
import { StoreConfigError, StoreInputError } from "../errors.js";
import type { RewriteItem, StagedVector, VectorRewrite } from "../vector-rewrite.js";
import { neo4jError } from "./neo4j-errors.js";
import type { Neo4jGraphStoreOptions } from "./neo4j-graph-store.js";
import { MEMORY_VECTOR_INDEX } from "./neo4j-schema.js";

/** How to reach the server: the store's options less those of the store itself. */
type Neo4jConnectionOptions = Omit<Neo4jGraphStoreOptions, "dimensions" | "exactSearchBelow">;

/** The node labels whose vectors are rewritten, the text each is embedded from, and the vector property. */
const LABELS = [
  { prefix: "m", label: "Memory", text: "content", vector: "embedding" },
  { prefix: "p", label: "Procedure", text: "trigger", vector: "triggerEmbedding" },
] as const;

/**
 * The Neo4j graph store's rewrite. A staged vector is a `reembedVector`
 * property next to `reembedTarget` (the target it was made for); `commit`
 * moves every staged vector into place in one transaction and keeps the
 * target, so a node is pending while its target is not this one. Concept
 * centroids are left as they are (nothing searches by them). The memory
 * vector index has a fixed dimension: a commit to another one drops it, and
 * the store's next start creates it for the new dimension (until then its
 * searches scan exactly).
 */
export class Neo4jVectorRewrite implements VectorRewrite {
  readonly name = "graph (neo4j)";

  private constructor(
    private readonly driver: Driver,
    private readonly options: Neo4jConnectionOptions,
    private readonly target: string,
  ) {}

  static async open(options: Neo4jConnectionOptions, target: string): Promise<Neo4jVectorRewrite> {
    const driver = neo4j.driver(options.uri, options.password === undefined ? undefined : neo4j.auth.basic(options.user ?? "neo4j", options.password), {
      disableLosslessIntegers: true,
      connectionTimeout: options.connectionTimeoutMs ?? 5_000,
      userAgent: "t4dm-reembed",
    });
    try {
      await driver.verifyConnectivity(options.database === undefined ? {} : { database: options.database });
    } catch (error) {
      await driver.close();
      throw neo4jError(options.uri, "connect", error);
    }
    return new Neo4jVectorRewrite(driver, options, target);
  }

  async progress(): Promise<{ done: number; total: number }> {
    let done = 0;
    let total = 0;
    for (const { label } of LABELS) {
      const rows = await this.read(
        `MATCH (n:${label}) RETURN count(n) AS total, count(CASE WHEN n.reembedTarget = $target THEN 1 END) AS done`,
        { target: this.target },
      );
      total += Number(rows[0]?.total ?? 0);
      done += Number(rows[0]?.done ?? 0);
    }
    return { done, total };
  }

  async pending(limit: number): Promise<RewriteItem[]> {
    const items: RewriteItem[] = [];
    for (const { prefix, label, text } of LABELS) {
      if (items.length >= limit) break;
      const rows = await this.read(
        `MATCH (n:${label}) WHERE n.reembedTarget IS NULL OR n.reembedTarget <> $target
         RETURN n.key AS key, n.${text} AS text ORDER BY n.key LIMIT $limit`,
        { target: this.target, limit: neo4j.int(limit - items.length) },
      );
      for (const row of rows) items.push({ ref: `${prefix}:${String(row.key)}`, text: String(row.text) });
    }
    return items;
  }

  async stage(vectors: readonly StagedVector[]): Promise<void> {
    for (const { prefix, label } of LABELS) {
      const rows = vectors
        .filter((v) => v.ref.startsWith(`${prefix}:`))
        .map((v) => {
          if (!v.vector.every(Number.isFinite)) throw new StoreInputError(`the new vector for ${v.ref} has a non-finite component`);
          return { key: v.ref.slice(prefix.length + 1), vector: Array.from(v.vector) };
        });
      if (rows.length === 0) continue;
      await this.write(`UNWIND $rows AS r MATCH (n:${label} {key: r.key}) SET n.reembedVector = r.vector, n.reembedTarget = $target`, { rows, target: this.target });
    }
  }

  async *members(): AsyncIterable<{ namespace: string; clusterId: number; vector: Float32Array }> {
    // Graph memory nodes carry no cluster id: the learning state's clusters are the episodic store's and the buffer's.
  }

  async commit(dimensions: number): Promise<void> {
    const { done, total } = await this.progress();
    if (done < total) throw new StoreConfigError(`${this.name}: ${total - done} nodes have no new vector yet; finish staging first`);
    const session = this.session();
    try {
      await session.executeWrite(async (tx) => {
        for (const { label, vector } of LABELS) {
          const wrong = await tx.run(`MATCH (n:${label}) WHERE n.reembedVector IS NOT NULL AND size(n.reembedVector) <> $dimensions RETURN count(n) AS n`, {
            dimensions: neo4j.int(dimensions),
          });
          if (Number(wrong.records[0]?.get("n") ?? 0) > 0) throw new StoreConfigError(`${this.name}: staged ${label} vectors are not ${dimensions}-dimensional`);
          await tx.run(`MATCH (n:${label}) WHERE n.reembedVector IS NOT NULL SET n.${vector} = n.reembedVector REMOVE n.reembedVector`);
        }
      });
      // Schema changes cannot share the data's transaction; an index of the old dimension would only be passed over anyway.
      const index = await session.executeRead((tx) =>
        tx.run("SHOW VECTOR INDEXES YIELD name, options WHERE name = $name RETURN options.indexConfig['vector.dimensions'] AS dimensions", { name: MEMORY_VECTOR_INDEX }),
      );
      const indexed = index.records[0]?.get("dimensions");
      if (indexed !== undefined && Number(indexed) !== dimensions) {
        await session.executeWrite(async (tx) => {
          await tx.run(`DROP INDEX ${MEMORY_VECTOR_INDEX} IF EXISTS`);
        });
      }
    } catch (error) {
      if (error instanceof StoreConfigError) throw error;
      throw neo4jError(this.options.uri, "switching to the re-embedded vectors", error);
    } finally {
      await session.close();
    }
  }

  async close(): Promise<void> {
    await this.driver.close();
  }

  private session() {
    const database = this.options.database;
    return this.driver.session(database === undefined ? { defaultAccessMode: neo4j.session.WRITE } : { defaultAccessMode: neo4j.session.WRITE, database });
  }

  private async read(query: string, params: Record<string, unknown>): Promise<Record<string, unknown>[]> {
    const session = this.session();
    try {
      const result = await session.executeRead((tx) => tx.run(query, params));
      return result.records.map((record) => record.toObject() as Record<string, unknown>);
    } catch (error) {
      throw neo4jError(this.options.uri, "reading nodes to re-embed", error);
    } finally {
      await session.close();
    }
  }

  private async write(query: string, params: Record<string, unknown>): Promise<void> {
    const session = this.session();
    try {
      await session.executeWrite((tx) => tx.run(query, params));
    } catch (error) {
      throw neo4jError(this.options.uri, "staging re-embedded vectors", error);
    } finally {
      await session.close();
    }
  }
}
