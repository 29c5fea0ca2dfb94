// The Node reproducers under docs/findings/ run without vforkcheck, on a
// registry Node as if it were installed: node@18 (amd64) with its /usr laid
// over this machine's in a mount namespace of the test's own (its libnode
// reads /usr/share/nodejs by absolute path). node-libuv-enoexec-shell shows
// the bug there (exit 1); node-libuv-spawn-pipe-abort does not (exit 0: libuv
// 1.44 forks). Node 24, where the abort shows, is not fetched for npm test;
// docs/findings/node-libuv-spawn-pipe-abort/finding.json has its measurement.
import test from "ava";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { findArchitecture } from "../../src/architectures.ts";
import { findRelease } from "../../src/runtime-releases.ts";
import { catalogueDirectory } from "../../harness/run/findings.ts";
import { ensureRelease } from "../../harness/toolchain/runtime-releases.ts";

/** `node reproducer.cjs` in the finding's directory, with node@18's /usr over this machine's (private mounts, gone with the process). */
async function runInstalled(finding: string): Promise<{ status: number | null; output: string }> {
  const { root } = await ensureRelease(findRelease("node", "18")!, findArchitecture("amd64")!);
  const script = 'mount -t overlay vforkcheck-userland -o "lowerdir=$1/usr:/usr" /usr && exec /usr/bin/node reproducer.cjs';
  const run = spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, "sh", root], { cwd: join(catalogueDirectory, finding), encoding: "utf8", timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test("node-libuv-enoexec-shell: node@18 runs the file through /bin/sh (exit 1)", async (t) => {
  const run = await runInstalled("node-libuv-enoexec-shell");
  t.is(run.status, 1, run.output);
  t.regex(run.output, /libuv 1\.44\.2: .*\n.*spawn succeeded: the child exited 127 \(the file ran through \/bin\/sh\)/);
});

test("node-libuv-spawn-pipe-abort: node@18 forks and is not aborted (exit 0)", async (t) => {
  const run = await runInstalled("node-libuv-spawn-pipe-abort");
  t.is(run.status, 0, run.output);
  t.regex(run.output, /the child exited 0; the parent was not aborted/);
});
