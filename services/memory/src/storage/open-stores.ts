import path from "node:path";
import type { Config } from "@t4dm/config";
import type { Logger } from "@t4dm/telemetry";
import { Neo4jGraphStore, QdrantEpisodicStore, SqliteEpisodicStore, SqliteGraphStore, type EpisodicStore, type GraphStore } from "@t4dm/storage";
import type { Stores } from "./store-sync.js";

/** A configured backend could not be reached or checked at start-up. */
export class StoreStartupError extends Error {
  constructor(store: string, cause: unknown) {
    super(`${store} store failed to start: ${(cause as Error).message}`, { cause });
    this.name = "StoreStartupError";
  }
}

/**
 * The long-term stores the configuration asks for: Qdrant for episodic and
 * working memory when T4DM_QDRANT_URL is set, Neo4j for semantic and
 * procedural memory when T4DM_NEO4J_URI is set, the embedded stores under
 * $T4DM_DATA_DIR/store otherwise. Each is built and checked at start-up
 * (collections, constraints, dimension, schema version); any failure, from
 * its constructor or its init, is a StoreStartupError naming the store and why.
 */
export async function openStores(config: Config, dimensions: number, logger: Logger): Promise<Stores> {
  const dir = path.join(config.dataDir, "store");
  const episodic: EpisodicStore = await startStore(`episodic (${config.qdrantUrl ? "qdrant" : "embedded"})`, () =>
    config.qdrantUrl
      ? new QdrantEpisodicStore({ url: config.qdrantUrl, apiKey: config.qdrantApiKey, dimensions })
      : new SqliteEpisodicStore({ dir, dimensions }),
  );
  let graph: GraphStore;
  try {
    graph = await startStore(`graph (${config.neo4jUri ? "neo4j" : "embedded"})`, () =>
      config.neo4jUri
        ? new Neo4jGraphStore({ uri: config.neo4jUri, user: config.neo4jUser, password: config.neo4jPassword, database: config.neo4jDatabase, dimensions })
        : new SqliteGraphStore({ dir, dimensions }),
    );
  } catch (error) {
    await episodic.close().catch(() => undefined);
    throw error;
  }
  logger.info("long-term stores ready", { event: "stores.ready", episodic: episodic.backend, graph: graph.backend });
  return { episodic, graph };
}

/** Builds and initialises one store; on failure closes what was built and names it. */
async function startStore<S extends EpisodicStore | GraphStore>(name: string, build: () => S): Promise<S> {
  let store: S | undefined;
  try {
    store = build();
    await store.init();
    return store;
  } catch (error) {
    await store?.close().catch(() => undefined);
    throw new StoreStartupError(name, error);
  }
}
