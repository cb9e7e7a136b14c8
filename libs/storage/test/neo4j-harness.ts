import { randomBytes } from "node:crypto";
import neo4j from "neo4j-driver";
import type {
  AccessUpdate,
  LexicalSearchResult,
  SearchHit,
  StoredMemory,
  StoreFilter,
  ConceptInput,
  FactInput,
  FactQuery,
  GraphStore,
  MemoryNode,
  ProcedureInput,
  StoredConcept,
  StoredFact,
  StoredProcedure,
  StoreHealth,
} from "../src/index.js";
import { Neo4jGraphStore, type Neo4jGraphStoreOptions } from "../src/index.js";
import type { GraphHarness } from "./graph-contract.js";
import type { Neo4jConnection } from "@t4dm/testkit";

/**
 * The real Neo4jGraphStore, with every namespace the test names moved under a prefix
 * of its own. Tests share one server (and Community has one user database), so a
 * prefix per harness isolates them without clearing data another test file may be
 * using; cross-namespace isolation is still exercised, since "ns-a" and "ns-b" stay two
 * namespaces in the store.
 */
class PrefixedGraphStore implements GraphStore {
  constructor(
    readonly inner: Neo4jGraphStore,
    private readonly prefix: string,
  ) {}

  get backend(): string {
    return this.inner.backend;
  }

  init(): Promise<void> {
    return this.inner.init();
  }

  async upsertFact(fact: FactInput): Promise<{ fact: StoredFact; closed: StoredFact[] }> {
    const { fact: stored, closed } = await this.inner.upsertFact(this.in(fact));
    return { fact: this.out(stored), closed: closed.map((f) => this.out(f)) };
  }

  async queryFacts(query: FactQuery): Promise<StoredFact[]> {
    return (await this.inner.queryFacts(this.in(query))).map((f) => this.out(f));
  }

  async upsertProcedure(procedure: ProcedureInput): Promise<StoredProcedure> {
    return this.out(await this.inner.upsertProcedure(this.in(procedure)));
  }

  async getProcedure(namespace: string, id: string): Promise<StoredProcedure | undefined> {
    return this.maybeOut(await this.inner.getProcedure(this.prefix + namespace, id));
  }

  async listProcedures(namespace: string): Promise<StoredProcedure[]> {
    return (await this.inner.listProcedures(this.prefix + namespace)).map((p) => this.out(p));
  }

  async recordOutcome(namespace: string, id: string, success: boolean, at: Date): Promise<StoredProcedure | undefined> {
    return this.maybeOut(await this.inner.recordOutcome(this.prefix + namespace, id, success, at));
  }

  upsertMemoryNode(node: MemoryNode): Promise<void> {
    return this.inner.upsertMemoryNode(this.in(node));
  }

  async getMemoryNode(namespace: string, id: string): Promise<StoredMemory | undefined> {
    return this.maybeOut(await this.inner.getMemoryNode(this.prefix + namespace, id));
  }

  async getMemoryNodes(namespace: string, ids: readonly string[]): Promise<StoredMemory[]> {
    return (await this.inner.getMemoryNodes(this.prefix + namespace, ids)).map((m) => this.out(m));
  }

  async searchMemoryNodes(namespace: string, query: Float32Array, k: number, filter: StoreFilter): Promise<SearchHit[]> {
    return (await this.inner.searchMemoryNodes(this.prefix + namespace, query, k, filter)).map((hit) => ({ ...hit, memory: this.out(hit.memory) }));
  }

  async lexicalSearchMemoryNodes(namespace: string, terms: readonly string[], k: number, filter: StoreFilter): Promise<LexicalSearchResult> {
    const result = await this.inner.lexicalSearchMemoryNodes(this.prefix + namespace, terms, k, filter);
    return { ...result, hits: result.hits.map((hit) => ({ ...hit, memory: this.out(hit.memory) })) };
  }

  recordAccess(namespace: string, updates: readonly AccessUpdate[]): Promise<void> {
    return this.inner.recordAccess(this.prefix + namespace, updates);
  }

  deleteMemoryNodes(namespace: string, ids: readonly string[]): Promise<void> {
    return this.inner.deleteMemoryNodes(this.prefix + namespace, ids);
  }

  async listMemoryNodes(namespace: string, page: { after?: { createTime: Date; id: string }; limit: number }): Promise<StoredMemory[]> {
    return (await this.inner.listMemoryNodes(this.prefix + namespace, page)).map((m) => this.out(m));
  }

  restoreFact(fact: StoredFact): Promise<void> {
    return this.inner.restoreFact(this.in(fact));
  }

  restoreProcedure(procedure: StoredProcedure): Promise<void> {
    return this.inner.restoreProcedure(this.in(procedure));
  }

  async namespaces(): Promise<string[]> {
    return (await this.inner.namespaces()).filter((n) => n.startsWith(this.prefix)).map((n) => n.slice(this.prefix.length));
  }

  upsertConcept(concept: ConceptInput): Promise<void> {
    return this.inner.upsertConcept(this.in(concept));
  }

  async listConcepts(namespace: string): Promise<StoredConcept[]> {
    return (await this.inner.listConcepts(this.prefix + namespace)).map((c) => this.out(c));
  }

  health(): Promise<StoreHealth> {
    return this.inner.health();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private in<T extends { namespace: string }>(value: T): T {
    return { ...value, namespace: this.prefix + value.namespace };
  }

  private out<T extends { namespace: string }>(value: T): T {
    if (!value.namespace.startsWith(this.prefix)) throw new Error(`the store returned namespace ${value.namespace}, outside ${this.prefix}`);
    return { ...value, namespace: value.namespace.slice(this.prefix.length) };
  }

  private maybeOut<T extends { namespace: string }>(value: T | undefined): T | undefined {
    return value === undefined ? undefined : this.out(value);
  }
}

const run = randomBytes(4).toString("hex");
let harnesses = 0;

/** The graph contract's dimension (graph-contract.ts). */
export const CONTRACT_DIMENSIONS = 8;

export function storeOptions(connection: Neo4jConnection, tuning: Partial<Neo4jGraphStoreOptions> = {}): Neo4jGraphStoreOptions {
  return { uri: connection.uri, user: connection.user, password: connection.password, dimensions: CONTRACT_DIMENSIONS, ...tuning };
}

/** Deletes every node (and so every relationship) under the namespace prefix. */
export async function deleteNamespaces(connection: Neo4jConnection, prefix: string): Promise<void> {
  const driver = neo4j.driver(connection.uri, neo4j.auth.basic(connection.user, connection.password));
  try {
    await driver.executeQuery("MATCH (n) WHERE n.namespace STARTS WITH $prefix DETACH DELETE n", { prefix });
  } finally {
    await driver.close();
  }
}

/** A GraphHarness over the shared server: fresh (empty) namespaces per harness, removed by cleanup. */
export async function neo4jGraphHarness(connection: Neo4jConnection): Promise<GraphHarness> {
  const prefix = `test-${run}-${++harnesses}/`;
  const opened: Neo4jGraphStore[] = [];
  const open = async () => {
    const store = new Neo4jGraphStore(storeOptions(connection));
    opened.push(store);
    await store.init();
    return new PrefixedGraphStore(store, prefix);
  };
  const store = await open();
  return {
    store,
    reopen: open,
    cleanup: async () => {
      for (const s of opened) await s.close();
      await deleteNamespaces(connection, prefix);
    },
  };
}
