/**
 * Environments: counts, sizes and bytes. Any byte but NUL may appear (the
 * protocol hex-encodes them). "past-limit" draws environments the kernel
 * must refuse with E2BIG: one string longer than MAX_ARG_STRLEN, or a total
 * clearly over the argument space.
 */
import fc from "fast-check";

const anyByteButNul = fc.integer({ min: 1, max: 255 }).map((code) => String.fromCharCode(code));
const printable = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));

export const environmentEntryArbitrary: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.string({ unit: printable, minLength: 1, maxLength: 12 }), fc.string({ unit: printable, maxLength: 40 })).map(([k, v]) => `${k.replaceAll("=", "_")}=${v}`) },
  { weight: 1, arbitrary: fc.string({ unit: anyByteButNul, maxLength: 64 }) },
);

export interface EnvironmentLimits {
  /** MAX_ARG_STRLEN as the probe measured it. */
  maxArgumentString: number;
  /** The total argument space (strings and pointers). */
  argumentSpace: number;
}

export function environmentArbitrary(limits: EnvironmentLimits, size: "small" | "near-limit" | "past-limit" | "mixed" = "small"): fc.Arbitrary<string[]> {
  const small = fc.array(environmentEntryArbitrary, { maxLength: 24 });
  // One big string, clearly under the single-string limit.
  const large = fc.tuple(small, fc.integer({ min: 1024, max: Math.floor(limits.maxArgumentString * 0.9) }), printable).map(([env, length, fill]) => [...env, `BIG=${fill.repeat(length)}`]);
  const overOneString = fc.tuple(small, fc.integer({ min: limits.maxArgumentString, max: limits.maxArgumentString + 4096 })).map(([env, length]) => [...env, `HUGE=${"h".repeat(length)}`]);
  // Many strings each under the single limit whose total is clearly over.
  const chunk = Math.floor(limits.maxArgumentString / 2);
  const overTotal = fc.integer({ min: Math.ceil((limits.argumentSpace * 1.2) / chunk), max: Math.ceil((limits.argumentSpace * 1.5) / chunk) }).map((count) => Array.from({ length: count }, (_, i) => `CHUNK${i}=${"c".repeat(chunk - 16)}`));
  switch (size) {
    case "small":
      return small;
    case "near-limit":
      return large;
    case "past-limit":
      return fc.oneof({ weight: 4, arbitrary: overOneString }, { weight: 1, arbitrary: overTotal });
    case "mixed":
      return fc.oneof({ weight: 6, arbitrary: small }, { weight: 2, arbitrary: large }, { weight: 2, arbitrary: overOneString }, { weight: 1, arbitrary: overTotal });
  }
}
