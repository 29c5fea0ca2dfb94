/** Parent memory sizes: how much the parent maps and touches before it spawns. */
import fc from "fast-check";

const MiB = 1024 * 1024;

export function memorySizeArbitrary(maxBytes: number): fc.Arbitrary<number> {
  if (maxBytes < MiB) return fc.constant(0);
  return fc.oneof(fc.constant(0), fc.integer({ min: 1, max: Math.floor(maxBytes / MiB) }).map((mebibytes) => mebibytes * MiB));
}
