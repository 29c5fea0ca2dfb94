// A failure's case as a known finding's reproducer (caseAsReproducer): the
// findings file's parser reads back every case the arbitraries draw, and
// `vforkcheck known suggest` (src/known-suggest.ts) turns a report's failures
// into entries that file accepts, with anchored, escaped problem patterns.
import test from "ava";
import fc from "fast-check";
import { spawnCaseArbitrary, type CaseShape, type TargetLimits } from "../../src/arbitraries/spawn-case.ts";
import { concurrentSpawnsCaseArbitrary } from "../../src/arbitraries/concurrent-spawns.ts";
import { pathKinds, directoryKinds, type SpawnCase } from "../../src/spawn-case.ts";
import { caseAsReproducer, explains, parseKnownFindings } from "../../src/known-findings.ts";
import { problemPattern, rootCausePlaceholder, sourcePlaceholder, suggestKnownFindings } from "../../src/known-suggest.ts";
import { GateReportError } from "../../src/gate-report.ts";
import { checkLeftovers, checkOutcome } from "../../src/checks.ts";
import { parseResult } from "../../src/protocol.ts";
import { amd64HostView, plainCase } from "../helpers/target-view.ts";

const names = { implementations: ["reference", "go"], properties: ["errno-propagates", "signal-state"] };

/** The case back from a findings file whose one entry has it as its reproducer. */
function readBack(spawnCase: SpawnCase): SpawnCase {
  const entry = { id: "x", implementation: "reference", version: "0.1.0", targets: ["amd64/host"], properties: ["errno-propagates"], match: { problems: ["^x$"] }, rootCause: "r", source: "s", reproducer: caseAsReproducer(spawnCase) };
  return parseKnownFindings(JSON.stringify([entry]), "known.json", names)[0]!.reproducer;
}

const everything: CaseShape = { paths: pathKinds, directories: directoryKinds, newUser: "any", namespaces: true, environment: "mixed", sessions: true, signalStorm: true, parentSignals: true, pidfd: true };
const limits: TargetLimits = { maxArgumentString: 131072, argumentSpace: 2 << 20, maxMemoryBytes: 1 << 30, reservedDescriptors: [0, 1, 2], features: undefined, entryPoints: ["spawn", "fork_exec"], clone3: true, keptSignals: ["SIGPIPE"] };
const movable: TargetLimits = { ...limits, features: ["clone_flags", "unshare_flags", "setsid", "setpgid", "cwd", "fds", "memory", "raw_strings", "signal_state", "pidfd", "clone3", "report_fd_any", "threads", "thread_rounds", "fork_thread"] };

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

// ---- the entries `vforkcheck known suggest` prints ----

test("a problem's pattern is anchored and escaped, its numbers generalized, a digit inside a word kept", (t) => {
  const pattern = problemPattern("spawn succeeded (pid 4242); expected E2BIG from execve [fds 3,10] mask 0x1f");
  t.is(pattern, "^spawn succeeded \\(pid \\d+\\); expected E2BIG from execve \\[fds \\d+,\\d+\\] mask 0x[0-9a-f]+$");
  const expression = new RegExp(pattern);
  t.true(expression.test("spawn succeeded (pid 7); expected E2BIG from execve [fds 4,99] mask 0xff"), "another run's pid, descriptors and mask");
  t.false(expression.test("spawn succeeded (pid 7); expected ENOENT from execve [fds 4,99] mask 0xff"), "another errno is another problem");
  t.false(expression.test("x spawn succeeded (pid 7); expected E2BIG from execve [fds 4,99] mask 0xff"), "anchored");
});

/** A gate report with these results, each a failure on amd64/host of the reference unless it says otherwise. */
function reportText(results: Record<string, unknown>[]): string {
  const result = (fields: Record<string, unknown>) => ({ arch: "amd64", tier: "host", impl: "reference", target: "amd64/host", property: "errno-propagates", status: "fail", runs: 10, reason: "r", counterexample: "{}", replay: "npx vforkcheck gate", seed: 1, ...fields });
  return JSON.stringify({ seed: 1, implementations: [{ label: "reference", name: "reference", version: "0.1.0*" }], results: results.map(result), targets: [] });
}

const suggest = (text: string, selection = {}) => suggestKnownFindings(text, "report.json", selection, names);

