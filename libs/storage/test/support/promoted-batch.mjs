// One store-sync batch of promoted memories, the same on every call (what a redo after a crash writes again).

/** @param {number} dimensions @param {number} count */
export function batch(dimensions, count) {
  let seed = 777;
  const random = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
  return Array.from({ length: count }, (_, i) => {
    const v = Float32Array.from({ length: dimensions }, random);
    const norm = Math.hypot(...v);
    return {
      id: `p-${i}`,
      namespace: `ns-${i % 2}`,
      kind: 1,
      content: `promoted memory ${i}`,
      embedding: v.map((x) => x / norm),
      metadata: { i },
      importance: 0.5,
      createTime: new Date(1_700_000_000_000 + i),
      evidence: 0.25,
      accessCount: i % 3,
      rewardSum: 0,
      rewardCount: 0,
      clusterId: 0,
    };
  });
}
