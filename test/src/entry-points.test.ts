// Entry points that differ (CPython's three spawn paths, pure): the hello's
// entry_features, entry_errno_channels and entry_signals_defaulted are parsed
// strictly; an entry point is drawn only with the dimensions it honours and
// only by the properties whose check it can serve; a shared-memory entry's
// child-step errnos are left out under qemu-user while a pipe entry's are
// drawn; a defaulted signal is expected at SIG_DFL even when the parent
// ignored it.
import test from "ava";
import fc from "fast-check";
import { architectures } from "../../src/architectures.ts";
import { expected, type TargetView } from "../../src/checks.ts";
import { caseNeedsChildErrno, childErrnoUnobservable, someChildErrnoUnobservable } from "../../src/errno-channel.ts";
import { expectSignalState } from "../../src/oracle.ts";
import { judgeableArbitrary } from "../../src/property.ts";
import { entryPointErrnoChannel, entryPointFeatures, parseCapabilities, parseHello, ProtocolError } from "../../src/protocol.ts";
import { property as errnoPropagates } from "../../properties/errno-propagates.ts";
import { property as signalState } from "../../properties/signal-state.ts";

const amd64 = architectures[0]!;
const base = "hello protocol=1 impl=python arch=amd64 pid=100 euid=0 egid=0 pgid=100 sid=50 cwd=x2f77 inherited_fds=0,1,2 report_fd=63 features=setsid,setpgid,cwd,fds,memory,signal_state,fast_path entry_points=popen_vfork,popen_posix_spawn,os_posix_spawn";
const python = parseHello(
  `${base} entry_features=popen_posix_spawn:fds+memory+signal_state,os_posix_spawn:setsid+setpgid+fds+memory entry_errno_channels=popen_vfork:pipe,popen_posix_spawn:shared_memory,os_posix_spawn:shared_memory entry_signals_defaulted=popen_vfork:13+25,popen_posix_spawn:13+25`,
);
const caps = (sharesMemory: 0 | 1) =>
  parseCapabilities(`caps arch=amd64 vfork_shares_memory=${sharesMemory} parent_suspended=${sharesMemory} kcmp=1 clone3=22 max_arg_strlen=131072 page_size=4096 stack_limit=8388608 euid=0 clone_newuser=0 vfork_newuser=0 unshare_newuser=0`);
const directories = { fixtures: "/f", root: "/", missing: "/m", "a-file": "/a", "name-too-long": "/n" };
const names: Record<number, string> = { 2: "ENOENT", 7: "E2BIG", 8: "ENOEXEC", 13: "EACCES", 20: "ENOTDIR", 36: "ENAMETOOLONG", 40: "ELOOP" };
const view = (sharesMemory: 0 | 1): TargetView & { maxMemoryBytes: number } => {
  const capabilities = caps(sharesMemory);
  return { name: "t", capabilities, oracle: { architecture: amd64, capabilities, hello: python, tier: sharesMemory ? "host" : "user", directories }, errnoName: (value) => names[value] ?? `errno ${value}`, maxMemoryBytes: 1 << 20 };
};

test("the per-entry fields: name:value items of entry_points' names, parts joined by '+'", (t) => {
  t.deepEqual(python.entryFeatures, { popen_posix_spawn: ["fds", "memory", "signal_state"], os_posix_spawn: ["setsid", "setpgid", "fds", "memory"] });
  t.deepEqual(python.entrySignalsDefaulted, { popen_vfork: [13, 25], popen_posix_spawn: [13, 25] });
  t.is(entryPointErrnoChannel(python, "popen_vfork"), "pipe");
  t.is(entryPointErrnoChannel(python, "os_posix_spawn"), "shared_memory");
  t.deepEqual(entryPointFeatures(python, "popen_vfork"), python.features, "an entry not listed honours the hello's features");
  for (const [field, message] of [
    ["entry_features=fork:fds", /entry_features: 'fork' is not one of entry_points/],
    ["entry_features=popen_vfork", /is not NAME:VALUE/],
    ["entry_errno_channels=popen_vfork:pipe,popen_vfork:pipe", /popen_vfork is listed twice/],
    ["entry_errno_channels=popen_vfork:carrier_pigeon", /unknown errno_channel/],
    ["entry_signals_defaulted=popen_vfork:13+x", /not signal numbers joined by '\+'/],
  ] as const) t.throws(() => parseHello(`${base} ${field}`), { instanceOf: ProtocolError, message });
});

