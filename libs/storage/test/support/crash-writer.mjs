// Writes to the embedded stores from the built dist/ until killed, printing
// "acked <i>" once every write of step i has resolved. The crash test kills
// it with SIGKILL at an arbitrary point and checks that every acked write
// survived.
import { SqliteEpisodicStore, SqliteGraphStore } from "../../dist/index.js";

const [dir, dims] = process.argv.slice(2);
const dimensions = Number(dims);
const episodic = new SqliteEpisodicStore({ dir, dimensions, saveIndexEvery: 64 });
const graph = new SqliteGraphStore({ dir, dimensions, saveIndexEvery: 64 });
await episodic.init();
await graph.init();

let seed = 12345;
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
};
const unit = () => {
  const v = Float32Array.from({ length: dimensions }, random);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
};

for (let i = 0; ; i++) {
  await episodic.upsert([
    {
      id: `m-${i}`,
      namespace: `ns-${i % 3}`,
      kind: 1,
      content: `memory ${i}`,
      embedding: unit(),
      metadata: { i },
      importance: 0.5,
      createTime: new Date(1_700_000_000_000 + i),
      evidence: 0,
      accessCount: 0,
      rewardSum: 0,
      rewardCount: 0,
      clusterId: 0,
    },
  ]);
  if (i % 5 === 0 && i >= 3) await episodic.delete(`ns-${(i - 3) % 3}`, [`m-${i - 3}`]);
  await graph.upsertFact({
    id: `f-${i}`,
    namespace: "ns-0",
    subject: `s-${i % 7}`,
    predicate: "is",
    object: `o-${i}`,
    confidence: 1,
    validStartTime: new Date(1_700_000_000_000 + i),
    recordTime: new Date(1_700_000_000_000 + i),
    metadata: {},
  });
  process.stdout.write(`acked ${i}\n`);
}
