// Faults of the machine, the cache and the caller, each produced for real, give `broken` (exit 3), never `fail`:
// a read-only cache, a full disk while the package lists update, while clang links, while a kernel downloads and
// while an initramfs is written, the private apt
// lists' lock held by another process, a download the network refuses, TMPDIR missing or a file, HOME unset
// for an unprivileged user, PATH holding only node. Each checks the status, the exit code, the one line, and that nothing was left: no process
// carrying the run's marker, no temporary file, no half cache entry, no mount (the tmpfs lives in a mount
// namespace the test makes, gone with it).
import test, { type ExecutionContext } from "ava";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { leftBehind, uniqueMarker } from "../helpers/marked-run.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";
import { cacheDirectory } from "../../harness/toolchain/debian-archive.ts";

const isRoot = process.getuid?.() === 0;
const realCache = cacheDirectory();

interface FaultRun {
  status: number | null;
  stdout: string;
  stderr: string;
  report?: { verdict?: string; exitCode?: number; results: { target: string; status: string; reason: string }[] };
  seconds: number;
  /** Names under the run's TMPDIR and its cache that a run leaves only when it leaks: temporaries and half entries. */
  leftovers: string[];
  marker: string;
}

interface FaultSetup {
  args: string[];
  env?: Record<string, string | undefined>;
  /**
   * A tmpfs of this size as the cache, in a mount namespace of the run's own: each `seed` directory copied in first
   * (to its path under the cache), then all but `leaveKiB` of its space taken by a file, then made `readOnly`.
   */
  tmpfs?: { size: string; seed?: readonly { from: string; to: string }[]; leaveKiB?: number; readOnly?: boolean };
  /** Run as nobody (setpriv). */
  asNobody?: boolean;
  deadlineMs?: number;
}

/** Entries whose names say they are unfinished: a temporary directory or file of the harness's, anywhere under `root`. */
function unfinished(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: "utf8" }).filter((name) => /(^|\/)\.tmp-|\.tmp(-|$)|\.tmp\.|vforkcheck-\d+-/.test(name));
}

