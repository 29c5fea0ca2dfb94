// Two gates started at once on one empty cache stay correct: both build what
// they need (racing to rename the same build into place), both give the same
// verdict, and the cache they leave holds whole entries and no temporaries.
import test from "ava";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { usableEntry, hashEveryFile } from "../../harness/toolchain/cache-entry.ts";
import { gateCli } from "../helpers/gate-cli.ts";

test("two host gates at once on one empty cache: the same verdicts, whole entries, no temporaries", async (t) => {
  t.timeout(240_000);
  const machineCache = process.env.VFORKCHECK_CACHE || join(process.env.XDG_CACHE_HOME || join(process.env.HOME ?? "/root", ".cache"), "vforkcheck");
  const cache = mkdtempSync(join(tmpdir(), "vfc-shared-cache-"));
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  // The pinned emulators (a 380 MB download) copied: the builds are what the gates share here.
  if (existsSync(join(machineCache, "qemu-user"))) cpSync(join(machineCache, "qemu-user"), join(cache, "qemu-user"), { recursive: true, preserveTimestamps: true });
  // gateCli's gates inherit this file's environment (each test file is a process of its own).
  process.env.VFORKCHECK_CACHE = cache;
  const args = ["--tier", "host", "--arch", "amd64", "--property", "errno-propagates", "--runs", "5", "--seed", "1"];
  const [first, second] = await Promise.all([gateCli(t, args, 200_000), gateCli(t, args, 200_000)]);
  for (const run of [first, second]) {
    t.is(run.status, 0, run.output);
    t.true(run.results.length >= 1, run.output);
  }
  const verdicts = (run: typeof first) => run.results.map((result) => `${result.target} ${result.property} ${result.status}`).sort();
  t.deepEqual(verdicts(first), verdicts(second));

  const build = join(cache, "build");
  const entries = readdirSync(build);
  t.deepEqual(entries.filter((name) => name.startsWith(".tmp-") || name.endsWith(".tmp")), []);
  const corrupt: string[] = [];
  for (const name of entries.filter((entry) => !entry.endsWith(".cpio"))) {
    if (!(await usableEntry(join(build, name), name, hashEveryFile, (line) => corrupt.push(line)))) corrupt.push(name);
  }
  t.deepEqual(corrupt.filter((line) => !line.includes("recorded the sizes")), []);
});
