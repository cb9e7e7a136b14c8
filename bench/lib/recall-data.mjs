// @ts-check
/**
 * Pure pieces of the recall bench: seeded clustered vectors, the exact
 * brute-force top-k (the anchor and the ground truth), and recall@k.
 */
import { mulberry32 } from "@t4dm/testkit";

/**
 * A seeded source of unit vectors with the structure of sentence embeddings:
 * `clusters` topics, each a random unit centroid plus its own random
 * `latent`-dimensional subspace; a vector is its topic's centroid, plus a
 * Gaussian point of that subspace (`latentSigma` per latent axis), plus a
 * little isotropic noise (`noiseSigma` per dimension), normalised. So the
 * data has many topics (unrelated vectors sit near cosine 0) and, inside a
 * topic, a low intrinsic dimension (real embeddings are far from isotropic:
 * uniform noise in all 384 dimensions would make every neighbour almost
 * equidistant, which no embedding model produces and which makes any ANN
 * index look bad). With the bench's 16 latent axes, 0.22 and 0.01, a vector's
 * cosine to its centroid is about 0.74 and to another of its topic about 0.55
 * on average, spread by how close they are in the subspace.
 * @param {{ seed: number, dims: number, clusters: number, latent: number, latentSigma: number, noiseSigma: number }} o
 */
export function clusteredSource({ seed, dims, clusters, latent, latentSigma, noiseSigma }) {
  const random = mulberry32(seed);
  let spare = NaN;
  /** Standard normal (Box–Muller, both outputs used). */
  const gaussian = () => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = NaN;
      return s;
    }
    const u = Math.max(random(), 1e-12);
    const r = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * random();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
  const centroids = Array.from({ length: clusters }, () => unit(Float64Array.from({ length: dims }, gaussian)));
  // Per topic, `latent` random unit directions, row-major.
  const bases = Array.from({ length: clusters }, () => {
    const basis = new Float32Array(latent * dims);
    for (let j = 0; j < latent; j++) basis.set(unit(Float64Array.from({ length: dims }, gaussian)), j * dims);
    return basis;
  });
  const v = new Float64Array(dims);
  return {
    /** A new vector of a random topic, written into `out` (a Float32Array of `dims`). @param {Float32Array} out */
    next(out) {
      const c = Math.floor(random() * clusters);
      const centroid = /** @type {Float64Array} */ (centroids[c]);
      const basis = /** @type {Float32Array} */ (bases[c]);
      for (let d = 0; d < dims; d++) v[d] = /** @type {number} */ (centroid[d]) + noiseSigma * gaussian();
      for (let j = 0, o = 0; j < latent; j++, o += dims) {
        const z = latentSigma * gaussian();
        for (let d = 0; d < dims; d++) v[d] = /** @type {number} */ (v[d]) + z * /** @type {number} */ (basis[o + d]);
      }
      out.set(unit(v));
      return out;
    },
  };
}

/** @param {Float64Array} v */
function unit(v) {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += /** @type {number} */ (v[i]) ** 2;
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i] = /** @type {number} */ (v[i]) / n;
  return v;
}

/**
 * Exact top-k by dot product (= cosine for unit vectors) over the rows of a
 * row-major matrix: a plain scan with a small sorted insertion list, the
 * straightforward brute force a user could write. Returns row indexes, best
 * first (ties by lower row).
 * @param {Float32Array} matrix rows × dims
 * @param {number} rows
 * @param {number} dims
 * @param {Float32Array} query
 * @param {number} k
 */
export function bruteForceTopK(matrix, rows, dims, query, k) {
  const best = new Float64Array(k).fill(-Infinity);
  const bestRow = new Int32Array(k).fill(-1);
  for (let r = 0, o = 0; r < rows; r++, o += dims) {
    let dot = 0;
    for (let d = 0; d < dims; d++) dot += /** @type {number} */ (query[d]) * /** @type {number} */ (matrix[o + d]);
    if (dot <= /** @type {number} */ (best[k - 1])) continue;
    let i = k - 1;
    while (i > 0 && dot > /** @type {number} */ (best[i - 1])) {
      best[i] = /** @type {number} */ (best[i - 1]);
      bestRow[i] = /** @type {number} */ (bestRow[i - 1]);
      i--;
    }
    best[i] = dot;
    bestRow[i] = r;
  }
  return { rows: Array.from(bestRow).filter((r) => r >= 0), scores: Array.from(best) };
}

/**
 * Mean recall@k: the share of each query's true top-k found in its returned top-k.
 * @param {string[][]} truth per query, the exact top-k ids
 * @param {string[][]} got per query, the returned ids (only the first k count)
 * @param {number} k
 */
export function recallAtK(truth, got, k) {
  let found = 0;
  let wanted = 0;
  truth.forEach((expected, q) => {
    const returned = new Set((got[q] ?? []).slice(0, k));
    const top = expected.slice(0, k);
    wanted += top.length;
    found += top.filter((id) => returned.has(id)).length;
  });
  return wanted === 0 ? NaN : found / wanted;
}
