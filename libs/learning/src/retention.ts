import { walV1 } from "@t4dm/proto";
import type { Operation } from "./wal-entries.js";

/**
 * Retention policies by namespace: the operator's RETENTION_POLICY_SET
 * records, and the service default from the latest SYSTEM_START. Planning
 * reads them; the records planning logs carry its decisions, so a policy
 * change never changes what older records replay to.
 *
 * KEEP (the default, also for UNSPECIFIED from older WALs): nothing
 * acknowledged is discarded by learning. LEARNED: the gate may reject and
 * weak items leaving the buffer are evicted.
 */
export class RetentionPolicies {
  defaultMode = walV1.RetentionMode.RETENTION_MODE_UNSPECIFIED;
  private readonly policies = new Map<string, walV1.RetentionPolicySet>();

  /** The namespace's own policy, if the operator set one. */
  get(namespace: string): walV1.RetentionPolicySet | undefined {
    return this.policies.get(namespace);
  }

  modeOf(namespace: string): walV1.RetentionMode {
    const mode = this.policies.get(namespace)?.mode ?? this.defaultMode;
    return mode === walV1.RetentionMode.RETENTION_MODE_LEARNED ? mode : walV1.RetentionMode.RETENTION_MODE_KEEP;
  }

  /** True unless the namespace opted into learned discarding. */
  keeps(namespace: string): boolean {
    return this.modeOf(namespace) === walV1.RetentionMode.RETENTION_MODE_KEEP;
  }

  /** Namespaces with a max-memories or max-age limit. */
  limited(): walV1.RetentionPolicySet[] {
    return [...this.policies.values()].filter((policy) => policy.maxMemories > 0 || policy.maxAgeSeconds > 0);
  }

  apply(record: walV1.RetentionPolicySet): void {
    this.policies.set(record.namespace, { ...record });
  }

  /** Sorted by namespace, so equal states encode to equal bytes. */
  snapshot(): walV1.RetentionPolicySet[] {
    return [...this.policies.values()].sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
  }

  static restore(defaultMode: walV1.RetentionMode, policies: readonly walV1.RetentionPolicySet[]): RetentionPolicies {
    const restored = new RetentionPolicies();
    restored.defaultMode = defaultMode;
    for (const policy of policies) restored.apply(policy);
    return restored;
  }
}

/** A memory the retention limits weigh: its id and age. */
export interface RetainedMemory {
  id: string;
  createTime: Date;
}

/**
 * The MEMORY_DELETE (reason RETENTION) that brings a namespace within its
 * limits: memories older than max age, then the oldest beyond max memories.
 * `memories` are every memory the namespace holds (buffered, promoting and
 * stored, resolved by the caller); ids repeated across them count once.
 * Oldest first, because age is what an operator's limit can be reasoned
 * about with; evidence already decides promotion order.
 */
export function planRetention(policy: walV1.RetentionPolicySet | undefined, memories: readonly RetainedMemory[], now: Date): Operation[] {
  if (!policy || (policy.maxMemories === 0 && policy.maxAgeSeconds === 0)) return [];
  const unique = new Map<string, RetainedMemory>();
  for (const memory of memories) unique.set(memory.id, memory);
  const oldestFirst = [...unique.values()].sort((a, b) => a.createTime.getTime() - b.createTime.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const ended: string[] = [];
  const cutoff = policy.maxAgeSeconds > 0 ? now.getTime() - policy.maxAgeSeconds * 1000 : -Infinity;
  const excess = policy.maxMemories > 0 ? oldestFirst.length - policy.maxMemories : 0;
  oldestFirst.forEach((memory, index) => {
    if (index < excess || memory.createTime.getTime() < cutoff) ended.push(memory.id);
  });
  if (ended.length === 0) return [];
  return [{ $case: "memoryDelete", value: { namespace: policy.namespace, memoryIds: ended, reason: walV1.RemovalReason.REMOVAL_REASON_RETENTION } }];
}
