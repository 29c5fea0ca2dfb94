// The handler-flags dimension: how cases draw it (only for drivers that
// take it, only when a handler is installed, shrinking to SA_RESTART
// alone), how it is sent, how a reproducer carries it, and the storm
// result a driver that cannot count sends.
import test from "ava";
import fc from "fast-check";
import { handlerFlagsArbitrary } from "../../src/arbitraries/signal-state.ts";
import { spawnCaseArbitrary, type CaseShape, type TargetLimits } from "../../src/arbitraries/spawn-case.ts";
import { caseAsReproducer, parseKnownFindings } from "../../src/known-findings.ts";
import { encodeCase, parseResult, ProtocolError } from "../../src/protocol.ts";
import { findArchitecture } from "../../src/architectures.ts";
import type { ResolvedPaths, SpawnCase } from "../../src/spawn-case.ts";

const amd64 = findArchitecture("amd64")!;
const paths = { path: { "exec-target": "/e" }, directory: {} } as unknown as ResolvedPaths;
const base: SpawnCase = { path: "exec-target", argv: ["a"], env: [], cwd: "none", cloneFlags: 0, unshareFlags: 0, setsid: false, setpgid: false, descriptors: [], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false };

test("handler_flags is sent as given, empty too, and only with a handler to install", (t) => {
  const storm = { ...base, signalStorm: true };
  t.regex(encodeCase(1, { ...storm, handlerFlags: ["nodefer", "onstack"] }, paths), / storm=1 handler_flags=nodefer,onstack( |$)/);
  t.regex(encodeCase(1, { ...storm, handlerFlags: [] }, paths), / handler_flags=( |$)/, "no flag at all: handlers without SA_RESTART");
  const withSignals = { ...base, parentSignals: { blocked: [], ignored: [], handled: ["SIGTERM" as const] }, handlerFlags: ["restart" as const] };
  t.regex(encodeCase(1, withSignals, paths, 0, false, amd64), / sighandle=15 handler_flags=restart( |$)/);
  t.notRegex(encodeCase(1, { ...base, handlerFlags: ["nodefer"] }, paths), /handler_flags/, "no storm, no signal state: nothing installs a handler");
  t.notRegex(encodeCase(1, storm, paths), /handler_flags/, "absent: the driver's SA_RESTART alone");
});

const limits = (features: string[]): TargetLimits => ({ maxArgumentString: 131072, argumentSpace: 2 << 20, maxMemoryBytes: 0, reservedDescriptors: [0, 1, 2], features });
const stormShape: CaseShape = { paths: ["exec-target"], directories: ["none"], newUser: "none", namespaces: false, environment: "small", sessions: false, signalStorm: true };

test("handler flags are drawn only for a driver that lists handler_flags, and only for cases that install handlers", (t) => {
  const drawn = fc.sample(spawnCaseArbitrary(stormShape, limits(["signal_storm", "handler_flags"])), { numRuns: 200, seed: 1 });
  t.true(drawn.every((spawnCase) => Array.isArray(spawnCase.handlerFlags)));
  t.true(drawn.some((spawnCase) => !spawnCase.handlerFlags!.includes("restart")), "handlers without SA_RESTART are drawn");
  t.true(drawn.some((spawnCase) => spawnCase.handlerFlags!.includes("onstack") && spawnCase.handlerFlags!.includes("nodefer")));
  t.true(fc.sample(spawnCaseArbitrary(stormShape, limits(["signal_storm"])), { numRuns: 50, seed: 1 }).every((spawnCase) => spawnCase.handlerFlags === undefined), "a driver without handler_flags never gets the field");
  t.true(fc.sample(spawnCaseArbitrary({ ...stormShape, signalStorm: false }, limits(["handler_flags"])), { numRuns: 50, seed: 1 }).every((spawnCase) => spawnCase.handlerFlags === undefined), "no handler installed, no flags");
  const withState = fc.sample(spawnCaseArbitrary({ ...stormShape, signalStorm: false, parentSignals: true }, limits(["signal_state", "handler_flags"])), { numRuns: 50, seed: 1 });
  t.true(withState.every((spawnCase) => spawnCase.parentSignals !== undefined && spawnCase.handlerFlags !== undefined), "signal-state's handled signals get flags too");
});

test("handler flags shrink to SA_RESTART alone, and withoutRestartWeight leaves it out that many times as often", (t) => {
  const details = fc.check(fc.property(handlerFlagsArbitrary(), () => false), { seed: 3 });
  t.deepEqual(details.counterexample?.[0], ["restart"]);
  const lacking = (weight: number) => fc.sample(handlerFlagsArbitrary(weight), { numRuns: 2000, seed: 5 }).filter((flags) => !flags.includes("restart")).length / 2000;
  t.true(Math.abs(lacking(1) - 0.5) < 0.05, `weight 1: ${lacking(1)}`);
  t.true(Math.abs(lacking(3) - 0.75) < 0.05, `weight 3: ${lacking(3)}`);
});

test("a reproducer carries its handler flags, an empty list included, and refuses unknown ones", (t) => {
  const names = { implementations: ["reference"], properties: ["interrupted-wait"] };
  const entry = (reproducer: unknown) =>
    JSON.stringify([{ id: "x", implementation: "reference", version: "*", targets: ["*/host"], properties: ["interrupted-wait"], match: { problems: ["^x$"] }, rootCause: "r", source: "s", reproducer }]);
  for (const handlerFlags of [[], ["nodefer", "onstack"]] as const) {
    const spawnCase: SpawnCase = { ...base, signalStorm: true, handlerFlags: [...handlerFlags] };
    t.deepEqual(parseKnownFindings(entry(caseAsReproducer(spawnCase)), "known.json", names)[0]!.reproducer, spawnCase);
  }
  const error = t.throws(() => parseKnownFindings(entry({ ...(caseAsReproducer(base) as object), handlerFlags: ["siginfo"] }), "known.json", names));
  t.regex(error.message, /reproducer\.handlerFlags.*unknown 'siginfo'/);
});

const result = (storm: string) => `result id=1 outcome=error errno=2 zombies=0 live_children=0 leaked_fds=0 stack_canaries=ok register_canaries=ok storm=${storm}`;

test("storm is a count, failed or unobserved", (t) => {
  t.is(parseResult(result("0")).storm, 0);
  t.is(parseResult(result("3")).storm, 3);
  t.is(parseResult(result("failed")).storm, "failed");
  t.is(parseResult(result("unobserved")).storm, "unobserved");
  t.throws(() => parseResult(result("unknown")), { instanceOf: ProtocolError, message: /malformed field 'storm'/ });
});
