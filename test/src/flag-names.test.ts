// Flags and signals by name wherever a person reads them: a case's masks
// (describeFlags, describeCase), an observed clone word (describeCloneWord,
// its exit signal by the architecture's name), and the checks' texts.
import test from "ava";
import fc from "fast-check";
import { findArchitecture } from "../../src/architectures.ts";
import { cloneFlagBits, describeCloneWord, describeFlags, parseFlags } from "../../src/flags.ts";
import { describeCase, type SpawnCase } from "../../src/spawn-case.ts";
import { checkClonePath, checkSpawnReaped } from "../../src/checks.ts";
import { junitReport } from "../../src/junit-report.ts";
import { markdownSummary } from "../../src/markdown-summary.ts";
import { tapReport } from "../../src/tap-report.ts";
import { parseResult } from "../../src/protocol.ts";
import { amd64HostView, plainCase } from "../helpers/target-view.ts";

const amd64 = findArchitecture("amd64")!;
const mips64le = findArchitecture("mips64le")!;

test("a case's mask by name: none is 0, a combination names its parts once, unknown bits are one hex remainder", (t) => {
  t.is(describeFlags(0), "0");
  t.is(describeFlags(0x10000000 | 0x20000 | 0x200), "CLONE_NEWUSER|CLONE_NEWNS|CLONE_FS");
  t.is(describeFlags(0x200), "CLONE_FS");
  t.is(describeFlags(0x80 | 0x8000000), "CLONE_NEWIPC|CLONE_NEWTIME");
  t.is(describeFlags(0x20000000 | 0x4), "CLONE_NEWPID|0x4");
  t.is(describeFlags(0x3), "0x3");
  t.is(describeFlags(0x80000000), "CLONE_IO");
});

test("parseFlags reads back whatever describeFlags prints, hex remainder included, and refuses an unknown name", (t) => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (mask) => parseFlags(describeFlags(mask)) === mask));
  t.is(parseFlags("CLONE_NEWUSER|CLONE_NEWNS|CLONE_FS"), 0x10020200);
  t.is(parseFlags("CLONE_NEWUSR"), undefined);
  t.is(parseFlags("0x100000000"), undefined);
  t.is(parseFlags(""), undefined);
});

test("an observed clone word: flag bits by name, the low byte as the architecture's exit signal", (t) => {
  t.is(describeCloneWord(0x100 | 0x4000 | 17, amd64), "CLONE_VM|CLONE_VFORK|SIGCHLD");
  // mips numbers SIGCHLD 18; 17 there is SIGUSR2.
  t.is(describeCloneWord(0x100 | 0x4000 | 18, mips64le), "CLONE_VM|CLONE_VFORK|SIGCHLD");
  t.is(describeCloneWord(0x100 | 0x4000 | 17, mips64le), "CLONE_VM|CLONE_VFORK|SIGUSR2");
  t.is(describeCloneWord(0x4000 | 0x40, amd64), "CLONE_VFORK|64");
  t.is(describeCloneWord(0, amd64), "0");
  t.is(describeCloneWord(0x100 | 0x4000, amd64), "CLONE_VM|CLONE_VFORK");
  t.true(cloneFlagBits.every((flag, index) => index === 0 || flag.value > cloneFlagBits[index - 1]!.value), "the table is in bit order");
});

test("describeCase prints the masks by name in place, the rest as it is", (t) => {
  const spawnCase: SpawnCase = {
    path: "exec-target", argv: ["x"], env: [], cwd: "none", cloneFlags: 0x10020200, unshareFlags: 0, setsid: false, setpgid: false,
    descriptors: [5], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false, parentSignals: { blocked: ["SIGUSR1"], ignored: [], handled: ["SIGHUP"] },
  };
  t.is(
    describeCase(spawnCase),
    '{"path":"exec-target","argv":["x"],"env":[],"cwd":"none","cloneFlags":"CLONE_NEWUSER|CLONE_NEWNS|CLONE_FS","unshareFlags":"0","setsid":false,"setpgid":false,"descriptors":[5],"uidInside":0,"gidInside":0,"memoryBytes":0,"signalStorm":false,"parentSignals":{"blocked":["SIGUSR1"],"ignored":[],"handled":["SIGHUP"]}}',
  );
  t.false(/"(clone|unshare)Flags":\d/.test(describeCase({ ...spawnCase, unshareFlags: 0x8000000 })));
});

// The checks' own texts: an observed clone's flags and exit signal, a child's end, by name.
const target = amd64HostView;
const plain = plainCase;
const result = (status: string) => parseResult(`result id=1 outcome=spawned pid=201 waited=1 status=${status} suspended=unknown report=x zombies=0 live_children=0 leaked_fds=0 stack_canaries=ok register_canaries=ok`);

test("an observed clone's flags and exit signal are named in the clone-path check", (t) => {
  const observed = (flags: number) => ({ result: result("exited:0"), observed: { complete: true, clones: [{ flags, result: 201 }] } });
  t.deepEqual(checkClonePath(plain, observed(0x100 | 0x4000 | 10), target), ["observed clone exit signal SIGUSR1, expected SIGCHLD"]);
  const newUser = { ...plain, cloneFlags: 0x10000000 };
  const [problem] = checkClonePath(newUser, observed(0x100 | 0x4000 | 0x10000000 | 17), target);
  t.regex(problem ?? "", /^observed clone flags CLONE_VM\|CLONE_VFORK\|CLONE_NEWUSER\|SIGCHLD take the CLONE_VM\|CLONE_VFORK path; expected the fork fallback/);
});

test("a child killed by a signal is said so by the signal's name", (t) => {
  t.deepEqual(checkSpawnReaped({ result: result("signaled:9") }, target), ["the child did not exit 0 (killed by SIGKILL)"]);
  t.deepEqual(checkSpawnReaped({ result: result("exited:3") }, target), ["the child did not exit 0 (exit 3)"]);
});

test("the CI formats and the summary show a failure's case with its masks by name", (t) => {
  const counterexample = describeCase({ ...plain, cloneFlags: 0x10020200, unshareFlags: 0x80 });
  const run = { seed: 1, strictKnown: false, results: [{ arch: "amd64", tier: "host", impl: "reference", target: "amd64/host", property: "errno-propagates", status: "fail" as const, reason: "errno E1, expected E22 from clone", counterexample, replay: "npx vforkcheck gate" }] };
  for (const [format, text] of [["JUnit", junitReport(run)], ["TAP", tapReport(run)], ["Markdown", markdownSummary(run)]] as const) {
    t.true(text.includes("CLONE_NEWUSER|CLONE_NEWNS|CLONE_FS") || text.includes("CLONE_NEWUSER\\\\|CLONE_NEWNS"), `${format}: ${text}`);
    t.true(text.includes("CLONE_NEWTIME"), format);
    t.false(/cloneFlags\\?":\s*\d/.test(text), `${format} prints a mask as a number`);
  }
});
