// The pure parts of signal-state: signal numbering per architecture, the
// case and report encodings (strict), the oracle by contract, and the check
// against a report in another architecture's numbering (qemu-user's).
import test from "ava";
import fc from "fast-check";
import { findArchitecture } from "../../src/architectures.ts";
import { parentSignalStateArbitrary } from "../../src/arbitraries/signal-state.ts";
import { checkSignalState, type Run, type TargetView } from "../../src/checks.ts";
import { expectSignalState } from "../../src/oracle.ts";
import { encodeCase, parseChildReport, parseHello, parseResult, ProtocolError, type Hello } from "../../src/protocol.ts";
import { parentStateSignals, signalName, signalNumber, type ParentSignalState } from "../../src/signals.ts";
import type { ResolvedPaths, SpawnCase } from "../../src/spawn-case.ts";

const amd64 = findArchitecture("amd64")!;
const mips = findArchitecture("mips64le")!;

test("signal numbers follow the architecture: mips numbers USR1, CHLD, WINCH its own way", (t) => {
  t.deepEqual(["SIGUSR1", "SIGCHLD", "SIGWINCH", "SIGSTOP"].map((name) => signalNumber(amd64, name as never)), [10, 17, 28, 19]);
  t.deepEqual(["SIGUSR1", "SIGCHLD", "SIGWINCH", "SIGSTOP"].map((name) => signalNumber(mips, name as never)), [16, 18, 20, 23]);
  t.is(signalName(mips, 16), "SIGUSR1");
  t.is(signalName(amd64, 34), undefined, "real-time signals have no name here");
  t.false(parentStateSignals.some((name) => ["SIGKILL", "SIGSTOP", "SIGCHLD", "SIGWINCH"].includes(name)), "the generated set leaves out what the kernel refuses and what the harness needs");
});

test("the arbitrary never both ignores and handles a signal, and leaves the kept ones' dispositions alone", (t) => {
  fc.assert(fc.property(parentSignalStateArbitrary(), (state) => state.handled.every((signal) => !state.ignored.includes(signal))));
  const kept = fc.sample(parentSignalStateArbitrary(["SIGPROF"]), 300);
  t.false(kept.some((state) => [...state.ignored, ...state.handled].includes("SIGPROF")));
  t.true(kept.some((state) => state.blocked.includes("SIGPROF")), "a kept signal may still be blocked");
});

const paths = { path: { "exec-target": "/e" }, directory: {} } as unknown as ResolvedPaths;
const base: SpawnCase = { path: "exec-target", argv: ["a"], env: [], cwd: "none", cloneFlags: 0, unshareFlags: 0, setsid: false, setpgid: false, descriptors: [], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false };
const parent: ParentSignalState = { blocked: ["SIGUSR1", "SIGHUP"], ignored: ["SIGUSR2"], handled: ["SIGTERM"] };

test("a case's signal state goes in the driver's numbering, and only with the driver's architecture", (t) => {
  const withSignals = { ...base, parentSignals: parent };
  t.regex(encodeCase(1, withSignals, paths, 0, false, amd64), / sigmask=1,10 sigignore=12 sighandle=15$/);
  t.regex(encodeCase(1, withSignals, paths, 0, false, mips), / sigmask=1,16 sigignore=17 sighandle=15$/);
  t.notRegex(encodeCase(1, base, paths, 0, false, amd64), /sig/);
  t.throws(() => encodeCase(1, withSignals, paths));
});

const reportLine = (signals: string) => `child argv=x61 env= cwd=2f uid=0 gid=0 euid=0 egid=0 pid=7 ppid=5 pgid=5 sid=5 fds=0,1,2,63 ${signals}`;

test("the child report's signal fields are required number lists", (t) => {
  t.deepEqual(parseChildReport(reportLine("sigmask=1,10 sigignore= sighandle=")).signals, { blocked: [1, 10], ignored: [], caught: [] });
  for (const bad of ["sigmask=1 sigignore=", "sigmask=x sigignore= sighandle=", "sigmask=1,,2 sigignore= sighandle="])
    t.throws(() => parseChildReport(reportLine(bad)), { instanceOf: ProtocolError }, bad);
});

