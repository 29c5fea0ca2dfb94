// Two gates started at once on one empty cache stay correct: both build what
// they need (racing to rename the same build into place), both give the same
// verdict, and the cache they leave holds whole entries and no temporaries.
// On the host tier they share the builds; on arm64/system also the private
// apt lists (one apt-get waits for the other's lock), the kernel's download
// and the initramfs.
import test, { type ExecutionContext } from "ava";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { usableEntry, hashEveryFile } from "../../harness/toolchain/cache-entry.ts";
import { gateCli } from "../helpers/gate-cli.ts";

const machineCache = process.env.VFORKCHECK_CACHE || join(process.env.XDG_CACHE_HOME || join(process.env.HOME ?? "/root", ".cache"), "vforkcheck");

/** An empty cache for this file's gates, but for the pinned emulators (a 380 MB download, which neither test is about). */
function emptyCache(t: ExecutionContext): string {
  const cache = mkdtempSync(join(tmpdir(), "vfc-shared-cache-"));
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  for (const emulators of ["qemu-user", "qemu"]) {
    if (existsSync(join(machineCache, emulators))) cpSync(join(machineCache, emulators), join(cache, emulators), { recursive: true, preserveTimestamps: true });
  }
  return cache;
}

/** Two gates at once on `cache`: both exit 0 with the same verdicts; what they left in the cache is whole and no temporary. */
async function twoGatesAtOnce(t: ExecutionContext, cache: string, args: readonly string[], deadlineMs: number): Promise<void> {
  // gateCli's gates take the cache from the environment (each test file is a process of its own; its tests are serial).
  process.env.VFORKCHECK_CACHE = cache;
  const [first, second] = await Promise.all([gateCli(t, args, deadlineMs), gateCli(t, args, deadlineMs)]);
  for (const run of [first, second]) {
    t.is(run.status, 0, run.output);
    t.true(run.results.length >= 1, run.output);
    t.log(`gate: ${run.seconds} s`);
  }
  const verdicts = (run: typeof first) => run.results.map((result) => `${result.target} ${result.property} ${result.status}`).sort();
  t.deepEqual(verdicts(first), verdicts(second));

  const everything = readdirSync(cache, { recursive: true, encoding: "utf8" });
  t.deepEqual(everything.filter((name) => /(^|\/)\.tmp-|\.tmp(-|$)|\.tmp\./.test(name)), [], "no temporary left in the cache");
  const build = join(cache, "build");
  const corrupt: string[] = [];
  for (const name of readdirSync(build)) {
    if (name.endsWith(".cpio")) {
      // An initramfs is named by its content's digest.
      const digest = createHash("sha256").update(readFileSync(join(build, name))).digest("hex");
      if (!name.endsWith(`-${digest.slice(0, 16)}.cpio`)) corrupt.push(`${name}: content ${digest.slice(0, 16)}`);
    } else if (!(await usableEntry(join(build, name), name, hashEveryFile, (line) => corrupt.push(line)))) corrupt.push(name);
  }
  for (const name of existsSync(join(cache, "kernels")) ? readdirSync(join(cache, "kernels")) : []) {
    if (!(await usableEntry(join(cache, "kernels", name), `kernel ${name}`, hashEveryFile, (line) => corrupt.push(line)))) corrupt.push(`kernels/${name}`);
  }
  t.deepEqual(corrupt.filter((line) => !line.includes("recorded the sizes")), []);
}

test.serial("two host gates at once on one empty cache: the same verdicts, whole entries, no temporaries", async (t) => {
  t.timeout(240_000);
  await twoGatesAtOnce(t, emptyCache(t), ["--tier", "host", "--arch", "amd64", "--property", "errno-propagates", "--runs", "5", "--seed", "1"], 200_000);
});

test.serial("two arm64/system gates at once on one empty cache: the same verdicts, the kernel in place, whole entries, no temporaries", async (t) => {
  t.timeout(480_000);
  const cache = emptyCache(t);
  await twoGatesAtOnce(t, cache, ["--tier", "system", "--arch", "arm64", "--property", "errno-propagates", "--runs", "3", "--seed", "1"], 420_000);
  t.true(existsSync(join(cache, "kernels", "arm64")), "the kernel came into this cache");
});
