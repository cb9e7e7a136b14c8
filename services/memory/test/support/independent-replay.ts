import { LearningState } from "@t4dm/learning";
import { walV1, type persistenceV1 } from "@t4dm/proto";

/**
 * Replays the sidecar's recovery stream (checkpoint + tail) into a fresh
 * state, without the memory service: what a warm start would rebuild, for
 * tests that compare it with the live state (invariant I1).
 */
export function independentReplay(client: persistenceV1.PersistenceServiceClient): Promise<LearningState> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let plan: persistenceV1.RecoveryPlan | undefined;
    let state: LearningState | undefined;
    const stream = client.recover({});
    stream.on("data", (response: persistenceV1.RecoverResponse) => {
      const part = response.part;
      if (part?.$case === "plan") plan = part.value;
      if (part?.$case === "checkpointChunk") chunks.push(part.value);
      if (part?.$case === "records") {
        state ??= plan?.checkpoint ? LearningState.decode(Buffer.concat(chunks)) : new LearningState();
        for (const record of part.value.records) state.apply(record.lsn, walV1.WalEntry.decode(record.payload));
      }
    });
    stream.on("error", reject);
    stream.on("end", () => resolve(state ?? (plan?.checkpoint ? LearningState.decode(Buffer.concat(chunks)) : new LearningState())));
  });
}