test("the hello's signal_contract is posix unless said, and must be known", (t) => {
  const hello = "hello protocol=1 impl=x arch=amd64 pid=1 euid=0 egid=0 pgid=1 sid=1 cwd=x report_fd=63";
  t.is(parseHello(hello).signalContract, "posix");
  t.is(parseHello(`${hello} signal_contract=reset_all`).signalContract, "reset_all");
  t.deepEqual(parseHello(`${hello} signals_kept=17,27`).signalsKept, [17, 27]);
  t.throws(() => parseHello(`${hello} signals_kept=x`), { instanceOf: ProtocolError });
  t.throws(() => parseHello(`${hello} signal_contract=whatever`), { instanceOf: ProtocolError });
});

test("the oracle: POSIX keeps the mask and SIG_IGN and defaults handlers; reset_all defaults and unblocks everything", (t) => {
  t.deepEqual(expectSignalState(parent, "posix"), { blocked: ["SIGUSR1", "SIGHUP"], dispositions: { SIGUSR2: "ignored", SIGTERM: "default" }, rule: expectSignalState(parent, "posix").rule });
  const reset = expectSignalState(parent, "reset_all");
  t.deepEqual(reset.blocked, []);
  t.true(parentStateSignals.every((signal) => reset.dispositions[signal] === "default"));
});

const hello = (contract: Hello["signalContract"]): Hello => ({ protocol: 1, impl: "reference", arch: "mips64le", pid: 5, euid: 0, egid: 0, pgid: 5, sid: 5, cwd: "/", inheritedDescriptors: [0, 1, 2], reportDescriptor: 63, features: ["signal_state"], signalContract: contract, signalsKept: [] });
/** A mips64le driver under qemu-user: its exec target is the host's amd64 build, which numbers signals as amd64 does. */
const userCapabilities = { arch: "mips64le", vforkSharesMemory: false, parentSuspended: false, kcmp: true, clone3Errno: 38, pageSize: 4096, maxArgumentString: 131072, stackLimit: 8388608, euid: 0, cloneErrno: {}, vforkErrno: {}, unshareErrno: {} };
const userTarget = (contract: Hello["signalContract"]): TargetView => ({
  name: "mips64le/user",
  capabilities: userCapabilities,
  errnoName: String,
  oracle: { architecture: mips, reportArchitecture: amd64, capabilities: userCapabilities, hello: hello(contract), tier: "user", directories: {} as never },
});
const runWith = (signals: string): Run => {
  const report = Buffer.from(reportLine(signals), "latin1").toString("hex");
  return { result: parseResult(`result id=1 outcome=spawned pid=7 waited=1 status=exited:0 suspended=yes report=x${report} zombies=0 live_children=0 leaked_fds=0 stack_canaries=ok register_canaries=ok`) };
};

test("the check reads the report in the exec target's numbering and names each difference", (t) => {
  const spawnCase = { ...base, parentSignals: parent };
  // amd64 numbers: SIGHUP 1, SIGUSR1 10, SIGUSR2 12.
  t.deepEqual(checkSignalState(spawnCase, runWith("sigmask=1,10 sigignore=12 sighandle="), userTarget("posix")), []);
  const everything = Array.from({ length: 64 }, (_, i) => i + 1).filter((n) => n !== 9 && n !== 19).join(",");
  const leftBlocked = checkSignalState(spawnCase, runWith(`sigmask=${everything} sigignore=12 sighandle=`), userTarget("posix"));
  t.is(leftBlocked.length, 1);
  t.regex(leftBlocked[0]!, /SIGINT.*blocked, expected unblocked/);
  t.regex(checkSignalState(spawnCase, runWith("sigmask=1,10 sigignore= sighandle="), userTarget("posix")).join(), /SIGUSR2 at SIG_DFL, expected ignored/);
  t.regex(checkSignalState(spawnCase, runWith("sigmask=1,10 sigignore=12,15 sighandle="), userTarget("posix")).join(), /ignores SIGTERM, expected SIG_DFL/);
  t.regex(checkSignalState(spawnCase, runWith("sigmask=1,10 sigignore=12 sighandle=15"), userTarget("posix")).join(), /handlers for SIGTERM: execve resets/);
  t.regex(checkSignalState(spawnCase, runWith("sigmask=1 sigignore=12 sighandle="), userTarget("posix")).join(), /SIGUSR1 unblocked, expected blocked/);
  // The same report under libuv's contract: the mask and SIG_IGN should have been cleared.
  const reset = checkSignalState(spawnCase, runWith("sigmask=1,10 sigignore=12 sighandle="), userTarget("reset_all")).join("; ");
  t.regex(reset, /SIGHUP,SIGUSR1 blocked, expected unblocked/);
  t.regex(reset, /ignores SIGUSR2, expected SIG_DFL/);
});
