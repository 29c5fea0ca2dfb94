/**
 * Runs one property on one target with fast-check: seed-and-replay, shrink
 * to a minimal counterexample, and a one-line replay command.
 */
import fc from "fast-check";
import { checkFinished } from "../src/checks.ts";
import { expected } from "../src/checks.ts";
import { limitsOf, type PropertyDefinition } from "../src/property.ts";
import { ProtocolError } from "../src/protocol.ts";
import { describeCase, type SpawnCase } from "../src/spawn-case.ts";
import type { Target } from "./targets.ts";

export type Status = "pass" | "fail" | "skip";

export interface PropertyResult {
  arch: string;
  tier: string;
  impl: string;
  target: string;
  property: string;
  status: Status;
  runs: number;
  reason: string;
  counterexample: string | null;
  replay: string | null;
  seed: number;
  /** The shrunk case itself (not enumerable: kept out of JSON reports, whose counterexample is the short description). */
  failingCase?: SpawnCase;
}

export interface RunOptions {
  runs: number;
  seed: number;
  /** fast-check's replay path, from a replay command. */
  path?: string;
  /** The command line prefix a replay starts with. */
  replayPrefix: string;
  onCase?: () => void;
}

export async function runProperty(target: Target, property: PropertyDefinition, options: RunOptions): Promise<PropertyResult> {
  const base = { arch: target.spec.architecture.name, tier: target.spec.tier, impl: target.spec.impl, target: target.name, property: property.name, seed: options.seed };
  const skipped = property.skip?.(target);
  if (skipped !== undefined) return { ...base, status: "skip", runs: 0, reason: skipped, counterexample: null, replay: null };
  const notes = new Set<string>();
  let protocolError: ProtocolError | undefined;
  const check = async (spawnCase: SpawnCase) => {
    options.onCase?.();
    for (const note of expected(spawnCase, target).notes) if (!note.includes("bytes")) notes.add(note);
    let run;
    try {
      run = await target.runCase(spawnCase);
    } catch (error) {
      if (error instanceof ProtocolError) protocolError = error;
      throw error;
    }
    const problems = run.failure ? checkFinished(run) : property.check(spawnCase, run, target);
    if (problems.length) throw new Error(problems.join("; "));
  };
  const details = await fc.check(fc.asyncProperty(property.arbitrary(limitsOf(target)), check), {
    numRuns: options.runs,
    seed: options.seed,
    path: options.path,
    endOnFailure: protocolError !== undefined,
  });
  if (protocolError) throw protocolError;
  const reason = [...notes].join("; ");
  if (!details.failed) return { ...base, status: "pass", runs: details.numRuns, reason, counterexample: null, replay: null };
  const counterexample = details.counterexample ? describeCase(details.counterexample[0]) : null;
  const why = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  const failed: PropertyResult = {
    ...base,
    status: "fail",
    runs: details.numRuns,
    reason: `${why}${reason ? ` (${reason})` : ""}`,
    counterexample,
    replay: `${options.replayPrefix} --arch ${target.spec.architecture.name} --tier ${target.spec.tier}${target.spec.inProcess ? " --in-process" : " --no-in-process"} --property ${property.name} --seed ${options.seed} --replay-path ${details.counterexample ? details.counterexamplePath : ""} --runs ${options.runs}`,
  };
  if (details.counterexample) Object.defineProperty(failed, "failingCase", { value: details.counterexample[0], enumerable: false });
  return failed;
}
