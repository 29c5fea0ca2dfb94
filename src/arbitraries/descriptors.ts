/** Descriptor numbers the child must find open (each moved there by the spawn). */
import fc from "fast-check";

export function descriptorsArbitrary(reserved: readonly number[]): fc.Arbitrary<number[]> {
  const candidates = Array.from({ length: 38 }, (_, i) => i + 3).filter((fd) => !reserved.includes(fd));
  return fc.subarray(candidates, { maxLength: 4 }).map((fds) => [...fds].sort((a, b) => a - b));
}
