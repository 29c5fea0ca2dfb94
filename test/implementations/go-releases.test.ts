// Go releases and Go's two entry points:
// - `--impl go@1.24` end to end on amd64/host: built with the release's
//   GOROOT from the registry, labelled go@1.24, versioned go1.24.4 (its
//   known findings match that), its replay command selects go@1.24 again.
// - The entry-point dimension: the hello's entry_points, a case's entry=,
//   drawn by every property's arbitrary; a driver without the field gets no
//   entry. A case with entry=start_process reaches os.StartProcess: with Go
//   1.26 the observer sees CLONE_PIDFD in its clone (os.StartProcess asks for
//   a pidfd from Go 1.23), with fork_exec, and with Go 1.22's
//   os.StartProcess, it does not.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import test from "ava";
import { loadProperties } from "../../properties/index.ts";
import { findArchitecture } from "../../src/architectures.ts";
import type { TargetLimits } from "../../src/arbitraries/spawn-case.ts";
import { encodeCase, parseHello, ProtocolError } from "../../src/protocol.ts";
import type { ResolvedPaths, SpawnCase } from "../../src/spawn-case.ts";
import { implementationLabel, implementationOptions } from "../../harness/implementations/index.ts";
import { startTarget } from "../../harness/targets/start-target.ts";

const directory = mkdtempSync(join(tmpdir(), "vfc-go-releases-"));
test.after.always(() => rmSync(directory, { recursive: true, force: true }));

test("a release's label and replay options name it; the bare go stays go", (t) => {
  t.is(implementationLabel({ name: "go", version: "1.24" }), "go@1.24");
  t.is(implementationOptions({ name: "go", version: "1.24" }), " --impl go@1.24");
  t.is(implementationLabel({ name: "go" }), "go");
  t.is(implementationOptions({ name: "go" }), " --impl go");
  t.is(implementationOptions({ name: "go", goroot: "/tmp/fork" }), " --impl go --goroot /tmp/fork");
});

const hello = "hello protocol=1 impl=go arch=amd64 pid=1 euid=0 egid=0 pgid=1 sid=1 cwd=x2f report_fd=63";

test("the hello's entry_points: a list of names, absent when the driver has one", (t) => {
  t.deepEqual(parseHello(`${hello} entry_points=fork_exec,start_process`).entryPoints, ["fork_exec", "start_process"]);
  t.deepEqual(parseHello(hello).entryPoints, []);
  t.throws(() => parseHello(`${hello} entry_points=fork_exec,Fork`), { instanceOf: ProtocolError, message: /entry_points: 'Fork' is not a name/ });
  t.throws(() => parseHello(`${hello} entry_points=a,a`), { instanceOf: ProtocolError, message: /listed twice/ });
});

const limits: TargetLimits = { maxArgumentString: 131072, argumentSpace: 2_000_000, maxMemoryBytes: 1 << 20, reservedDescriptors: [0, 1, 2] };

test("every property draws every entry point of the hello, and none for a driver without them", async (t) => {
  for (const property of await loadProperties()) {
    const drawn = fc.sample(property.arbitrary({ ...limits, entryPoints: ["fork_exec", "start_process"] }), { seed: 5, numRuns: 60 });
    t.deepEqual([...new Set(drawn.map((spawnCase) => spawnCase.entry))].sort(), ["fork_exec", "start_process"], property.name);
    const plain = fc.sample(property.arbitrary(limits), { seed: 5, numRuns: 20 });
    t.true(plain.every((spawnCase) => !("entry" in spawnCase)), `${property.name}: a driver without entry_points got an entry`);
  }
});

const plain: SpawnCase = {
  path: "exec-target", argv: ["vfc"], env: [], cwd: "none", cloneFlags: 0, unshareFlags: 0, setsid: false, setpgid: false,
  descriptors: [], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false,
};

