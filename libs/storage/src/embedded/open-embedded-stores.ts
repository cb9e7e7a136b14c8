import type { EpisodicStore } from "../episodic-store.js";
import type { GraphStore } from "../graph-store.js";
import { SqliteEpisodicStore, type SqliteEpisodicStoreOptions } from "./sqlite-episodic-store.js";
import { SqliteGraphStore } from "./sqlite-graph-store.js";

/** Opens (and initialises) both embedded stores over one directory; if either fails, neither stays open. */
export async function openEmbeddedStores(options: SqliteEpisodicStoreOptions): Promise<{ episodic: EpisodicStore; graph: GraphStore }> {
  const episodic = new SqliteEpisodicStore(options);
  const graph = new SqliteGraphStore({ ...options });
  try {
    await episodic.init();
    await graph.init();
  } catch (error) {
    await Promise.allSettled([episodic.close(), graph.close()]);
    throw error;
  }
  return { episodic, graph };
}
