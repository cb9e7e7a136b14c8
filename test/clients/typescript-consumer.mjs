// A separate project's use of the packed @t4dm/client (copied into a temporary
// project by test/client-typescript.e2e.test.ts). Prints one JSON line per retry
// ({"retry": ...}) and, at the end, one with what each step answered.
// Usage: node typescript-consumer.mjs <address> <namespace>
import { connect, memoryV1, status, T4dmCallError, T4dmOptionError } from "@t4dm/client";

const [address, namespace] = process.argv.slice(2);
const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");

const retriedRequestIds = new Set();
// Started before the pod listens: the first Remember is retried until it is up.
const client = connect(address, {
  deadlineMs: 120_000,
  retries: { maxAttempts: 10_000, initialBackoffMs: 50, maxBackoffMs: 500 },
  onRetry: ({ method, attempt, requestId, error }) => {
    if (method === "Remember") retriedRequestIds.add(requestId);
    print({ retry: { method, attempt, requestId, code: error.codeName } });
  },
});
const content = "The staging deploy key rotates every Monday at 09:00 UTC.";
const remembered = await client.remember({ namespace, content, metadata: { source: "typescript-consumer" } });
const recall = await client.recall({ namespace, query: "when does the deploy key rotate?", topK: 5 });
const reinforce = await client.reinforce({ namespace, recallId: recall.recallId, reward: 1 });

// The request id every attempt sent is the one the service keyed the memory on: sent again
// it answers the same memory, ADMITTED (a new request with this content would be MERGED).
const [requestId] = retriedRequestIds;
const again = await client.remember({ namespace, content, metadata: { source: "typescript-consumer" }, requestId });
const reused = await client.remember({ namespace, content: "another body", requestId }).then(() => null, describe);

const badArgument = await client.remember({ namespace, content: "" }).then(() => null, describe);
const badOption = (() => {
  try {
    connect(address, { deadlineMs: -1 });
    return null;
  } catch (error) {
    return describe(error);
  }
})();
const listed = [];
for await (const memory of client.allMemories({ namespace, pageSize: 1 })) listed.push(memory.id);
client.close();

print({
  done: {
    remembered: { id: remembered.memory.id, decision: memoryV1.admissionDecisionToJSON(remembered.decision), lsn: remembered.lsn },
    recall: { recallId: recall.recallId, ids: recall.memories.map((m) => m.memory.id) },
    reinforce: { creditedMemories: reinforce.creditedMemories, lsn: reinforce.lsn },
    again: { id: again.memory.id, decision: memoryV1.admissionDecisionToJSON(again.decision) },
    reused,
    badArgument,
    badOption,
    listed,
    retriedRequestIds: [...retriedRequestIds],
    unavailableCode: status.UNAVAILABLE,
  },
});

function describe(error) {
  if (error instanceof T4dmCallError) return { kind: "call", code: error.codeName, reason: error.reason, fieldViolations: error.fieldViolations, message: error.message };
  if (error instanceof T4dmOptionError) return { kind: "option", option: error.option, message: error.message };
  throw error;
}