test("a case carries entry= only when it names one", (t) => {
  const paths = { path: { "exec-target": "/x" }, directory: {} } as unknown as ResolvedPaths;
  t.regex(encodeCase(1, { ...plain, entry: "start_process" }, paths), / entry=start_process$/);
  t.false(encodeCase(1, plain, paths).includes("entry="));
});

const CLONE_PIDFD = 0x1000;
const CLONE_VFORK = 0x4000;

/** The flags of the one spawn clone the observer saw for a case with this entry point, on amd64/host with this Go release. */
async function spawnCloneFlags(version: string, entries: readonly string[]): Promise<number[]> {
  const target = await startTarget({ architecture: findArchitecture("amd64")!, tier: "host", inProcess: false, impl: `go@${version}`, implementation: { name: "go", version }, defines: [], caseDeadlineMs: 10_000 });
  try {
    const flags: number[] = [];
    for (const entry of entries) {
      const run = await target.runCase({ ...plain, entry });
      if (run.result?.outcome !== "spawned" || run.observed?.clones.length !== 1) throw new Error(`go@${version} entry=${entry}: ${JSON.stringify(run)}`);
      flags.push(run.observed.clones[0]!.flags);
    }
    return flags;
  } finally {
    await target.close();
  }
}

test("entry=start_process reaches os.StartProcess: Go 1.26 asks the clone for a pidfd there, not in ForkExec; Go 1.22 in neither", async (t) => {
  const [startProcess, forkExec] = await spawnCloneFlags("1.26", ["start_process", "fork_exec"]);
  t.is(startProcess! & (CLONE_PIDFD | CLONE_VFORK), CLONE_PIDFD | CLONE_VFORK, `go@1.26 os.StartProcess: flags ${startProcess!.toString(16)}`);
  t.is(forkExec! & CLONE_PIDFD, 0, `go@1.26 syscall.ForkExec: flags ${forkExec!.toString(16)}`);
  const [olderStartProcess] = await spawnCloneFlags("1.22", ["start_process"]);
  t.is(olderStartProcess! & CLONE_PIDFD, 0, `go@1.22 os.StartProcess: flags ${olderStartProcess!.toString(16)}`);
});

interface Report {
  results: { target: string; property: string; status: string; reason: string; replay: string | null }[];
  implementations: { label: string; name: string; version: string }[];
  knownFindings?: { finding: string; target: string; status: string }[];
}

function gate(extra: string[]) {
  const report = join(directory, `gate-${extra.length}.json`);
  const run = spawnSync(
    process.execPath,
    ["--import=tsx", "harness/cli/vforkcheck.ts", "gate", "--impl", "go@1.24", ...extra, "--arch", "amd64", "--tier", "host", "--no-in-process", "--property", "errno-propagates", "--runs", "40", "--seed", "1", "--case-deadline", "5", "--report", report],
    { encoding: "utf8", timeout: 280_000 },
  );
  return { status: run.status, report: JSON.parse(readFileSync(report, "utf8")) as Report, output: `${run.stdout}\n${run.stderr}` };
}

test.serial("--impl go@1.24 end to end on amd64/host: the release's build, label and version; its replay selects it again", (t) => {
  const known = gate([]);
  t.is(known.status, 0, known.output.slice(-2000));
  t.like(known.report.implementations, [{ label: "go@1.24", name: "go", version: "go1.24.4" }]);
  t.like(known.report.results, [{ target: "amd64/host/go@1.24", property: "errno-propagates", status: "known" }]);
  t.like(known.report.knownFindings, [{ finding: "go-forkexec-id-map-pipe-leak-go1.24", target: "amd64/host/go@1.24", status: "known" }]);

  const without = gate(["--known", "/dev/null"]);
  t.is(without.status, 1, without.output.slice(-2000));
  t.like(without.report.results, [{ status: "fail" }]);
  t.regex(without.report.results[0]!.reason, /descriptor\(s\) leaked in the parent/);
  t.regex(without.report.results[0]!.replay ?? "", /^npx vforkcheck gate --impl go@1\.24 /);
});
