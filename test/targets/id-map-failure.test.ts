// When the parent cannot write a child's id maps (here the map "-1 0 1",
// which the kernel refuses with EINVAL), the reference spawn answers that
// errno and leaves nothing behind. It used to hang: the fork-style child
// kept its own copy of the pipe it waits on, so it never saw the parent give
// up. The generated cases never ask for an invalid map, so this is checked
// here, on this machine's amd64 reference driver, where the probe allows
// user namespaces to root.
import { spawn, spawnSync } from "node:child_process";
import test from "ava";
import { buildNative } from "../../harness/build/build.ts";
import { encodeItem, parseCapabilities, parseResult } from "../../src/protocol.ts";

const driver = await buildNative({ arch: "amd64", kind: "static" });
// The probe, not an assumption, says whether this machine lets the driver make user namespaces.
const capabilities = parseCapabilities(spawnSync(driver, ["--probe"], { encoding: "latin1", timeout: 20_000 }).stdout.trim());
const refused = [capabilities.cloneErrno.newuser, capabilities.unshareErrno.newuser].some((errno) => errno !== 0);
const title = "a refused id map is an EINVAL answer, not a hang, for CLONE_NEWUSER in clone and in unshare";

/** Runs the driver in a process group of its own; past the deadline the whole group is killed, a hung child with it. */
function runDriver(input: string, deadlineMs: number): Promise<{ output: string; hung: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(driver, ["--driver"], { detached: true, stdio: ["pipe", "pipe", "ignore"] });
    let output = "";
    let hung = false;
    child.stdout.setEncoding("latin1");
    child.stdout.on("data", (chunk: string) => (output += chunk));
    const timer = setTimeout(() => {
      hung = true;
      process.kill(-child.pid!, "SIGKILL");
    }, deadlineMs);
    child.on("close", () => {
      clearTimeout(timer);
      resolve({ output, hung });
    });
    child.stdin.end(input);
  });
}

(refused ? test.skip : test)(refused ? `${title} (skipped: the probe measured CLONE_NEWUSER refused here)` : title, async (t) => {
  const line = (id: number, clone: string, unshare: string) =>
    `case id=${id} path=${encodeItem(driver)} argv=${encodeItem("child")} env= clone=${clone} unshare=${unshare} setsid=0 setpgid=0 fds= uid=-1 gid=-1 memory=0`;
  const run = await runDriver(`${line(1, "10000000", "0")}\n${line(2, "0", "10000000")}\n`, 20_000);
  t.false(run.hung, "the driver answered before the deadline");
  const results = run.output.split("\n").filter((l) => l.startsWith("result ")).map(parseResult);
  t.is(results.length, 2);
  for (const result of results) {
    t.like(result, { outcome: "error", errno: 22, zombies: 0, liveChildren: 0, leakedDescriptors: 0 });
  }
});