test("an entry point is drawn only with the dimensions it honours, and signal-state draws only entries that take a signal state", (t) => {
  const cases = fc.sample(errnoPropagates.arbitrary({ ...limits(), entryPoints: python.entryPoints, entryFeatures: python.entryFeatures }), { numRuns: 400, seed: 3 });
  const on = (entry: string) => cases.filter((spawnCase) => spawnCase.entry === entry);
  t.true(on("popen_vfork").some((spawnCase) => spawnCase.cwd !== "none" || spawnCase.setsid), "the vfork path draws cwd and sessions");
  t.true(on("popen_posix_spawn").length > 0 && on("popen_posix_spawn").every((spawnCase) => spawnCase.cwd === "none" && !spawnCase.setsid && !spawnCase.setpgid));
  t.true(on("os_posix_spawn").length > 0 && on("os_posix_spawn").every((spawnCase) => spawnCase.cwd === "none"));
  const signalCases = fc.sample(signalState.arbitrary({ ...limits(), entryPoints: python.entryPoints, entryFeatures: python.entryFeatures }), { numRuns: 200, seed: 3 });
  t.false(signalCases.some((spawnCase) => spawnCase.entry === "os_posix_spawn"), "os_posix_spawn lists no signal_state here");
  t.true(signalCases.every((spawnCase) => spawnCase.parentSignals !== undefined));
});

test("under qemu-user only the shared-memory entries' child-step errnos are left out; errno-propagates still runs on the pipe entry", (t) => {
  t.is(childErrnoUnobservable(python, caps(0), "popen_vfork"), undefined);
  t.regex(childErrnoUnobservable(python, caps(0), "os_posix_spawn")!, /python's os_posix_spawn .*entry_errno_channels os_posix_spawn:shared_memory/);
  t.is(childErrnoUnobservable(python, caps(0)), undefined, "not every entry: no skip");
  t.truthy(someChildErrnoUnobservable(python, caps(0)));
  t.is(errnoPropagates.skip!(view(0)), undefined);
  const user = view(0);
  const drawn = fc.sample(judgeableArbitrary(errnoPropagates, user), { numRuns: 300, seed: 1 });
  t.false(drawn.some((spawnCase) => spawnCase.entry !== "popen_vfork" && caseNeedsChildErrno(spawnCase, user)));
  t.true(drawn.some((spawnCase) => spawnCase.entry === "popen_vfork" && caseNeedsChildErrno(spawnCase, user)));
  t.true(fc.sample(judgeableArbitrary(errnoPropagates, view(1)), { numRuns: 300, seed: 1 }).some((spawnCase) => spawnCase.entry === "os_posix_spawn" && expected(spawnCase, view(1)).kind === "error"));
});

test("a defaulted signal is expected at SIG_DFL even where the parent ignored it; the others keep POSIX's rule", (t) => {
  const want = expectSignalState({ blocked: ["SIGUSR1"], ignored: ["SIGPIPE", "SIGHUP"], handled: ["SIGTERM"] }, "posix", ["SIGPIPE", "SIGXFSZ"]);
  t.deepEqual(want.dispositions, { SIGPIPE: "default", SIGHUP: "ignored", SIGTERM: "default", SIGXFSZ: "default" });
  t.deepEqual(want.blocked, ["SIGUSR1"]);
  t.regex(want.rule, /sets SIGPIPE,SIGXFSZ to SIG_DFL/);
  t.deepEqual(expectSignalState({ blocked: [], ignored: ["SIGPIPE"], handled: [] }, "posix").dispositions, { SIGPIPE: "ignored" });
});

function limits() {
  return { maxArgumentString: 131072, argumentSpace: 2 << 20, maxMemoryBytes: 1 << 20, reservedDescriptors: [63, 0, 1, 2], features: python.features };
}
