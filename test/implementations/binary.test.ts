// --impl-binary with the C driver skeleton of docs/protocol.md, taken from
// the document and built for all nine architectures: it passes (its skips
// given reasons) on amd64/host, arm64/user and arm64/system; two broken
// copies fail there (an inheritable errno pipe, a spawn that never takes the
// fast path), so the row judges; bad drivers are refused in one line with
// exit 2 before anything runs.
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { architectures } from "../../src/architectures.ts";
import { readElfHeader, whyNotDriverFor } from "../../src/elf-header.ts";
import { buildDriverSkeleton, skeletonSource } from "../../harness/build/driver-skeleton.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";
import { gateCli, vforkcheckCli as vforkcheck } from "../helpers/gate-cli.ts";
import { parseOptions, planTargets } from "../../harness/run/options.ts";
import { hostExecution } from "../../harness/process/host-execution.ts";
import { gateOptions } from "../../harness/run/gate.ts";
import { targetName } from "../../harness/targets/target.ts";
import { implementationOptions } from "../../harness/implementations/index.ts";

/** `vforkcheck gate --impl-binary BINARIES --tier TIERS --runs 5 --seed 1 OPTIONS` with its JSON report. */
const gate = (t: { teardown(fn: () => void): void }, binaries: string, tiers: string, options: string[] = []) =>
  gateCli(t, ["--impl-binary", binaries, "--tier", tiers, "--runs", "5", "--seed", "1", ...options]);

/** What the skeleton's hello offers decides these; every other property must run and pass. */
const skippedProperties = ["concurrent-spawns", "interrupted-wait", "pidfd", "signal-state", "signal-storm"];

/** The skeleton with one deliberate bug: `anchor`, which must occur exactly once, replaced. */
function brokenSkeleton(anchor: string, replacement: string): string {
  const source = skeletonSource();
  if (source.split(anchor).length !== 2) throw new Error(`the skeleton no longer has exactly one '${anchor}': update the mutant`);
  return source.replace(anchor, replacement);
}

const leakingErrnoPipe = () => brokenSkeleton("long result = pipe_above(errno_pipe, r->floor);", "long result = pipe_above(errno_pipe, r->floor);\n  if (!IS_SYSCALL_ERROR(result)) SYS3(NR_fcntl, errno_pipe[1], F_SETFD, 0);");

const mutants = [
  {
    what: "its errno pipe's write end inheritable (it leaks into every exec'd child)",
    source: leakingErrnoPipe,
    property: "descriptor-table",
    reason: /child open descriptors: got \[.*\], expected/,
  },
  {
    what: "a fork-style clone for every case (never the fast path)",
    source: () => brokenSkeleton("(needs_id_maps(r) ? 0 : CLONE_VM | CLONE_VFORK)", "0"),
    property: "namespace-fallback",
    reason: /do not take the CLONE_VM\|CLONE_VFORK path; expected the fast path/,
  },
];

test("the skeleton in docs/protocol.md builds for all nine architectures, each a static ELF of its architecture", async (t) => {
  const built = await Promise.all(architectures.map(async (architecture) => [architecture.name, await buildDriverSkeleton(architecture.name)] as const));
  for (const [name, path] of built) {
    const header = readElfHeader(readFileSync(path));
    t.not(typeof header, "string", `${name}: ${String(header)}`);
    if (typeof header !== "string") t.is(whyNotDriverFor(header, name), undefined, name);
  }
});

test.serial("--impl-binary with the skeleton passes on amd64/host and arm64/user, and labels it binary with version unknown", async (t) => {
  const [amd64, arm64] = await Promise.all([buildDriverSkeleton("amd64"), buildDriverSkeleton("arm64")]);
  const run = await gate(t, `amd64=${amd64},arm64=${arm64}`, "host,user");
  t.is(run.status, 0, run.output);
  t.deepEqual([...new Set(run.results.map((r) => r.target))], ["amd64/host/binary", "arm64/user/binary"]);
  for (const result of run.results) {
    if (skippedProperties.includes(result.property)) {
      t.is(result.status, "skip", `${result.target} ${result.property}`);
      t.regex(result.reason, /in its hello/);
    } else t.is(result.status, "pass", `${result.target} ${result.property}: ${result.reason}`);
  }
  t.deepEqual(run.implementations, [{ label: "binary", name: "binary", version: "unknown" }]);
});

test.serial("--impl-binary with the skeleton passes on arm64/system", async (t) => {
  const run = await gate(t, `arm64=${await buildDriverSkeleton("arm64")}`, "system");
  t.is(run.status, 0, run.output);
  t.deepEqual([...new Set(run.results.map((r) => r.target))], ["arm64/system/binary"]);
  for (const result of run.results) t.is(result.status, skippedProperties.includes(result.property) ? "skip" : "pass", `${result.property}: ${result.reason}`);
});

