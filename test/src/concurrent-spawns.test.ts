// The concurrent-spawns oracle, check and arbitrary, pure: each spawn (in
// each round) is judged from its own sub-case and each plain fork as the
// exec target with the report descriptor alone, so outcomes given to the
// wrong callers and foreign descriptors fail; the parser reads
// thread_outcomes and fork_outcomes as the drivers write them.
import test from "ava";
import fc from "fast-check";
import { concurrentSpawnsCaseArbitrary, forkThreadFeature, mostPlainForks, mostRounds, threadRoundsFeature } from "../../src/arbitraries/concurrent-spawns.ts";
import type { TargetLimits } from "../../src/arbitraries/spawn-case.ts";
import { checkConcurrentSpawns } from "../../src/concurrent-checks.ts";
import { CLONE_NEWUSER } from "../../src/flags.ts";
import { findArchitecture } from "../../src/architectures.ts";
import { encodeCase, parseResult, type Capabilities, type Hello } from "../../src/protocol.ts";
import { concurrentSubCases, type SpawnCase } from "../../src/spawn-case.ts";
import type { TargetView } from "../../src/checks.ts";

const hello: Hello = { protocol: 1, impl: "reference", arch: "amd64", pid: 100, euid: 0, egid: 0, pgid: 100, sid: 7, cwd: "/f", inheritedDescriptors: [0, 1, 2], reportDescriptor: 63, features: ["threads", "fds"], signalContract: "posix", signalsKept: [] };
const capabilities: Capabilities = { arch: "amd64", vforkSharesMemory: true, parentSuspended: false, kcmp: true, clone3Errno: 0, pageSize: 4096, maxArgumentString: 131072, stackLimit: 8 << 20, euid: 0, cloneErrno: {}, vforkErrno: {}, unshareErrno: {} };
const target: TargetView = {
  name: "amd64/host",
  capabilities,
  oracle: { architecture: findArchitecture("amd64")!, capabilities, hello, tier: "host", directories: { fixtures: "/f", root: "/", missing: "/m", "a-file": "/a", "name-too-long": "/n" } },
  errnoName: (value) => ({ 2: "ENOENT", 8: "ENOEXEC", 13: "EACCES" })[value] ?? `E${value}`,
};
const spawnCase: SpawnCase = {
  path: "exec-target", argv: ["child"], env: [], cwd: "none", cloneFlags: 0, unshareFlags: 0, setsid: false, setpgid: false, descriptors: [5], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false,
  concurrentSpawns: [{ path: "exec-target", descriptors: [5] }, { path: "missing", descriptors: [7] }],
};
const hex = (text: string) => `x${Buffer.from(text).toString("hex")}`;
const report = (pid: number, fds: string) => hex(`child argv=${hex("child")} env= cwd=${Buffer.from("/f").toString("hex")} uid=0 gid=0 euid=0 egid=0 pid=${pid} ppid=100 pgid=100 sid=7 fds=${fds} sigmask= sigignore= sighandle=`);
const resultLine = (outcomes: string, own = `outcome=spawned pid=201 waited=1 status=exited:0 suspended=unknown report=${report(201, "0,1,2,5,63")}`) =>
  `result id=1 ${own} zombies=0 live_children=0 leaked_fds=0 thread_outcomes=${outcomes} stack_canaries=ok register_canaries=ok`;

test("each spawn is its own single-spawn case, the rest in common", (t) => {
  const [first, second] = concurrentSubCases(spawnCase);
  t.like(first, { path: "exec-target", descriptors: [5], argv: ["child"] });
  t.like(second, { path: "missing", descriptors: [7], argv: ["child"] });
  t.false("concurrentSpawns" in second!);
});

test("every caller with its own outcome passes", (t) => {
  const result = parseResult(resultLine(`spawned/201/1/exited:0/${report(201, "0,1,2,5,63")};error/2`));
  t.deepEqual(checkConcurrentSpawns(spawnCase, { result }, target), []);
});

