// The concurrent-spawns oracle and check, pure: each spawn is judged from its
// own sub-case, so outcomes given to the wrong callers fail, and the parser
// reads thread_outcomes as the drivers write them.
import test from "ava";
import { checkConcurrentSpawns } from "../../src/concurrent-checks.ts";
import { findArchitecture } from "../../src/architectures.ts";
import { parseResult, type Capabilities, type Hello } from "../../src/protocol.ts";
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
  t.true(problems.some((p) => /^spawn 1 of 2 \(exec-target.*spawn failed with ENOENT; expected success/.test(p)), problems.join("; "));
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