/** `vforkcheck gate ARGS` with a private cache and TMPDIR, as the setup says; SIGKILLed past its deadline. */
async function gateWithFault(t: ExecutionContext, setup: FaultSetup): Promise<FaultRun> {
  const scratch = scratchDirectory(t, "vforkcheck-broken-");
  chmodSync(scratch, 0o777);
  const temporary = join(scratch, "tmp");
  const cache = join(scratch, "cache");
  mkdirSync(temporary, { mode: 0o777 });
  mkdirSync(cache, { mode: 0o777 });
  chmodSync(temporary, 0o1777);
  const report = join(scratch, "report.json");
  const marker = uniqueMarker("broken");
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: temporary, VFORKCHECK_CACHE: cache, VFORKCHECK_TEST_MARK: marker, ...setup.env };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  const gate = ["node", join(process.cwd(), "bin/vforkcheck.js"), "gate", ...setup.args, "--report", report];
  let argv = gate;
  if (setup.asNobody) argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", ...gate];
  if (setup.tmpfs) {
    const { size, seed = [], leaveKiB, readOnly } = setup.tmpfs;
    const script = [
      `mount -t tmpfs -o size=${size},mode=0777 vforkcheck-broken "$1"`,
      ...seed.map((_, i) => `mkdir -p "$(dirname "$1/\${${2 * i + 4}}")" && cp -a "\${${2 * i + 3}}" "$1/\${${2 * i + 4}}"`),
      ...(leaveKiB !== undefined ? [`dd if=/dev/zero of="$1/filler" bs=1024 count=$(( $(stat -f -c '%a*%S/1024' "$1") - ${leaveKiB} )) status=none`] : []),
      ...(readOnly ? [`mount -o remount,ro "$1"`] : []),
      `shift $(($2 * 2 + 2)) && exec "$@"`,
    ].join(" && ");
    // $1 the cache, $2 how many seeds follow it (from, to), then the seeds, then the command.
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", cache, String(seed.length), ...seed.flatMap(({ from, to }) => [from, to]), ...argv];
  }
  const started = Date.now();
  const child = spawn(argv[0]!, argv.slice(1), { cwd: process.cwd(), env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const deadline = setTimeout(() => child.kill("SIGKILL"), setup.deadlineMs ?? 90_000);
  const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  clearTimeout(deadline);
  const seconds = (Date.now() - started) / 1000;
  const leftovers = [...unfinished(temporary).map((name) => `TMPDIR/${name}`), ...unfinished(cache).map((name) => `cache/${name}`)];
  return { status, stdout, stderr, seconds, leftovers, marker, ...(existsSync(report) ? { report: JSON.parse(readFileSync(report, "utf8")) } : {}) };
}

/** The checks every fault shares: exit 3, every result broken with the fault's line, the line printed once, nothing left. */
async function assertBroken(t: ExecutionContext, run: FaultRun, line: RegExp): Promise<void> {
  const output = `${run.stdout}\n${run.stderr}`.slice(-3000);
  t.is(run.status, 3, output);
  t.truthy(run.report, output);
  t.like(run.report, { verdict: "broken", exitCode: 3 });
  t.true(run.report!.results.length > 0);
  for (const result of run.report!.results) {
    t.is(result.status, "broken", `${result.target}: ${result.reason}`);
    t.regex(result.reason, line);
  }
  const said = run.stdout.split("\n").filter((text) => text.startsWith("broken: ") && line.test(text.slice("broken: ".length)));
  t.is(said.length, 1, output);
  t.regex(run.stdout, /^BROKEN: 0 failed, \d+ broken/m);
  t.deepEqual(await leftBehind(run.marker), []);
  t.deepEqual(run.leftovers, []);
  // The tmpfs was the namespace's: nothing of it is mounted here.
  t.false(readFileSync("/proc/self/mountinfo", "utf8").includes("vforkcheck-broken"));
}

const hostGate = ["--tier", "host", "--arch", "amd64", "--runs", "5", "--seed", "1", "--no-in-process"];

test("a read-only, empty cache: EROFS named with the cache's path and VFORKCHECK_CACHE, before anything is built", async (t) => {
  if (!isRoot) return t.pass("skipped: a read-only tmpfs needs root for its mount namespace");
  const run = await gateWithFault(t, { args: hostGate, tmpfs: { size: "1m", readOnly: true } });
  await assertBroken(t, run, /^EROFS \(read-only file system\): cannot write the cache \S+\/cache; .*VFORKCHECK_CACHE/);
});

test("PATH holding only node: the missing program and the PATH are named", async (t) => {
  const onlyNode = scratchDirectory(t, "vforkcheck-broken-path-");
  symlinkSync(process.execPath, join(onlyNode, "node"));
  const run = await gateWithFault(t, { args: hostGate, env: { PATH: onlyNode } });
  await assertBroken(t, run, new RegExp(`^ENOENT \\(no such file or directory\\): program 'sh' not found on PATH=${onlyNode.replace(/[/.]/g, "\\$&")};`));
});

test("HOME unset for an unprivileged user: the cache it cannot make, and why", async (t) => {
  if (!isRoot) return t.pass("skipped: running as nobody needs root");
  const run = await gateWithFault(t, { args: hostGate, asNobody: true, env: { HOME: undefined, VFORKCHECK_CACHE: undefined, XDG_CACHE_HOME: undefined } });
  await assertBroken(t, run, /^cannot create the cache \/nonexistent\/\.cache\/vforkcheck: EACCES \(permission denied\) on \/ \(HOME is unset, .*\); set HOME, or VFORKCHECK_CACHE/);
  t.false(existsSync("/nonexistent"), "nothing made outside the run's own directories");
});

test("TMPDIR missing, or a file: one line, exit 3, before anything runs (no report over an earlier one, nothing made)", async (t) => {
  for (const [make, problem] of [[() => {}, /does not exist \(ENOENT\)/], [(path: string) => writeFileSync(path, ""), /is not a directory \(ENOTDIR\)/]] as const) {
    const scratch = scratchDirectory(t, "vforkcheck-broken-tmpdir-");
    const tmpdir = join(scratch, "tmpdir");
    make(tmpdir);
    const run = await gateWithFault(t, { args: hostGate, env: { TMPDIR: tmpdir } });
    t.is(run.status, 3, run.stderr);
    t.deepEqual(run.stderr.trim().split("\n"), [`vforkcheck: broken: TMPDIR=${tmpdir} ${problem.source.replace(/\\/g, "")}; set TMPDIR to a writable directory, or unset it (then /tmp)`]);
    t.is(run.report, undefined);
    t.deepEqual(readdirSync(scratch), existsSync(tmpdir) ? ["tmpdir"] : []);
    t.deepEqual(await leftBehind(run.marker), []);
  }
});

const systemGate = ["--tier", "system", "--arch", "arm64", "--runs", "3", "--seed", "1", "--property", "errno-propagates"];
/** A directory of the machine's own cache, copied into a test's cache at the same place. */
const seedOf = (...parts: string[]) => ({ from: join(realCache, ...parts), to: join(...parts) });

// The drivers arm64/system boots (its own and amd64's launcher), built once for every test here: each then
// starts where a first run would have left its cache, and meets its fault without a compiler's wait.
const prebuilt = mkdtempSync(join(tmpdir(), "vforkcheck-broken-build-"));
test.before(async (t) => {
  const build = spawn("node", ["bin/vforkcheck.js", "build", "--arch", "arm64,amd64"], { env: { ...process.env, VFORKCHECK_CACHE: prebuilt }, stdio: "ignore" });
  t.is(await new Promise((resolve) => build.on("close", resolve)), 0);
});
test.after.always(() => rmSync(prebuilt, { recursive: true, force: true }));
const builds = { from: join(prebuilt, "build"), to: "build" };

/** Copies the seeds into `cache` as `cp -a` does (the cache's manifests check what it keeps). */
function seedCache(t: ExecutionContext, cache: string, seeds: readonly { from: string; to: string }[]): void {
  for (const seed of seeds) {
    mkdirSync(dirname(join(cache, seed.to)), { recursive: true });
    t.is(spawnSync("cp", ["-a", seed.from, join(cache, seed.to)]).status, 0);
  }
}

test("another process holds the private apt lists' lock: the lock's file and holder are named, after the usual retries", async (t) => {
  const scratch = scratchDirectory(t, "vforkcheck-broken-lock-");
  // The lists as set-up left them, so that only the lock stands between the gate and its kernel.
  const lists = join(scratch, "cache", "apt", "bookworm-arm64");
  // The user tier's emulators too, which the run's user-tier probe would fetch first.
  seedCache(t, join(scratch, "cache"), [seedOf("apt", "bookworm-arm64"), seedOf("qemu-user"), builds]);
  const holder = spawn("python3", ["-c", "import fcntl,sys,time; f=open(sys.argv[1],'a'); fcntl.lockf(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(120)", join(lists, "lists", "lock")], { stdio: ["ignore", "pipe", "inherit"] });
  t.teardown(() => holder.kill("SIGKILL"));
  await new Promise((resolve) => holder.stdout.once("data", resolve));
  const run = await gateWithFault(t, { args: systemGate, env: { VFORKCHECK_CACHE: join(scratch, "cache") } });
  await assertBroken(t, run, new RegExp(`^kernel for arm64 \\(linux-image-arm64, bookworm/arm64\\): \\S+/lists/lock is locked by process ${holder.pid} \\(\\S*python3 -c .*\\), still after 10 s; wait for it to finish or stop it \\(kill ${holder.pid}\\)`));
});

test("a download that does not come (the network refuses it): what, from where, and apt's message", async (t) => {
  const scratch = scratchDirectory(t, "vforkcheck-broken-network-");
  seedCache(t, join(scratch, "cache"), [seedOf("apt", "bookworm-arm64"), seedOf("qemu-user"), builds]);
  // apt's proxy, from the environment: a port where nothing listens.
  const refused = "http://127.0.0.1:9";
  const run = await gateWithFault(t, { args: systemGate, env: { VFORKCHECK_CACHE: join(scratch, "cache"), http_proxy: refused, https_proxy: refused } });
  await assertBroken(t, run, /^kernel for arm64 \(linux-image-arm64, bookworm\/arm64\): cannot download .+ from \S+: E: .+; check the network and the mirror \(VFORKCHECK_DEBIAN_MIRROR\)/);
});

test("the cache's disk fills while arm64/system's kernel downloads: ENOSPC with the path, the space needed and free", async (t) => {
  if (!isRoot) return t.pass("skipped: a small tmpfs needs root for its mount namespace");
  // The lists and the user tier's emulators (the run's user-tier probe fetches them first) fit; the kernel's package does not.
  const run = await gateWithFault(t, { args: systemGate, tmpfs: { size: "130m", seed: [seedOf("apt", "bookworm-arm64"), seedOf("qemu-user"), builds] }, deadlineMs: 120_000 });
  await assertBroken(t, run, /^kernel for arm64 \(linux-image-arm64, bookworm\/arm64\): ENOSPC \(no space left on device\) writing \S+, needs [\d.]+ MiB \([\d.]+ (B|KiB|MiB) free of 130\.0 MiB on \S+\); free space there or set VFORKCHECK_CACHE/);
});

test("the cache's disk is full when the package lists are updated: ENOSPC, not the \"No packages found\" apt-get update's exit 0 leads to", async (t) => {
  if (!isRoot) return t.pass("skipped: a small tmpfs needs root for its mount namespace");
  // apt-get update says a list it could not write in a warning and exits 0; the host gate's first apt is the user-tier probe's emulator.
  const run = await gateWithFault(t, { args: hostGate, tmpfs: { size: "8m", leaveKiB: 40 } });
  await assertBroken(t, run, /^[^:]*\bqemu-user\b.*ENOSPC \(no space left on device\) writing \S+ \([\d.]+ (B|KiB) free of 8\.0 MiB on \S+\); free space there or set VFORKCHECK_CACHE/);
});

test("the cache's disk fills while clang links the driver (its linker dies of SIGBUS on a full tmpfs): ENOSPC, not a compile error", async (t) => {
  if (!isRoot) return t.pass("skipped: a small tmpfs needs root for its mount namespace");
  const run = await gateWithFault(t, { args: hostGate, tmpfs: { size: "140m", seed: [seedOf("apt", "bookworm-amd64"), seedOf("qemu-user")], leaveKiB: 40 } });
  await assertBroken(t, run, /^ENOSPC \(no space left on device\) writing \S+\/build\/\S+ \([\d.]+ KiB free of 140\.0 MiB on \S+\); free space there or set VFORKCHECK_CACHE/);
});

test("the cache's disk fills while arm64/system's initramfs is written: ENOSPC with where, and no partial initramfs left", async (t) => {
  if (!isRoot) return t.pass("skipped: a small tmpfs needs root for its mount namespace");
  // The kernel and the drivers' builds as set-up and a first run leave them; then room for less than the initramfs.
  const run = await gateWithFault(t, { args: systemGate, tmpfs: { size: "140m", seed: [seedOf("kernels", "arm64"), seedOf("qemu-user"), builds], leaveKiB: 32 }, deadlineMs: 120_000 });
  await assertBroken(t, run, /^ENOSPC \(no space left on device\) writing (\S+|a file in \S+) \([\d.]+ KiB free of 140\.0 MiB on \S+\); free space there or set VFORKCHECK_CACHE/);
});
