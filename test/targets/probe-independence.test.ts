// The probe does not share the code under test. Two broken ports of the
// spawn's raw vfork wrapper (src/mutants.ts, MUTANT_PORT_*: built into the
// probe as into every build of the architecture) must show as a failing
// implementation, never as a changed capability:
// - mips64le, the kernel's a3 error flag ignored: a refused clone's errno
//   comes back as a pid. The probe still measures the refusals, so
//   errno-propagates sees "spawn succeeded (pid 22)" where clone said EINVAL,
//   under qemu-user (every namespace flag) and in the VM (CLONE_NEWNS|CLONE_FS).
// - ppc64le, the return address kept in r12 across sc: Linux zeroes r12 on
//   the way out, so in the VM the driver dies at its first spawn while the
//   probe measures real vfork; qemu-user leaves r12 alone (cannot show).
// And a probe that dies inside a VM fails the start at once, with its signal
// and init's console line, not at the 180 s boot deadline.
import test, { type ExecutionContext } from "ava";
import { loadProperties } from "../../properties/index.ts";
import { findArchitecture } from "../../src/architectures.ts";
import { namespaceFlags } from "../../src/flags.ts";
import { findMutant, type Mutant } from "../../src/mutants.ts";
import { contradictedProbeReason, describeProbeStatus } from "../../src/probe-checks.ts";
import { parseCapabilities } from "../../src/protocol.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import { runProperty } from "../../harness/run/run-property.ts";
import { probeCapabilities } from "../../harness/targets/probe.ts";
import { startTarget } from "../../harness/targets/start-target.ts";
import type { TargetSpec } from "../../harness/targets/target.ts";

const a3Ignored = findMutant("mips64le-a3-ignored")!;
const raInR12 = findMutant("ppc64le-ra-in-r12")!;
const spec = (arch: string, tier: TargetSpec["tier"], define?: string): TargetSpec => ({
  architecture: findArchitecture(arch)!,
  tier,
  inProcess: false,
  impl: define ? `mutant:${define}` : "reference",
  defines: define ? [define] : [],
  caseDeadlineMs: 8000,
});
const property = async (name: string) => (await loadProperties()).find((p) => p.name === name)!;
/** A failing spawn whose clone every kernel refuses with EINVAL. */
const newnsFs: SpawnCase = {
  path: "missing", argv: ["!"], env: [], cwd: "none", cloneFlags: namespaceFlags.find((flag) => flag.probeKey === "newns_fs")!.value, unshareFlags: 0, setsid: false, setpgid: false,
  descriptors: [], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false,
};
const expected = (mutant: typeof a3Ignored, arch: string, tier: TargetSpec["tier"]) =>
  mutant.expectation({ architecture: findArchitecture(arch)!, tier, inProcess: false }).expected;

test("a caps line that contradicts the kernel's facts is refused; init's probe status is decoded per architecture", (t) => {
  const mips = findArchitecture("mips64le")!;
  const sound = "caps arch=mips64le vfork_shares_memory=1 parent_suspended=1 kcmp=1 clone3=89 max_arg_strlen=131072 page_size=4096 stack_limit=8388608 euid=0 clone_newns_fs=22 vfork_newns_fs=22";
  t.is(contradictedProbeReason(parseCapabilities(sound), mips), undefined);
  t.is(
    contradictedProbeReason(parseCapabilities(sound.replace("vfork_newns_fs=22", "vfork_newns_fs=0")), mips),
    "the probe's own clone path is broken: a vfork clone with CLONE_NEWNS|CLONE_FS measured allowed, which every kernel refuses with EINVAL",
  );
  t.is(describeProbeStatus(11, mips), "it crashed with SIGSEGV");
  t.is(describeProbeStatus(10, mips), "it crashed with SIGBUS");
  t.is(describeProbeStatus(10, findArchitecture("arm64")!), "it crashed with SIGUSR1");
  t.is(describeProbeStatus(127 << 8, mips), "init could not exec it (exit 127)");
  t.is(describeProbeStatus(-12, mips), "init could not start it (ENOMEM)");
});

