// A musl maintainer's fork path: musl built from Debian's source package
// (test/helpers/musl-source.ts) and installed as a tree, gated with
// `--impl musl --libc-root`. Unpatched it passes on amd64/host, arm64/user
// and arm64/system (every property pass, or skip with its reason); with a bug
// put in its posix_spawn.c (the child execs with the signal mask posix_spawn
// blocked across the clone) it fails, and the failure is that bug's:
// signal-state, the exec'd program's signals left blocked. The driver is
// built once per tree's content: again for a copy of the tree elsewhere,
// nothing is compiled (serial: the other tests compile meanwhile).
import { cpSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import test from "ava";
import { findArchitecture } from "../../src/architectures.ts";
import { buildLibcTreeDriver, libcTreesOf } from "../../harness/build/libc-root.ts";
import { compilerRunCount } from "../../harness/build/build.ts";
import { maskLeftBlocked, muslSourceTree } from "../helpers/musl-source.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";
import { gateCli } from "../helpers/gate-cli.ts";

const amd64 = findArchitecture("amd64")!;
const arm64 = findArchitecture("arm64")!;

/** `vforkcheck gate ARGS --runs 10 --seed 1` with its JSON report. */
const gate = (t: { teardown(fn: () => void): void }, args: string[]) => gateCli(t, [...args, "--runs", "10", "--seed", "1"]);

test("unpatched musl from source passes on amd64/host, arm64/user and arm64/system", async (t) => {
  const [amd64Tree, arm64Tree] = await Promise.all([muslSourceTree(amd64), muslSourceTree(arm64)]);
  // The list form for amd64, the architecture read from the tree for arm64.
  const runs = await Promise.all([
    gate(t, ["--impl", "musl", "--libc-root", `amd64=${amd64Tree},arm64=${arm64Tree}`, "--arch", "amd64", "--tier", "host"]),
    gate(t, ["--impl", "musl", "--libc-root", arm64Tree, "--tier", "user,system"]),
  ]);
  const results = runs.flatMap((run) => run.results);
  for (const run of runs) t.is(run.status, 0, run.output);
  t.deepEqual([...new Set(results.map((result) => result.target.split("/").slice(0, 2).join("/")))].sort(), ["amd64/host", "arm64/system", "arm64/user"]);
  for (const result of results) {
    t.true(result.status === "pass" || (result.status === "skip" && result.reason.length > 0), `${result.target} ${result.property}: ${result.status} ${result.reason}`);
  }
  // The properties a musl driver offers run and pass on every target.
  for (const property of ["descriptor-table", "errno-propagates", "signal-state"]) {
    t.is(results.filter((result) => result.property === property && result.status === "pass").length, 3, property);
  }
  t.is(runs[1]!.implementations[0]!.version, "1.2.3 (local build)");
  t.log(`gates: amd64/host ${runs[0]!.seconds} s, arm64/user+system ${runs[1]!.seconds} s`);
});

test("musl whose posix_spawn leaves the signal mask blocked in the child fails signal-state on amd64/host, and only that", async (t) => {
  const tree = await muslSourceTree(amd64, maskLeftBlocked);
  const run = await gate(t, ["--impl", "musl", "--libc-root", tree, "--tier", "host"]);
  t.is(run.status, 1, run.output);
  const failures = run.results.filter((result) => result.status === "fail");
  t.deepEqual(failures.map((result) => result.property), ["signal-state"], run.output);
  const failure = failures[0]!;
  t.regex(failure.reason, /^the exec'd program has \S*SIG\w+\S* blocked, expected unblocked/);
  // The shrunk case blocks nothing in the parent: every blocked signal is the bug's.
  t.deepEqual((JSON.parse(failure.counterexample!) as { parentSignals: { blocked: unknown[] } }).parentSignals.blocked, []);
  t.regex(failure.replay ?? "", new RegExp(`--impl musl --libc-root ${tree} `));
  for (const result of run.results.filter((other) => other !== failure)) t.not(result.status, "fail");
  t.log(`gate: ${run.seconds} s`);
});

test.serial("the driver is built once per tree's content: a copy of the tree elsewhere compiles nothing", async (t) => {
  const tree = await muslSourceTree(amd64);
  const [original] = libcTreesOf("musl", tree);
  const built = await buildLibcTreeDriver(original!, amd64);
  const copy = join(scratchDirectory(t, "vfc-libc-root-copy-"), "musl");
  cpSync(tree, copy, { recursive: true });
  const [copied] = libcTreesOf("musl", copy);
  const compiles = compilerRunCount();
  t.is((await buildLibcTreeDriver(copied!, amd64)).program, built.program);
  t.is((await buildLibcTreeDriver(original!, amd64)).program, built.program);
  t.is(compilerRunCount(), compiles);
  // What the link read: a tree's crt objects and libc.a (this one's, or an identical tree's that was built first: the key is the content), the support release's libgcc.
  const command = readFileSync(join(dirname(built.program), "build.log"), "utf8").split("\n")[0]!;
  for (const file of ["crt1.o", "crti.o", "crtn.o", "libc.a"]) t.regex(command, new RegExp(` \\S+/usr/lib/${file.replace(".", "\\.")}( |$)`), file);
  t.true(command.includes(`${built.support.root}/usr/lib/gcc-cross/`));
});
