/**
 * Concurrent cases (concurrent-spawns): 2..8 spawns that start at the same
 * moment, each with its own path kind (some exec, some fail with their own
 * errno) and its own small descriptor set, numbers drawn from one low range
 * so that the spawns' tables overlap and differ. Everything else is drawn
 * as single cases draw it and the spawns share it: the CLONE_NEWUSER fork
 * fallback with its id maps, namespaces, sessions, working directories
 * (failing ones too), argv, environment, the report descriptor.
 *
 * A leak between spawns needs a clone on one thread inside another
 * thread's window between making a descriptor and marking it close-on-exec,
 * two system calls wide in the bugs this hunts. So where the driver offers
 * them, each spawn runs several rounds in a row (`rounds`), and another
 * thread makes plain forks meanwhile (`plainForks`, the JDK-8377907 shape):
 * more clones, each a chance to land in a window.
 */
import fc from "fast-check";
import { mostConcurrentSpawns, type ConcurrentSpawn, type PathKind, type SpawnCase } from "../spawn-case.ts";
import { lowestGeneratedDescriptor } from "./descriptors.ts";
import { reportAnywhereFeature, spawnCaseArbitrary, type CaseShape, type TargetLimits } from "./spawn-case.ts";

/** The hello feature of a driver that runs each spawn of a concurrent case `rounds` times in a row. */
export const threadRoundsFeature = "thread_rounds";
/** The hello feature of a driver that makes a concurrent case's plain forks on a thread of its own. */
export const forkThreadFeature = "fork_thread";

/** Half the spawns exec (their child's descriptors are what a leak shows in); the others fail at execve, each kind its own errno. */
const concurrentPaths: readonly PathKind[] = ["exec-target", "exec-target", "exec-target", "exec-target", "exec-target", "missing", "not-executable", "garbage", "through-file", "symlink-loop"];
/**
 * The spawns share everything but their path and descriptors, so one
 * shared step that fails (a missing directory, a namespace flag the kernel
 * refuses) fails them all, and no child execs to show a leak. Two cases in
 * three keep to steps that succeed; the third draws everything.
 */
const succeedingShape: CaseShape = { paths: ["exec-target"], directories: ["none", "fixtures", "root"], newUser: "none", namespaces: false, environment: "small", sessions: false };
const everyShape: CaseShape = { paths: ["exec-target"], directories: ["none", "fixtures", "root", "missing", "a-file"], newUser: "any", namespaces: true, environment: "small", sessions: true };
/** Low and overlapping: a swapped outcome or a borrowed descriptor shows as a table that is not the spawn's. */
const highestConcurrentDescriptor = 20;
const mostDescriptorsPerSpawn = 6;
/**
 * Sized by measurement on amd64/host (docs/protocol.md, concurrent cases):
 * with these, a two-call window between pipe2 and its fcntl(F_SETFD) is hit
 * in every seed's default run, by the reference and by Go. Under an
 * emulator (qemu-user, a VM) each spawn costs several times more, and the
 * rounds would make concurrent-spawns the gate's slowest property there:
 * one round and at most two plain forks.
 */
export const mostRounds = 4;
export const mostPlainForks = 4;
const mostPlainForksEmulated = 2;

const concurrentSpawnArbitrary = (hasDescriptors: boolean): fc.Arbitrary<ConcurrentSpawn> =>
  fc.record({
    path: fc.constantFrom(...concurrentPaths),
    // None as often as some: a child with no targets shows any descriptor it should not hold, whatever its number.
    descriptors: hasDescriptors
      ? fc.oneof(fc.constant<number[]>([]), fc.uniqueArray(fc.integer({ min: lowestGeneratedDescriptor, max: highestConcurrentDescriptor }), { minLength: 1, maxLength: mostDescriptorsPerSpawn }).map((fds) => [...fds].sort((a, b) => a - b)))
      : fc.constant([]),
  });

/** 1..most, shrinking towards most: a race's counterexample keeps every chance it had. */
const countShrinkingUp = (most: number): fc.Arbitrary<number> => fc.nat({ max: most - 1 }).map((fewer) => most - fewer);

export function concurrentSpawnsCaseArbitrary(limits: TargetLimits): fc.Arbitrary<SpawnCase> {
  const offers = (feature: string) => limits.features === undefined || limits.features.includes(feature);
  const native = (limits.tier ?? "host") === "host";
  const hasDescriptors = offers("fds");
  const shared = fc.oneof({ weight: 2, arbitrary: spawnCaseArbitrary(succeedingShape, limits) }, { weight: 1, arbitrary: spawnCaseArbitrary(everyShape, limits) });
  // Low as often as not: an implementation that closes every unmapped descriptor below its highest mapped one (Go's Files) shows a leaked one above them.
  const reportDescriptor = limits.features?.includes(reportAnywhereFeature)
    ? fc.oneof(fc.integer({ min: lowestGeneratedDescriptor, max: lowestGeneratedDescriptor + 3 }), fc.integer({ min: lowestGeneratedDescriptor, max: highestConcurrentDescriptor + 8 })).filter((fd) => !limits.reservedDescriptors.includes(fd))
    : fc.constant(undefined);
  return fc
    .record({
      spawnCase: shared,
      drawn: fc.array(concurrentSpawnArbitrary(hasDescriptors), { minLength: 2, maxLength: mostConcurrentSpawns }),
      reportDescriptor,
      rounds: offers(threadRoundsFeature) && native ? countShrinkingUp(mostRounds) : fc.constant(undefined),
      plainForks: offers(forkThreadFeature) ? countShrinkingUp(native ? mostPlainForks : mostPlainForksEmulated) : fc.constant(undefined),
    })
    .map(({ spawnCase: { reportDescriptor: _sharedReport, ...spawnCase }, drawn, reportDescriptor, rounds, plainForks }) => {
      // Never the report descriptor, nor one the parent passes on.
      const taken = new Set([...limits.reservedDescriptors, ...(reportDescriptor === undefined ? [] : [reportDescriptor])]);
      const concurrentSpawns = drawn.map((spawn) => ({ ...spawn, descriptors: spawn.descriptors.filter((fd) => !taken.has(fd)) }));
      return {
        ...spawnCase,
        ...(reportDescriptor === undefined ? {} : { reportDescriptor }),
        memoryBytes: 0,
        path: concurrentSpawns[0]!.path,
        descriptors: concurrentSpawns[0]!.descriptors,
        concurrentSpawns,
        ...(rounds === undefined ? {} : { rounds }),
        ...(plainForks === undefined ? {} : { plainForks }),
      };
    });
}
