// The clone3 dimension (case field clone3=1) is drawn only where both the
// driver (clone3 in its hello) and the target (the probe's clone3 is not
// ENOSYS) have it; the pidfd shape asks for a pidfd in every case, and only
// of a driver that lists pidfd.
import test from "ava";
import fc from "fast-check";
import { spawnCaseArbitrary, type CaseShape, type TargetLimits } from "../../src/arbitraries/spawn-case.ts";

const shape: CaseShape = { paths: ["exec-target"], directories: ["none"], newUser: "none", namespaces: false, environment: "small", sessions: false, pidfd: true };
const limits: TargetLimits = { maxArgumentString: 131072, argumentSpace: 2 << 20, maxMemoryBytes: 0, reservedDescriptors: [0, 1, 2], features: ["pidfd", "clone3"], clone3: true };
const sample = (overrides: Partial<TargetLimits>) => fc.sample(spawnCaseArbitrary(shape, { ...limits, ...overrides }), { numRuns: 200, seed: 1 });

test("clone3=1 is drawn where driver and target have clone3, and shrinks to clone(2)", (t) => {
  const cases = sample({});
  t.true(cases.some((c) => c.clone3 === true));
  t.true(cases.some((c) => c.clone3 === undefined));
  t.true(cases.every((c) => c.pidfd === true));
});

test("no clone3=1 where the probe found clone3 missing or the driver does not list it; no pidfd without the feature", (t) => {
  t.true(sample({ clone3: false }).every((c) => c.clone3 === undefined));
  const plain = sample({ features: [] });
  t.true(plain.every((c) => c.clone3 === undefined && c.pidfd === undefined));
});
