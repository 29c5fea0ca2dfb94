// No process outlives the harness, its builds included: what it starts through
// harness/process/dies-with-harness.ts dies with it even when it is SIGKILLed
// and has no chance to clean up, the command's own children too; and the
// build such a kill interrupted leaves no temporary after the next start.
import test from "ava";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { childProtection } from "../../harness/process/dies-with-harness.ts";
import { descendantsOf, waitUntilDead } from "../../harness/process/process-tree.ts";
import { snapshotProcesses, stillRunning } from "../helpers/process-snapshot.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The command line of a process, or "" once it is gone. */
function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Polls until `found` returns something or the deadline passes. */
async function waitFor<T>(found: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = found();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** SIGKILLs `pid`, then after a moment for the kernel's kills, the snapshot's processes still running. */
async function survivorsOfKill(pid: number, snapshot: ReturnType<typeof snapshotProcesses>): Promise<string[]> {
  process.kill(pid, "SIGKILL");
  waitUntilDead(snapshot.map((identity) => identity.pid), 5000);
  return stillRunning(snapshot);
}

test("a command started through the helper dies with a SIGKILLed harness, and so does its own child", async (t) => {
  const scratch = scratchDirectory(t, "vfc-children-");
  const script = join(scratch, "harness.ts");
  writeFileSync(script, [
    `import { spawnDyingWithHarness } from ${JSON.stringify(join(root, "harness/process/dies-with-harness.ts"))};`,
    // A child that starts a grandchild of its own and waits: neither ever ends by itself.
    `spawnDyingWithHarness("sh", ["-c", "sleep 300 & wait"], { stdio: "ignore" });`,
    `setInterval(() => {}, 1000);`,
  ].join("\n"));
  const harness = spawn(process.execPath, ["--import=tsx", script], { cwd: root, stdio: "ignore" });
  t.teardown(() => harness.kill("SIGKILL"));
  const sleeping = await waitFor(() => {
    const below = descendantsOf(harness.pid!);
    return below.some((pid) => commandOf(pid).startsWith("sleep 300")) ? below : undefined;
  }, 20_000);
  if (sleeping === undefined) {
    t.fail("the sleep never started below the harness");
    return;
  }
  // Without a PID namespace (no CAP_SYS_ADMIN) only the command itself is bound to the harness: its sleep may finish on its own.
  const grandchildrenToo = childProtection() === "pid-namespace";
  if (!grandchildrenToo) t.log(`no PID namespace here (${childProtection()}): only the command's own death is checked`);
  const snapshot = snapshotProcesses(sleeping.filter((pid) => grandchildrenToo || !commandOf(pid).startsWith("sleep")));
  t.deepEqual(await survivorsOfKill(harness.pid!, snapshot), []);
  t.teardown(() => { for (const pid of sleeping) { try { process.kill(pid, "SIGKILL"); } catch { /* gone */ } } });
});

test("SIGKILL of the gate while clang builds the driver leaves no process, and the next start removes the build's temporary with a line", async (t) => {
  t.timeout(120_000);
  const machineCache = process.env.VFORKCHECK_CACHE || join(process.env.XDG_CACHE_HOME || join(process.env.HOME ?? "/root", ".cache"), "vforkcheck");
  const cache = mkdtempSync(join(tmpdir(), "vfc-children-cache-"));
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  // The pinned emulators the gate checks first, copied: the build is what is to be interrupted, not a download.
  if (existsSync(join(machineCache, "qemu-user"))) cpSync(join(machineCache, "qemu-user"), join(cache, "qemu-user"), { recursive: true, preserveTimestamps: true });
  const env = { ...process.env, VFORKCHECK_CACHE: cache };
  const gate = spawn(process.execPath, ["--import=tsx", "harness/cli/vforkcheck.ts", "gate", "--tier", "host", "--arch", "amd64", "--runs", "1", "--report", join(cache, "gate.json")], { cwd: root, env, stdio: "ignore" });
  t.teardown(() => gate.kill("SIGKILL"));
  const building = await waitFor(() => {
    const below = descendantsOf(gate.pid!);
    return below.some((pid) => /(^|\/)clang-19 .*--target=/.test(commandOf(pid))) ? below : undefined;
  }, 90_000);
  if (building === undefined) {
    t.fail("no clang started below the gate within 90 s");
    return;
  }
  const snapshot = snapshotProcesses(building);
  t.deepEqual(await survivorsOfKill(gate.pid!, snapshot), [], `the processes below the gate: ${snapshot.map((identity) => identity.command).join("; ")}`);

  const build = join(cache, "build");
  const left = readdirSync(build).filter((name) => name.startsWith(".tmp-"));
  t.true(left.length > 0, "the killed build left no scratch directory: nothing for the next start to remove");
  const next = spawn(process.execPath, ["--import=tsx", "--input-type=module", "-e", `
    const { buildNative } = await import(${JSON.stringify(join(root, "harness/build/build.ts"))});
    await buildNative({ arch: "amd64", kind: "selftest" });
  `], { cwd: root, env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  next.stderr.on("data", (chunk) => { stderr += chunk; });
  const status = await new Promise((resolve) => next.on("close", resolve));
  t.is(status, 0, stderr);
  t.deepEqual(readdirSync(build).filter((name) => name.startsWith(".tmp-")), []);
  t.regex(stderr, new RegExp(`removed \\d+ temporar(y|ies) left in ${build.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} by a killed run: \\.tmp-`));
});
