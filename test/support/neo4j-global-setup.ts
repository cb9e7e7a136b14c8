import type { TestProject } from "vitest/node";
import { buildLauncher, type Neo4jConnection, Neo4jServer } from "@t4dm/testkit";

declare module "vitest" {
  export interface ProvidedContext {
    /** The run's shared Neo4j server; tests isolate themselves by namespace, never by clearing it. */
    neo4j: Neo4jConnection;
  }
}

/**
 * Vitest global setup: one real Neo4j for the whole run (see vitest.config.ts for which
 * test files get it). A failure to build or start it fails the run; it is never a skip.
 * The connection is handed to tests with `inject("neo4j")` and, for tests that start
 * services as child processes, as T4DM_TEST_NEO4J_URI / _USER / _PASSWORD.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  buildLauncher();
  const server = await Neo4jServer.start();
  const { connection } = server;
  project.provide("neo4j", connection);
  process.env.T4DM_TEST_NEO4J_URI = connection.uri;
  process.env.T4DM_TEST_NEO4J_USER = connection.user;
  process.env.T4DM_TEST_NEO4J_PASSWORD = connection.password;
  console.log(`[neo4j] ${connection.uri} ready in ${Date.now() - started} ms (home ${server.home})`);
  return async () => {
    await server.dispose();
  };
}