test("mips64le/user: the probe built with the a3 flag ignored measures what the sound build measures, and errno-propagates kills the spawn", async (t) => {
  t.is(expected(a3Ignored, "mips64le", "user"), "kill");
  const sound = await probeCapabilities(spec("mips64le", "user"));
  const broken = await probeCapabilities(spec("mips64le", "user", a3Ignored.define));
  t.is(sound.vforkErrno["newuts"], 22, "qemu-user refuses a namespace flag in a vfork clone");
  t.deepEqual(broken, sound);
  const target = await startTarget(spec("mips64le", "user", a3Ignored.define));
  t.teardown(() => target.close());
  const result = await runProperty(target, await property("errno-propagates"), { runs: 30, seed: 1, replayPrefix: "npx vforkcheck gate" });
  t.is(result.status, "fail");
  t.regex(result.reason, /^spawn succeeded \(pid 22\); expected EINVAL from clone/);
});

/** The port mutant's system target, started: the table expects a kill there, and the probe in the VM measures what the kernel does (real vfork, CLONE_NEWNS|CLONE_FS refused), whatever the wrapper. */
async function portMutantInVm(t: ExecutionContext, mutant: Mutant, architecture: string) {
  t.is(expected(mutant, architecture, "system"), "kill");
  const target = await startTarget(spec(architecture, "system", mutant.define), 8 << 20);
  t.teardown(() => target.close());
  t.true(target.capabilities.vforkSharesMemory && target.capabilities.parentSuspended, "the probe in the VM measures real vfork");
  t.is(target.capabilities.vforkErrno["newns_fs"], 22);
  return target;
}

test.serial("mips64le/system: with the a3 flag ignored the probe measures CLONE_NEWNS|CLONE_FS refused, and the spawn's claimed child fails errno-propagates", async (t) => {
  const target = await portMutantInVm(t, a3Ignored, "mips64le");
  const failures = (await property("errno-propagates")).check(newnsFs, await target.runCase(newnsFs), target);
  t.regex(failures.join("; "), /spawn succeeded \(pid 22\); expected EINVAL from clone/);
});

test.serial("ppc64le/system: with the return address in r12 the probe measures real vfork and the driver dies at its first spawn", async (t) => {
  const target = await portMutantInVm(t, raInR12, "ppc64le");
  const result = await runProperty(target, await property("errno-propagates"), { runs: 10, seed: 1, replayPrefix: "npx vforkcheck gate" });
  t.is(result.status, "fail");
  t.regex(result.reason, /the driver died \(signal=11\)/);
});

test("ppc64le/user: qemu-user keeps r12 across sc, so the return address in r12 cannot show", async (t) => {
  t.is(expected(raInR12, "ppc64le", "user"), "cannot-show");
  const target = await startTarget(spec("ppc64le", "user", raInR12.define));
  t.teardown(() => target.close());
  for (const name of ["errno-propagates", "parent-resumes"]) {
    const result = await runProperty(target, await property(name), { runs: 15, seed: 1, replayPrefix: "npx vforkcheck gate" });
    t.is(result.status, "pass", `${name}: ${result.reason}`);
  }
});

test.serial("a probe that crashes inside a VM fails the start at once, with its signal and init's line", async (t) => {
  const started = Date.now();
  const error = await t.throwsAsync(startTarget({ ...spec("arm64", "system"), systemVariant: { initMode: "probe-killed" } }, 8 << 20));
  t.regex(error!.message, /^arm64\/system: the probe failed inside the VM: it crashed with SIGSEGV \(vfc-init probe-failed status=11\)/);
  t.true(Date.now() - started < 90_000, `reported after ${Date.now() - started} ms: the boot deadline is 180 s`);
});
