import type { StoredMemory } from "../../src/index.js";

/** A complete memory with dull defaults; tests override what they look at. */
export function memory(overrides: Partial<StoredMemory> & { id: string; embedding: Float32Array }): StoredMemory {
  return {
    namespace: "ns-a",
    kind: 1,
    content: `content of ${overrides.id}`,
    metadata: {},
    importance: 0.5,
    createTime: new Date(Date.UTC(2025, 0, 1)),
    evidence: 0.25,
    accessCount: 0,
    rewardSum: 0,
    rewardCount: 0,
    clusterId: 0,
    ...overrides,
  };
}

export function ids(memories: readonly { id: string }[]): string[] {
  return memories.map((m) => m.id);
}

export function sorted(values: readonly string[]): string[] {
  return [...values].sort();
}
