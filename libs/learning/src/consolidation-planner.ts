import { walV1 } from "@t4dm/proto";
import { effectiveEvidence, type BufferedItem } from "./buffer.js";
import type { LearningState } from "./learning-state.js";
import { combine, DUPLICATE_SIMILARITY, duplicates, mergeRecord, valuesOf, type MergedValues } from "./merge.js";
import { leaveBuffer } from "./planner.js";
import type { Operation } from "./wal-entries.js";

export { DUPLICATE_SIMILARITY };
/** A cluster needs this many members before deep consolidation names it a concept. */
export const CONCEPT_MIN_MEMBERS = 5;

/** Working memories past their TTL leave the buffer (reason TTL). */
export function planExpiry(state: LearningState, now: Date): Operation[] {
  const operations: Operation[] = [];
  for (const item of state.buffer.all()) {
    if (item.memory.expireTime && item.memory.expireTime.getTime() <= now.getTime()) {
      operations.push({ $case: "bufferRemove", value: { memoryId: item.memory.id, reason: walV1.RemovalReason.REMOVAL_REASON_TTL } });
    }
  }
  return operations;
}

export interface ConsolidationPlan {
  operations: Operation[];
  promoted: number;
  evicted: number;
  merged: number;
  concepts: number;
}

/**
 * LIGHT: every buffered memory of the namespace leaves the buffer now —
 * expired working memory by TTL, the rest promoted (in a LEARNED namespace
 * only if their evidence earned it, else evicted with reason AGE). DEEP
 * first merges near-duplicates into the stronger copy (MEMORY_MERGE: the
 * keeper takes their metadata, importance and evidence; the merged id
 * answers MERGED) and turns clusters with enough members into concepts
 * linked to their episodes (`episodesOf` supplies members from the stores,
 * resolved by the caller before planning). It never deletes a live
 * memory's content.
 */
export function planConsolidation(
  state: LearningState,
  namespace: string,
  deep: boolean,
  now: Date,
  episodesOf: (clusterId: number) => readonly string[] = () => [],
): ConsolidationPlan {
  const plan: ConsolidationPlan = { operations: [], promoted: 0, evicted: 0, merged: 0, concepts: 0 };
  const items = state.buffer.inNamespace(namespace);
  const gone = new Set<string>();

  if (deep) {
    const strongestFirst = [...items].sort((a, b) => effectiveEvidence(b, now) - effectiveEvidence(a, now) || (a.memory.id < b.memory.id ? -1 : 1));
    for (let i = 0; i < strongestFirst.length; i++) {
      const keeper = strongestFirst[i]!;
      if (gone.has(keeper.memory.id)) continue;
      let values: MergedValues = valuesOf(keeper);
      let newest = keeper.memory.createTime?.getTime() ?? 0;
      for (let j = i + 1; j < strongestFirst.length; j++) {
        const other = strongestFirst[j]!;
        if (gone.has(other.memory.id) || !duplicates(keeper, other)) continue;
        gone.add(other.memory.id);
        plan.merged += 1;
        // The newer memory's metadata wins a key both have, as in a Remember merge.
        const otherTime = other.memory.createTime?.getTime() ?? 0;
        values = otherTime > newest ? combine(values, valuesOf(other)) : combine(valuesOf(other), values);
        newest = Math.max(newest, otherTime);
        plan.operations.push({ $case: "memoryMerge", value: mergeRecord(keeper, values, { mergedId: other.memory.id }) });
      }
    }
    for (const cluster of state.clusters.clustersOf(namespace)) {
      if (cluster.memberCount < CONCEPT_MIN_MEMBERS) continue;
      const members = items.filter((item) => item.memory.clusterId === cluster.id && !gone.has(item.memory.id));
      const episodeIds = [...new Set([...members.map((m) => m.memory.id), ...episodesOf(cluster.id)])].sort();
      if (episodeIds.length < CONCEPT_MIN_MEMBERS) continue;
      plan.concepts += 1;
      plan.operations.push({
        $case: "conceptForm",
        value: {
          namespace,
          // One concept per cluster: re-consolidating updates it instead of adding another.
          conceptId: `${namespace}/cluster-${cluster.id}`,
          label: conceptLabel(members),
          centroid: Array.from(cluster.centroid),
          episodeIds,
        },
      });
    }
  }

  for (const item of items) {
    if (gone.has(item.memory.id)) continue;
    const expired = item.memory.expireTime !== undefined && item.memory.expireTime.getTime() <= now.getTime();
    const operation = expired
      ? ({ $case: "bufferRemove", value: { memoryId: item.memory.id, reason: walV1.RemovalReason.REMOVAL_REASON_TTL } } as const)
      : leaveBuffer(item, now, walV1.RemovalReason.REMOVAL_REASON_AGE, state.retention.keeps(namespace));
    if (operation.$case === "bufferPromote") plan.promoted += 1;
    else plan.evicted += 1;
    plan.operations.push(operation);
  }
  return plan;
}

/** The most frequent content words of a cluster's members: a readable handle, not a summary. */
function conceptLabel(members: readonly BufferedItem[]): string {
  const counts = new Map<string, number>();
  for (const member of members) {
    for (const word of member.memory.content.toLowerCase().match(/\p{L}[\p{L}\p{N}-]{2,}/gu) ?? []) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 4).map(([word]) => word);
  return top.join(" ") || "concept";
}
