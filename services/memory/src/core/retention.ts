import { planRetention, type RetainedMemory } from "@t4dm/learning";
import { adminV1, walV1 } from "@t4dm/proto";
import { InvalidArgumentError, type FieldViolation } from "@t4dm/rpc";
import type { CommitPipeline } from "../pipeline/commit-pipeline.js";
import type { Stores } from "../storage/store-sync.js";
import { checkNamespaceValue } from "./validation.js";

/** Stored memories are read this many at a time when a limit is enforced. */
const PAGE = 1000;

/**
 * Namespace retention policies: the admin calls that set and read them (a
 * RETENTION_POLICY_SET record, so the policy is checkpointed and replayed
 * with the state), and the enforcement of their limits (max memories, max
 * age) by MEMORY_DELETE records with reason RETENTION, which GetMemory then
 * reports. The limits count buffered memories and the episodic store;
 * semantic and procedural memories in the graph store are not counted.
 */
export class Retention {
  constructor(
    private readonly pipeline: CommitPipeline,
    private readonly stores: Stores,
    private readonly clock: () => Date,
  ) {}

  async set(request: adminV1.SetRetentionPolicyRequest): Promise<adminV1.SetRetentionPolicyResponse> {
    const record = validatePolicy(request);
    const lsn = await this.pipeline.submit([{ $case: "retentionPolicySet", value: record }], this.clock());
    return { policy: publicPolicy(record), lsn };
  }

  get(request: adminV1.GetRetentionPolicyRequest): adminV1.GetRetentionPolicyResponse {
    const violations: FieldViolation[] = [];
    checkNamespaceValue(request.namespace, violations);
    if (violations.length > 0) throw new InvalidArgumentError(violations);
    const retention = this.pipeline.durable.retention;
    const own = retention.get(request.namespace);
    const policy = own ?? { namespace: request.namespace, mode: retention.modeOf(request.namespace), maxMemories: 0, maxAgeSeconds: 0 };
    return { policy: publicPolicy(policy), isDefault: own === undefined };
  }

  /** Ends what the namespace's limits exclude; the number ended. */
  async enforce(namespace: string): Promise<{ ended: number; lsn: number }> {
    const policy = this.pipeline.projected.retention.get(namespace);
    if (!policy || (policy.maxMemories === 0 && policy.maxAgeSeconds === 0)) return { ended: 0, lsn: 0 };
    const stored = await this.storedOf(namespace);
    // Planned in the same tick as it is submitted, against the projected state.
    const now = this.clock();
    const state = this.pipeline.projected;
    const held = [...state.buffer.all(), ...state.buffer.promoting()]
      .filter((item) => item.memory.namespace === namespace)
      .map((item) => ({ id: item.memory.id, createTime: item.memory.createTime ?? now }));
    // A stored memory whose delete is pending, or that a Forget just ended, is not counted.
    const live = stored.filter((memory) => !state.outbox.pendingDeletes.has(memory.id) && !state.outbox.evictions.has(memory.id));
    const operations = planRetention(state.retention.get(namespace), [...held, ...live], now);
    if (operations.length === 0) return { ended: 0, lsn: 0 };
    const lsn = await this.pipeline.submit(operations, now);
    const ended = operations[0]?.$case === "memoryDelete" ? operations[0].value.memoryIds.length : 0;
    return { ended, lsn };
  }

  /** The periodic sweep: every namespace with a limit. */
  async enforceAll(): Promise<number> {
    if (!this.pipeline.writable) return 0;
    let ended = 0;
    for (const policy of this.pipeline.projected.retention.limited()) ended += (await this.enforce(policy.namespace)).ended;
    return ended;
  }

  private async storedOf(namespace: string): Promise<RetainedMemory[]> {
    const all: RetainedMemory[] = [];
    let after: { createTime: Date; id: string } | undefined;
    for (;;) {
      const page = await this.stores.episodic.list(namespace, {}, { after, limit: PAGE });
      for (const memory of page) all.push({ id: memory.id, createTime: memory.createTime });
      if (page.length < PAGE) return all;
      const last = page.at(-1)!;
      after = { createTime: last.createTime, id: last.id };
    }
  }
}

/** The request as a WAL record, or INVALID_ARGUMENT naming every bad field (nothing logged). */
export function validatePolicy(request: adminV1.SetRetentionPolicyRequest): walV1.RetentionPolicySet {
  const violations: FieldViolation[] = [];
  checkNamespaceValue(request.namespace, violations);
  const policy = request.policy;
  if (!policy) {
    violations.push({ field: "policy", description: "is required" });
    throw new InvalidArgumentError(violations);
  }
  const mode = MODES.get(policy.mode);
  if (mode === undefined) violations.push({ field: "policy.mode", description: "must be RETENTION_MODE_KEEP or RETENTION_MODE_LEARNED" });
  const limit = (value: number, field: string) => {
    if (!Number.isSafeInteger(value) || value < 0) violations.push({ field, description: "must be a whole number, 0 (no limit) or more" });
  };
  limit(policy.maxMemories, "policy.max_memories");
  limit(policy.maxAgeSeconds, "policy.max_age_seconds");
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  return { namespace: request.namespace, mode: mode!, maxMemories: policy.maxMemories, maxAgeSeconds: policy.maxAgeSeconds };
}

const MODES = new Map<adminV1.RetentionMode, walV1.RetentionMode>([
  [adminV1.RetentionMode.RETENTION_MODE_KEEP, walV1.RetentionMode.RETENTION_MODE_KEEP],
  [adminV1.RetentionMode.RETENTION_MODE_LEARNED, walV1.RetentionMode.RETENTION_MODE_LEARNED],
]);

export function publicPolicy(record: walV1.RetentionPolicySet): adminV1.RetentionPolicy {
  const mode = record.mode === walV1.RetentionMode.RETENTION_MODE_LEARNED ? adminV1.RetentionMode.RETENTION_MODE_LEARNED : adminV1.RetentionMode.RETENTION_MODE_KEEP;
  return { mode, maxMemories: record.maxMemories, maxAgeSeconds: record.maxAgeSeconds };
}
