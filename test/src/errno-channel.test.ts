// The errno channel: where glibc's shared-memory errno cannot arrive
// (qemu-user, measured vfork_shares_memory=0) its child-step cases are not
// drawn and errno-propagates is a skip with the measured reason; where vfork
// shares memory (host, system) nothing is left out, so a glibc that loses a
// child's errno fails there. A pipe (musl) is judged everywhere, and so is
// an implementation that does not say how its errno travels.
import test from "ava";
import fc from "fast-check";
import { architectures } from "../../src/architectures.ts";
import { expected, type Run, type TargetView } from "../../src/checks.ts";
import { caseNeedsChildErrno, childErrnoUnobservable, needsChildErrno } from "../../src/errno-channel.ts";
import { judgeableArbitrary } from "../../src/property.ts";
import { parseCapabilities, parseHello, ProtocolError, type CaseResult, type Hello } from "../../src/protocol.ts";
import { property as errnoPropagates } from "../../properties/errno-propagates.ts";
import { property as environment } from "../../properties/environment.ts";
import { property as parentResumes } from "../../properties/parent-resumes.ts";
import { property as concurrentSpawns } from "../../properties/concurrent-spawns.ts";

const amd64 = architectures[0]!;
const caps = (sharesMemory: 0 | 1) =>
  parseCapabilities(
    `caps arch=amd64 vfork_shares_memory=${sharesMemory} parent_suspended=${sharesMemory} kcmp=1 clone3=22 max_arg_strlen=131072 page_size=4096 stack_limit=8388608 euid=0 clone_newuser=0 vfork_newuser=0 unshare_newuser=0`,
  );
const helloLine = (impl: string, channel?: string) =>
  `hello protocol=1 impl=${impl} arch=amd64 pid=100 euid=0 egid=0 pgid=100 sid=50 cwd=x2f77 inherited_fds=0,1,2 report_fd=63 features=setsid,setpgid,cwd,fds,memory,raw_strings,report_fd_any,signal_state,threads signal_contract=posix${channel ? ` errno_channel=${channel}` : ""}`;
const directories = { fixtures: "/f", root: "/", missing: "/m", "a-file": "/a", "name-too-long": "/n" };
const names: Record<number, string> = { 1: "EPERM", 2: "ENOENT", 7: "E2BIG", 8: "ENOEXEC", 13: "EACCES", 20: "ENOTDIR", 36: "ENAMETOOLONG", 40: "ELOOP" };
const view = (hello: Hello, sharesMemory: 0 | 1): TargetView & { maxMemoryBytes: number } => {
  const capabilities = caps(sharesMemory);
  return { name: "t", capabilities, oracle: { architecture: amd64, capabilities, hello, tier: sharesMemory ? "host" : "user", directories }, errnoName: (value) => names[value] ?? `errno ${value}`, maxMemoryBytes: 1 << 20 };
};
const glibc = parseHello(helloLine("glibc", "shared_memory"));
const musl = parseHello(helloLine("musl", "pipe"));
const unsaid = parseHello(helloLine("cmd"));

test("the hello's errno_channel: pipe, shared_memory or absent; anything else is a protocol error", (t) => {
  t.is(glibc.errnoChannel, "shared_memory");
  t.is(musl.errnoChannel, "pipe");
  t.is(unsaid.errnoChannel, undefined);
  t.throws(() => parseHello(helloLine("x", "carrier_pigeon")), { instanceOf: ProtocolError, message: /unknown errno_channel 'carrier_pigeon'/ });
});

test("only shared memory on a target whose vfork is a fork leaves child-step errnos unjudged, with the measured reason", (t) => {
  t.regex(childErrnoUnobservable(glibc, caps(0))!, /errno_channel=shared_memory.*vfork_shares_memory=0/);
  t.is(childErrnoUnobservable(glibc, caps(1)), undefined, "host/system: glibc's errno is judged");
  t.is(childErrnoUnobservable(musl, caps(0)), undefined, "musl's pipe arrives under qemu-user too");
  t.is(childErrnoUnobservable(unsaid, caps(0)), undefined, "an implementation that does not say is judged everywhere");
  t.regex(errnoPropagates.skip!(view(glibc, 0))!, /vfork_shares_memory=0/);
  for (const [hello, sharesMemory] of [[glibc, 1], [musl, 0], [musl, 1], [unsaid, 0]] as const) t.is(errnoPropagates.skip!(view(hello, sharesMemory)), undefined);
});

const sample = (target: ReturnType<typeof view>, definition: typeof environment) => fc.sample(judgeableArbitrary(definition, target), { numRuns: 300, seed: 1 });

test("under qemu-user glibc's cases never need a child's errno; on the host the same properties still draw them", (t) => {
  for (const definition of [environment, parentResumes, concurrentSpawns]) {
    const user = view(glibc, 0);
    t.false(sample(user, definition).some((spawnCase) => caseNeedsChildErrno(spawnCase, user)), `${definition.name}: none left on qemu-user`);
    const host = view(glibc, 1);
    t.true(sample(host, definition).some((spawnCase) => caseNeedsChildErrno(spawnCase, host)), `${definition.name}: drawn on the host`);
    const muslUser = view(musl, 0);
    t.true(sample(muslUser, definition).some((spawnCase) => caseNeedsChildErrno(spawnCase, muslUser)), `${definition.name}: drawn for musl on qemu-user`);
  }
  const host = view(glibc, 1);
  t.true(fc.sample(judgeableArbitrary(errnoPropagates, host), { numRuns: 100, seed: 1 }).filter((spawnCase) => needsChildErrno(expected(spawnCase, host))).length > 50);
});

test("a glibc that loses a child's errno on the host fails errno-propagates: the channel hides nothing there", (t) => {
  const host = view(glibc, 1);
  const spawnCase = fc.sample(judgeableArbitrary(errnoPropagates, host), { numRuns: 200, seed: 1 }).find((each) => {
    const want = expected(each, host);
    return want.kind === "error" && want.step === "execve" && want.errno === "ENOENT";
  })!;
  t.truthy(spawnCase);
  // What glibc's posix_spawn gives when its shared errno is lost: a spawned child that exited 127 after the failed exec.
  const lost: CaseResult = { id: 1, outcome: "spawned", errno: 0, pid: 7, waited: true, status: { exited: 127 }, suspended: "yes", zombies: 0, liveChildren: 0, leakedDescriptors: 0, stackCanaries: "ok", registerCanaries: "ok" };
  const run: Run = { result: lost };
  t.is(errnoPropagates.skip!(host), undefined);
  const problems = errnoPropagates.check(spawnCase, run, host);
  t.true(problems.some((problem) => /spawn succeeded \(pid 7\); expected ENOENT from execve/.test(problem)), problems.join("; "));
  const reported: CaseResult = { ...lost, outcome: "error", errno: 2, status: undefined };
  t.deepEqual(errnoPropagates.check(spawnCase, { result: reported }, host), [], "the same case with its errno passes");
});