test("each failure's entry parses, and explains the very failure it was made from (checkOutcome's own texts)", (t) => {
  const missing = { ...plainCase, path: "missing" as const, cloneFlags: 0x10020200 };
  const spawned = { result: parseResult(`result id=1 outcome=spawned pid=4321 waited=1 status=exited:0 suspended=unknown report=x zombies=0 live_children=0 leaked_fds=0 stack_canaries=ok register_canaries=ok`) };
  const wrongErrno = { result: parseResult(`result id=1 outcome=error errno=13 pid=0 waited=0 suspended=unknown zombies=0 live_children=0 leaked_fds=2 stack_canaries=ok register_canaries=ok`) };
  const failures = [
    { spawnCase: missing, run: spawned, outcome: "spawned" as const, errno: undefined },
    { spawnCase: missing, run: wrongErrno, outcome: "error" as const, errno: "EACCES" },
  ];
  const problemsOf = (failure: (typeof failures)[number]) => [...checkOutcome(failure.spawnCase, failure.run, amd64HostView), ...checkLeftovers(failure.run.result)];
  const text = reportText(failures.map((failure) => ({ problems: problemsOf(failure), reproducer: caseAsReproducer(failure.spawnCase) })));
  const { entries, passedOver } = suggest(text);
  t.deepEqual(passedOver, []);
  const findings = parseKnownFindings(JSON.stringify(entries), "suggested.json", names);
  t.deepEqual(findings.map((finding) => finding.id), ["reference-errno-propagates-amd64-host", "reference-errno-propagates-amd64-host-2"]);
  t.like(findings[0], { implementation: "reference", version: "0.1.0?", targets: ["amd64/host"], properties: ["errno-propagates"], rootCause: rootCausePlaceholder, source: sourcePlaceholder });
  t.deepEqual(findings[0]!.reproducer, missing);
  t.like(findings[0]!.match, { outcome: "spawned", step: ["execve"] });
  t.like(findings[1]!.match, { outcome: "error", errno: ["EACCES"], step: ["execve"] });
  t.is(findings[1]!.match.problems.length, 2, "the wrong errno and the leak");
  failures.forEach((failure, index) => {
    const evidence = { spawnCase: failure.spawnCase, problems: problemsOf(failure), outcome: failure.outcome, errno: failure.errno, expectedStep: "execve" };
    t.true(explains(findings[index]!, evidence), `entry ${index + 1} explains its failure: ${JSON.stringify(entries[index])}`);
    // Another run of the same case: another pid.
    t.true(explains(findings[index]!, { ...evidence, problems: evidence.problems.map((problem) => problem.replace("4321", "77")) }));
  });
  // A failure it was not made from: the first entry does not explain the second failure.
  t.false(explains(findings[0]!, { spawnCase: missing, problems: problemsOf(failures[1]!), outcome: "error", errno: "EACCES", expectedStep: "execve" }));
});

test("--target and --property pick failures; a report, target or property that is not there is a one-line error", (t) => {
  const failure = { problems: ["child did not exit 0 (exit 3)"], reproducer: caseAsReproducer(plainCase) };
  const text = reportText([failure, { ...failure, property: "signal-state" }, { ...failure, arch: "arm64", tier: "user", target: "arm64/user" }, { status: "pass", property: "signal-state", target: "arm64/user", arch: "arm64", tier: "user" }]);
  t.is(suggest(text).entries.length, 3);
  t.is(suggest(text, { target: "arm64/user" }).entries.length, 1);
  t.is(suggest(text, { property: "signal-state" }).entries.length, 1);
  t.is(suggest(text, { target: "arm64/user", property: "signal-state" }).entries.length, 0, "a pass there: nothing to suggest");
  t.throws(() => suggest(text, { target: "s390x/user" }), { instanceOf: GateReportError, message: /^--target: report\.json has no results on 's390x\/user' \(its targets: amd64\/host, arm64\/user\)$/ });
  t.throws(() => suggest(text, { property: "pidfd" }), { instanceOf: GateReportError, message: /^--property: report\.json has no results of 'pidfd'/ });
  t.throws(() => suggest("{}"), { instanceOf: GateReportError, message: /not a gate report/ });
  t.throws(() => suggest(reportText([{ problems: undefined }])), { message: /results\[0\] \(amd64\/host errno-propagates\) failed without its case and problems list .*older vforkcheck/ });
  t.deepEqual(suggest(reportText([{ counterexample: null, reason: "the target did not start" }])).passedOver, ["amd64/host errno-propagates: no counterexample (the target did not start): nothing to reproduce"]);
});
