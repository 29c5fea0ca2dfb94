// A failure's case as a known finding's reproducer (caseAsReproducer): the
// findings file's parser reads back every case the arbitraries draw, and
// `vforkcheck known suggest` (src/known-suggest.ts) turns a report's failures
// into entries that file accepts, with anchored, escaped problem patterns.
import test from "ava";
import fc from "fast-check";
import { spawnCaseArbitrary, type CaseShape, type TargetLimits } from "../../src/arbitraries/spawn-case.ts";
import { concurrentSpawnsCaseArbitrary } from "../../src/arbitraries/concurrent-spawns.ts";
import { pathKinds, directoryKinds, type SpawnCase } from "../../src/spawn-case.ts";
import { caseAsReproducer, parseKnownFindings } from "../../src/known-findings.ts";

const names = { implementations: ["reference", "go"], properties: ["errno-propagates", "signal-state"] };

/** The case back from a findings file whose one entry has it as its reproducer. */
function readBack(spawnCase: SpawnCase): SpawnCase {
  const entry = { id: "x", implementation: "reference", version: "0.1.0", targets: ["amd64/host"], properties: ["errno-propagates"], match: { problems: ["^x$"] }, rootCause: "r", source: "s", reproducer: caseAsReproducer(spawnCase) };
  return parseKnownFindings(JSON.stringify([entry]), "known.json", names)[0]!.reproducer;
}

const everything: CaseShape = { paths: pathKinds, directories: directoryKinds, newUser: "any", namespaces: true, environment: "mixed", sessions: true, signalStorm: true, parentSignals: true, pidfd: true };
const limits: TargetLimits = { maxArgumentString: 131072, argumentSpace: 2 << 20, maxMemoryBytes: 1 << 30, reservedDescriptors: [0, 1, 2], features: undefined, entryPoints: ["spawn", "fork_exec"], clone3: true, keptSignals: ["SIGPIPE"] };
const movable: TargetLimits = { ...limits, features: ["clone_flags", "unshare_flags", "setsid", "setpgid", "cwd", "fds", "memory", "raw_strings", "signal_state", "pidfd", "clone3", "report_fd_any", "threads"] };

test("every drawn case, one spawn or concurrent ones, reads back from its reproducer as the same case", (t) => {
  for (const arbitrary of [spawnCaseArbitrary(everything, limits), spawnCaseArbitrary(everything, movable), concurrentSpawnsCaseArbitrary(movable)])
    fc.assert(fc.property(arbitrary, (spawnCase) => t.deepEqual(readBack(spawnCase), spawnCase)), { numRuns: 100, seed: 7 });
  // The dimensions the file could not carry before: each was drawn and came back.
  const drawn = fc.sample(spawnCaseArbitrary(everything, movable), { numRuns: 100, seed: 7 });
  for (const field of ["reportDescriptor", "parentSignals", "clone3", "entry", "pidfd"] as const) t.true(drawn.some((spawnCase) => spawnCase[field] !== undefined), field);
});

test("a reproducer's masks are names, and any mask reads back, unknown bits included", (t) => {
  const base = fc.sample(spawnCaseArbitrary(everything, limits), { numRuns: 1, seed: 1 })[0]!;
  const reproducer = caseAsReproducer({ ...base, cloneFlags: 0x10020200, unshareFlags: 0 }) as Record<string, unknown>;
  t.is(reproducer.cloneFlags, "CLONE_NEWUSER|CLONE_NEWNS|CLONE_FS");
  t.is(reproducer.unshareFlags, "0");
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (cloneFlags, unshareFlags) => {
    const back = readBack({ ...base, cloneFlags, unshareFlags });
    return back.cloneFlags === cloneFlags && back.unshareFlags === unshareFlags;
  }));
});
