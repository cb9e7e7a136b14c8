/** Recall of graph-held (semantic, procedural) memories with the graph store on a real Neo4j (the run's shared server). */
import { describe, inject } from "vitest";
import { graphRecallScenario } from "./support/graph-recall-scenario.js";

describe("recall of graph-held memories (neo4j)", () => {
  graphRecallScenario(() => {
    const connection = inject("neo4j");
    return { T4DM_NEO4J_URI: connection.uri, T4DM_NEO4J_USER: connection.user, T4DM_NEO4J_PASSWORD: connection.password };
  });
});
