/**
 * Concurrent cases (concurrent-spawns): 2..8 spawns that start at the same
 * moment, each with its own path kind (some exec, some fail with their own
 * errno) and its own small descriptor set, numbers drawn from one low range
 * so that the spawns' tables overlap and differ. Everything else (argv,
 * environment, report descriptor) is the case's, in common.
 */
import fc from "fast-check";
import { mostConcurrentSpawns, type ConcurrentSpawn, type PathKind, type SpawnCase } from "../spawn-case.ts";
import { lowestGeneratedDescriptor } from "./descriptors.ts";
import { spawnCaseArbitrary, type TargetLimits } from "./spawn-case.ts";

/** Half the spawns exec (their child's descriptors are what a leak shows in); the others fail at execve, each kind its own errno. */
const concurrentPaths: readonly PathKind[] = ["exec-target", "exec-target", "exec-target", "missing", "not-executable", "garbage", "through-file", "symlink-loop"];
/** Low and overlapping: a swapped outcome or a borrowed descriptor shows as a table that is not the spawn's. */
const highestConcurrentDescriptor = 40;
const mostDescriptorsPerSpawn = 6;

const concurrentSpawnArbitrary = (hasDescriptors: boolean): fc.Arbitrary<ConcurrentSpawn> =>
  fc.record({
    path: fc.constantFrom(...concurrentPaths),
    descriptors: hasDescriptors
      ? fc.uniqueArray(fc.integer({ min: lowestGeneratedDescriptor, max: highestConcurrentDescriptor }), { maxLength: mostDescriptorsPerSpawn }).map((fds) => [...fds].sort((a, b) => a - b))
      : fc.constant([]),
  });

export function concurrentSpawnsCaseArbitrary(limits: TargetLimits): fc.Arbitrary<SpawnCase> {
  const hasDescriptors = limits.features === undefined || limits.features.includes("fds");
  const shared = spawnCaseArbitrary({ paths: ["exec-target"], directories: ["none"], newUser: "none", namespaces: false, environment: "small", sessions: false }, limits);
  return fc
    .tuple(shared, fc.array(concurrentSpawnArbitrary(hasDescriptors), { minLength: 2, maxLength: mostConcurrentSpawns }))
    .map(([spawnCase, drawn]) => {
      // Never the report descriptor, nor one the parent passes on.
      const taken = new Set([...limits.reservedDescriptors, ...(spawnCase.reportDescriptor === undefined ? [] : [spawnCase.reportDescriptor])]);
      const concurrentSpawns = drawn.map((spawn) => ({ ...spawn, descriptors: spawn.descriptors.filter((fd) => !taken.has(fd)) }));
      return { ...spawnCase, memoryBytes: 0, path: concurrentSpawns[0]!.path, descriptors: concurrentSpawns[0]!.descriptors, concurrentSpawns };
    });
}