for (const mutant of mutants) {
  test.serial(`the skeleton with ${mutant.what} fails ${mutant.property} on amd64/host, arm64/user and arm64/system, with replay lines that carry --impl-binary`, async (t) => {
    const [amd64, arm64] = await Promise.all([buildDriverSkeleton("amd64", mutant.source()), buildDriverSkeleton("arm64", mutant.source())]);
    // One after the other: under load the probe can measure a suspended parent under qemu-user (a 50 ms threshold).
    const hostAndUser = await gate(t, `amd64=${amd64},arm64=${arm64}`, "host,user");
    const system = await gate(t, `arm64=${arm64}`, "system");
    for (const run of [hostAndUser, system]) t.is(run.status, 1, run.output);
    const failed = [...hostAndUser.results, ...system.results].filter((r) => r.property === mutant.property);
    t.deepEqual(failed.map((r) => r.target), ["amd64/host/binary", "arm64/user/binary", "arm64/system/binary"]);
    for (const result of failed) {
      t.is(result.status, "fail", result.target);
      t.regex(result.reason, mutant.reason, result.target);
      t.regex(result.replay ?? "", /--impl-binary (amd64=\S+,)?arm64=\S+driver-skeleton/, result.target);
    }
  });
}

test.serial("--known FILE names a finding of the binary row: known while the leak is there, fixed once it is gone", async (t) => {
  const known = join(scratchDirectory(t, "vfc-binary-known-"), "known.json");
  const exitTarget = { path: "exec-target", argv: ["!"], env: [], cwd: "none", setsid: false, setpgid: false, uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false, descriptors: [], cloneFlags: 0, unshareFlags: 0 };
  const finding = {
    id: "skeleton-errno-pipe-leak",
    implementation: "binary",
    version: "unknown",
    targets: ["amd64/host"],
    properties: ["descriptor-table"],
    match: { problems: ["^child open descriptors: got \\[.*\\], expected \\[.*\\]$"], outcome: "spawned" },
    rootCause: "the errno pipe's write end is not close-on-exec, so every exec'd child inherits it",
    source: "test/implementations/binary.test.ts (the mutant)",
    reproducer: exitTarget,
  };
  writeFileSync(known, JSON.stringify([finding]));
  const options = ["--property", "descriptor-table", "--known", known];
  const broken = await gate(t, `amd64=${await buildDriverSkeleton("amd64", leakingErrnoPipe())}`, "host", options);
  t.is(broken.status, 0, broken.output);
  t.deepEqual(broken.results.map((r) => [r.target, r.status]), [["amd64/host/binary", "known"]]);
  const fixed = await gate(t, `amd64=${await buildDriverSkeleton("amd64")}`, "host", [...options, "--strict-known"]);
  t.is(fixed.status, 1, fixed.output);
  t.deepEqual(fixed.knownFindings?.map((row) => [row.finding, row.target, row.status]), [["skeleton-errno-pipe-leak", "amd64/host/binary", "fixed"]]);
});

test("only the architectures named are planned, on every tier each can have; the replay options name every driver", async (t) => {
  const [amd64, arm64] = await Promise.all([buildDriverSkeleton("amd64"), buildDriverSkeleton("arm64")]);
  const options = parseOptions(["--impl-binary", `arm64=${arm64},amd64=${amd64}`, "--tier", "host,user,system"], gateOptions);
  t.deepEqual(planTargets(options, hostExecution()).map(targetName), ["amd64/host/binary", "amd64/system/binary", "arm64/user/binary", "arm64/system/binary"]);
  t.is(implementationOptions(options.implementations[0]!), ` --impl-binary arm64=${arm64},amd64=${amd64}`);
  const spaced = { name: "binary", binaries: [{ architecture: "arm64" as const, path: "/opt/my driver" }] };
  t.is(implementationOptions(spaced), ' --impl-binary "arm64=/opt/my driver"');
});

test("bad drivers are refused in one line with exit 2, before any target starts", async (t) => {
  const directory = scratchDirectory(t, "vfc-binary-bad-");
  const arm64 = await buildDriverSkeleton("arm64");
  const notExecutable = join(directory, "driver");
  copyFileSync(arm64, notExecutable);
  chmodSync(notExecutable, 0o644);
  // Each value is one option's, or (space-separated) several --impl-binary options'.
  const cases: [string, RegExp][] = [
    [`amd64=${arm64}`, /^vforkcheck: --impl-binary: amd64=\S+: an ELF for arm64, not amd64 \(e_machine 62, 64-bit, little-endian\)/],
    [`amd64=${process.execPath}`, /^vforkcheck: --impl-binary: amd64=\S+: dynamically linked \(it has a PT_INTERP program header\)/],
    [`arm64=${join(directory, "missing")}`, /^vforkcheck: --impl-binary: arm64=\S+\/missing: no such file/],
    [`arm64=${notExecutable}`, /^vforkcheck: --impl-binary: arm64=\S+: not executable/],
    [`arm64=${arm64},arm64=${arm64}`, /^vforkcheck: --impl-binary: arm64 is given twice/],
    [`vax=${arm64}`, /^vforkcheck: --impl-binary: unknown architecture 'vax'/],
    ["arm64", /^vforkcheck: --impl-binary: 'arm64' is not ARCH=PATH/],
    [`arm64=${arm64} amd64=${arm64}`, /^vforkcheck: --impl-binary: given twice/],
  ];
  for (const [value, message] of cases) {
    const run = await vforkcheck(["gate", ...value.split(" ").flatMap((each) => ["--impl-binary", each]), "--report", join(directory, "gate.json")], 60_000);
    t.is(run.status, 2, value);
    t.is(run.stdout, "", value);
    t.is(run.stderr.trimEnd().split("\n").length, 1, run.stderr);
    t.regex(run.stderr, message);
    t.false(existsSync(join(directory, "gate.json")), `${value}: refused before the run, so no report`);
  }
});
