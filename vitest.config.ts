import { configDefaults, defineConfig } from "vitest/config";

const TESTS = ["libs/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "clients/*/test/**/*.test.ts", "test/**/*.test.ts"];
// Test files that need the run's shared Neo4j server have "neo4j" at the start of their name;
// only a run that includes one of them pays for starting it (~5-10 s, a JVM).
const NEO4J_TESTS = ["libs/*/test/**/neo4j*.test.ts", "services/*/test/**/neo4j*.test.ts", "test/**/neo4j*.test.ts"];

export default defineConfig({
  test: {
    // Tests start real processes; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "t4dm", include: TESTS, exclude: [...configDefaults.exclude, ...NEO4J_TESTS] } },
      { extends: true, test: { name: "neo4j", include: NEO4J_TESTS, globalSetup: ["test/support/neo4j-global-setup.ts"] } },
    ],
  },
});
