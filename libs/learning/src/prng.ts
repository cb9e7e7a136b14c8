/**
 * The learning state's only source of randomness: xoshiro128** (Blackman &
 * Vigna) over four u32 words. The words are part of the checkpoint
 * (`LearningState.prng_state`), so a restored state draws exactly the numbers
 * the live state would have drawn. No hidden state: Box–Muller keeps no
 * cached spare, so `words()` is the whole generator.
 */

const TWO_POW_32 = 0x1_0000_0000;
const GOLDEN_GAMMA = 0x9e3779b9;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < TWO_POW_32;
}

export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(words: readonly [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = words;
  }

  /**
   * Expands a u32 seed with splitmix32 (golden-ratio increment, then the
   * 0x21f0aab5/0x735a2d97 finalizer), as xoshiro's authors recommend: nearby
   * seeds give unrelated streams and the state is never all zero in practice.
   */
  static fromSeed(seed: number): Prng {
    if (!isU32(seed)) throw new RangeError(`PRNG seed must be a u32 integer, got ${seed}`);
    let counter = seed;
    const next = (): number => {
      counter = (counter + GOLDEN_GAMMA) >>> 0;
      let z = Math.imul(counter ^ (counter >>> 16), 0x21f0aab5);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    const words: [number, number, number, number] = [next(), next(), next(), next()];
    // xoshiro is stuck at zero forever; no u32 seed maps there, but be certain.
    if (words.every((w) => w === 0)) words[0] = GOLDEN_GAMMA;
    return new Prng(words);
  }

  /** Restores a generator from `words()`; rejects anything a live generator could not hold. */
  static fromWords(words: readonly number[]): Prng {
    if (words.length !== 4) throw new RangeError(`PRNG state must have 4 words, got ${words.length}`);
    if (!words.every(isU32)) throw new RangeError(`PRNG state words must be u32 integers: [${words.join(", ")}]`);
    if (words.every((w) => w === 0)) throw new RangeError("PRNG state must not be all zero");
    return new Prng(words as unknown as [number, number, number, number]);
  }

  /** The four state words, for `LearningState.prng_state`. */
  words(): number[] {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    // Keep the words unsigned so words() round-trips through proto uint32.
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution; one draw. */
  nextFloat(): number {
    return this.nextU32() / TWO_POW_32;
  }

  /**
   * Standard normal by Box–Muller; two draws per call and the second normal
   * is discarded, so there is no spare to lose across a checkpoint.
   */
  nextGaussian(): number {
    const u1 = 1 - this.nextFloat(); // (0, 1]: log never sees 0
    const u2 = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