test("outcomes given to the wrong callers fail, each spawn judged against its own path", (t) => {
  const swapped = parseResult(resultLine(`error/2;spawned/201/1/exited:0/${report(201, "0,1,2,5,63")}`, "outcome=error errno=2"));
  const problems = checkConcurrentSpawns(spawnCase, { result: swapped }, target);
  t.true(problems.some((p) => /^spawn 1 of 2 \(exec-target.*spawn failed with ENOENT \(2\); expected success/.test(p)), problems.join("; "));
  t.true(problems.some((p) => /^spawn 2 of 2 \(missing.*spawn succeeded \(pid 201\); expected ENOENT/.test(p)), problems.join("; "));
});

test("a child holding another spawn's pipe, and one pid for two callers, fail", (t) => {
  const leaked = parseResult(resultLine(`spawned/201/1/exited:0/${report(201, "0,1,2,5,9,63")};error/2`));
  t.true(checkConcurrentSpawns(spawnCase, { result: leaked }, target).some((p) => /child open descriptors: got \[0,1,2,5,9,63\], expected \[0,1,2,5,63\]/.test(p)));
  const bothExec: SpawnCase = { ...spawnCase, concurrentSpawns: [{ path: "exec-target", descriptors: [5] }, { path: "exec-target", descriptors: [5] }] };
  const shared = parseResult(resultLine(`spawned/201/1/exited:0/${report(201, "0,1,2,5,63")};spawned/201/0/exited:0/${report(201, "0,1,2,5,63")}`));
  t.true(checkConcurrentSpawns(bothExec, { result: shared }, target).some((p) => p === "spawns 1, 2 all got pid 201: a caller got another spawn's child"));
});

test("a result without thread_outcomes, or with too few, fails; a malformed entry is a protocol error", (t) => {
  const plain = parseResult(resultLine("error/2").replace(/ thread_outcomes=\S+/, ""));
  t.deepEqual(checkConcurrentSpawns(spawnCase, { result: plain }, target), ["the driver answered a case of 2 concurrent spawns without thread_outcomes"]);
  t.deepEqual(checkConcurrentSpawns(spawnCase, { result: parseResult(resultLine(`spawned/201/1/exited:0/${report(201, "0,1,2,5,63")}`)) }, target), ["1 outcomes in thread_outcomes for 2 concurrent spawns"]);
  t.throws(() => parseResult(resultLine("spawned/201/yes")), { message: /malformed thread_outcomes entry/ });
});

test("rounds: each round's outcome is judged as its spawn's, labelled with its round; a missing round fails", (t) => {
  const rounds: SpawnCase = { ...spawnCase, rounds: 2 };
  const good = `spawned/201/1/exited:0/${report(201, "0,1,2,5,63")};error/2;spawned/203/1/exited:0/${report(203, "0,1,2,5,63")};error/2`;
  t.deepEqual(checkConcurrentSpawns(rounds, { result: parseResult(resultLine(good)) }, target), []);
  const leaked = `spawned/201/1/exited:0/${report(201, "0,1,2,5,63")};error/2;spawned/203/1/exited:0/${report(203, "0,1,2,5,9,63")};error/2`;
  t.deepEqual(checkConcurrentSpawns(rounds, { result: parseResult(resultLine(leaked)) }, target), ["spawn 1 of 2, round 2 of 2 (exec-target, fds [5]): child open descriptors: got [0,1,2,5,9,63], expected [0,1,2,5,63]"]);
  t.deepEqual(checkConcurrentSpawns(rounds, { result: parseResult(resultLine(`spawned/201/1/exited:0/${report(201, "0,1,2,5,63")};error/2`)) }, target), ["2 outcomes in thread_outcomes for 2 concurrent spawns in 2 rounds"]);
});

test("plain forks: each child must hold the report descriptor alone (and what the parent passes on); their count is the case's", (t) => {
  const forks: SpawnCase = { ...spawnCase, cwd: "root", setsid: true, plainForks: 2 };
  const own = `outcome=spawned pid=201 waited=1 status=exited:0 suspended=unknown report=${report(201, "0,1,2,5,63").replace(Buffer.from("/f").toString("hex"), Buffer.from("/").toString("hex"))}`;
  const spawnReport = (pid: number, fds: string) => hex(`child argv=${hex("child")} env= cwd=${Buffer.from("/").toString("hex")} uid=0 gid=0 euid=0 egid=0 pid=${pid} ppid=100 pgid=${pid} sid=${pid} fds=${fds} sigmask= sigignore= sighandle=`);
  const line = (forkEntries: string) => `${resultLine(`spawned/201/1/exited:0/${spawnReport(201, "0,1,2,5,63")};error/2`, own)} fork_outcomes=${forkEntries}`;
  const clean = `spawned/301/1/exited:0/${report(301, "0,1,2,63")};spawned/302/1/exited:0/${report(302, "0,1,2,63")}`;
  t.deepEqual(checkConcurrentSpawns(forks, { result: parseResult(line(clean)) }, target).filter((p) => !p.startsWith("the result's own")), []);
  const leaked = `spawned/301/1/exited:0/${report(301, "0,1,2,11,63")};spawned/302/1/exited:0/${report(302, "0,1,2,63")}`;
  t.true(checkConcurrentSpawns(forks, { result: parseResult(line(leaked)) }, target).includes("plain fork 1 of 2 on another thread (exec-target, fds []): child open descriptors: got [0,1,2,11,63], expected [0,1,2,63]"));
  t.deepEqual(checkConcurrentSpawns(forks, { result: parseResult(line(`spawned/301/1/exited:0/${report(301, "0,1,2,63")}`)) }, target), ["1 outcomes in fork_outcomes for 2 plain forks on another thread"]);
  const samePid = `spawned/201/1/exited:0/${report(201, "0,1,2,63")};spawned/302/1/exited:0/${report(302, "0,1,2,63")}`;
  t.true(checkConcurrentSpawns(forks, { result: parseResult(line(samePid)) }, target).includes("spawns 1, plain fork 1 all got pid 201: a caller got another spawn's child"));
});

test("the case line carries rounds, fork_thread and fork_path only when the case has them", (t) => {
  const paths = { execTarget: "/t/exec", fixturesDirectory: "/f", path: { "exec-target": "/t/exec", missing: "/m", "not-executable": "/n", garbage: "/g", "through-file": "/a/x", "symlink-loop": "/l", "name-too-long": "/long" }, directory: { fixtures: "/f", root: "/", missing: "/m", "a-file": "/a", "name-too-long": "/n" } } as const;
  const plain = encodeCase(7, spawnCase, paths);
  t.notRegex(plain, /rounds=|fork_thread=|fork_path=/);
  const line = encodeCase(7, { ...spawnCase, rounds: 3, plainForks: 2 }, paths);
  t.regex(line, / threads=2 thread_spawns=\S+ rounds=3 fork_thread=2 fork_path=x2f742f65786563( |$)/);
});

test("concurrent cases draw what single cases draw, and rounds and plain forks only for a driver that offers them", (t) => {
  const limits: TargetLimits = { maxArgumentString: 131072, argumentSpace: 2 << 20, maxMemoryBytes: 0, reservedDescriptors: [0, 1, 2] };
  const every = fc.sample(concurrentSpawnsCaseArbitrary(limits), { seed: 3, numRuns: 300 });
  t.true(every.some((c) => ((c.cloneFlags | c.unshareFlags) & CLONE_NEWUSER) !== 0), "the CLONE_NEWUSER fallback");
  t.true(every.some((c) => (c.cloneFlags & ~CLONE_NEWUSER) !== 0), "other namespaces");
  t.true(every.some((c) => c.setsid) && every.some((c) => c.setpgid), "sessions");
  t.deepEqual([...new Set(every.map((c) => c.cwd))].sort(), ["a-file", "fixtures", "missing", "none", "root"]);
  t.true(every.some((c) => c.concurrentSpawns!.some((s) => s.path !== "exec-target")), "failing paths");
  t.true(every.every((c) => c.rounds! >= 1 && c.rounds! <= mostRounds && c.plainForks! >= 1 && c.plainForks! <= mostPlainForks));
  const without = fc.sample(concurrentSpawnsCaseArbitrary({ ...limits, features: ["threads", "fds"] }), { seed: 3, numRuns: 50 });
  t.true(without.every((c) => !("rounds" in c) && !("plainForks" in c)));
  const withThem = fc.sample(concurrentSpawnsCaseArbitrary({ ...limits, features: ["threads", "fds", threadRoundsFeature, forkThreadFeature] }), { seed: 3, numRuns: 50 });
  t.true(withThem.every((c) => c.rounds !== undefined && c.plainForks !== undefined));
  // Under an emulator a spawn costs several times more: one round, and at most two plain forks.
  const emulated = fc.sample(concurrentSpawnsCaseArbitrary({ ...limits, tier: "user" }), { seed: 3, numRuns: 50 });
  t.true(emulated.every((c) => !("rounds" in c) && c.plainForks! >= 1 && c.plainForks! <= 2));
});
