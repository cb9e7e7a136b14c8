/** Recall of graph-held (semantic, procedural) memories with the embedded graph store. */
import { describe } from "vitest";
import { graphRecallScenario } from "./support/graph-recall-scenario.js";

describe("recall of graph-held memories (embedded)", () => {
  graphRecallScenario(() => ({}));
});
