/**
 * A seeded random source for tests (xorshift32): the same numbers in [0, 1) for the same seed on every run, so a
 * fuzz case or a relay's damage can be replayed. Seed 0 is taken as 1 (xorshift never leaves 0).
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}
