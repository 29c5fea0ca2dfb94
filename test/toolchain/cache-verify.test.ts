// Every cache entry is checked when it is used: a corrupt one is found, removed
// with one line, and fetched or built again. In a private cache (this file's
// own VFORKCHECK_CACHE, set before the harness is loaded): the kernel entry is
// a copy of the machine's, and the private apt starts from a copy of the
// machine's package lists, so only the one .deb is downloaded again.
import test from "ava";
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";

const machineCache = process.env.VFORKCHECK_CACHE || join(process.env.XDG_CACHE_HOME || join(process.env.HOME ?? "/root", ".cache"), "vforkcheck");
const privateCache = mkdtempSync(join(tmpdir(), "vfc-cache-verify-"));
process.env.VFORKCHECK_CACHE = privateCache;
test.after.always(() => rmSync(privateCache, { recursive: true, force: true }));

// Loaded inside the tests (ava wants every test declared synchronously), after VFORKCHECK_CACHE is set.
const harness = async () => ({
  ...(await import("../../harness/toolchain/cache-entry.ts")),
  ...(await import("../../harness/toolchain/debian-archive.ts")),
  ...(await import("../../harness/toolchain/kernels.ts")),
  ...(await import("../../harness/build/build.ts")),
  ...(await import("../../src/architectures.ts")),
});

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** Flips every bit of 4 KiB in the middle of the file, keeping its size and modification time. */
function flipRegion(path: string): void {
  const { size, atime, mtime } = statSync(path);
  const offset = Math.floor(size / 2);
  const region = readFileSync(path).subarray(offset, offset + 4096).map((byte) => byte ^ 0xff);
  const descriptor = openSync(path, "r+");
  writeSync(descriptor, region, 0, region.length, offset);
  closeSync(descriptor);
  // The time put back as the manifest has it: only the hash can tell.
  utimesSync(path, atime, mtime);
}

test("an entry is usable while whole, its times changed too; truncated, or bit-flipped with its time kept, it is removed with one line naming the file", async (t) => {
  const { buildAtomically, usableEntry, hashEveryFile, forgetVerifiedEntries } = await harness();
  const entry = join(privateCache, "scratch-entries", "one");
  // A whole second, as tar extracts it: flipRegion can put back exactly that time.
  const build = (content: Buffer) => buildAtomically(entry, async (_scratch, output) => {
    writeFileSync(join(output, "blob"), content);
    utimesSync(join(output, "blob"), 1_700_000_000, 1_700_000_000);
  });
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const content = Buffer.alloc(64 * 1024, 7);

  await build(content);
  t.true(await usableEntry(entry, "the test entry", hashEveryFile, log));
  t.deepEqual(lines, []);

  // A copy of the cache changes times, not bytes: a hashed file is judged by its content.
  forgetVerifiedEntries();
  utimesSync(join(entry, "blob"), 1_700_000_000.123, 1_700_000_000.123);
  t.true(await usableEntry(entry, "the test entry", hashEveryFile, log));
  t.deepEqual(lines, []);

  forgetVerifiedEntries();
  truncateSync(join(entry, "blob"), 1000);
  t.false(await usableEntry(entry, "the test entry", hashEveryFile, log));
  t.false(existsSync(entry));
  t.is(lines.length, 1);
  t.regex(lines[0]!, /^the test entry: the cache entry .*\/one is corrupt \(blob has 1000 bytes, 65536 were written\): removed/);

  await build(content);
  forgetVerifiedEntries();
  flipRegion(join(entry, "blob"));
  t.false(await usableEntry(entry, "the test entry", hashEveryFile, log));
  t.regex(lines[1]!, /blob has sha256 [0-9a-f]{16}\.\.\., [0-9a-f]{16}\.\.\. was written/);
  t.false(existsSync(entry));
});

test("of two processes building one entry at once, the later keeps the earlier's in place: never moved aside while it may be in use", async (t) => {
  const { buildAtomically, usableEntry, hashEveryFile, forgetVerifiedEntries } = await harness();
  const entry = join(privateCache, "scratch-entries", "raced");
  let placed!: () => void;
  const earlierPlaced = new Promise<void>((resolve) => (placed = resolve));
  const later = buildAtomically(entry, async (_scratch, output) => {
    await earlierPlaced;
    writeFileSync(join(output, "blob"), "the later build's\n");
  });
  await buildAtomically(entry, async (_scratch, output) => writeFileSync(join(output, "blob"), "the earlier build's\n"));
  const held = openSync(join(entry, "blob"), "r");
  placed();
  // Until the later build ends, the earlier's entry stays at its name.
  let vanished = false;
  const watch = setInterval(() => (vanished ||= !existsSync(join(entry, "blob"))), 1);
  await later;
  clearInterval(watch);
  closeSync(held);
  t.false(vanished);
  t.is(readFileSync(join(entry, "blob"), "utf8"), "the earlier build's\n");
  forgetVerifiedEntries();
  t.true(await usableEntry(entry, "the raced entry", hashEveryFile, () => {}));
  t.deepEqual(readdirSync(join(privateCache, "scratch-entries")).filter((name) => name.startsWith(".tmp-")), []);
});

test("an entry made before manifests is adopted once, with a line; a later change to it is then found", async (t) => {
  const { usableEntry, hashEveryFile, forgetVerifiedEntries } = await harness();
  const entry = join(privateCache, "scratch-entries", "legacy");
  mkdirSync(entry, { recursive: true });
  writeFileSync(join(entry, "file"), "made by an older version\n");
  const lines: string[] = [];
  t.true(await usableEntry(entry, "the legacy entry", hashEveryFile, (line) => lines.push(line)));
  t.regex(lines[0]!, /recorded the sizes and hashes of .*\/legacy \(made before the cache checked its entries\)/);
  forgetVerifiedEntries();
  writeFileSync(join(entry, "file"), "made by an older version, then changed\n");
  t.false(await usableEntry(entry, "the legacy entry", hashEveryFile, (line) => lines.push(line)));
  t.regex(lines[1]!, /file has \d+ bytes, 25 were written/);
});

test("temporaries of a dead process are swept with one line; a live process's, and a recent one of another PID namespace's, stay", async (t) => {
  const { sweepStaleTemporaries } = await harness();
  const directory = join(privateCache, "scratch-temporaries");
  mkdirSync(directory, { recursive: true });
  // A pid far above pid_max's default is never running; this process is.
  const dead = 4_000_000;
  // Names carry the PID namespace too: a dead pid of this one is swept; another namespace's pid cannot be checked from here
  // (a container sharing the cache), so its temporary stays unless it is a day old.
  const here = /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))![1]!;
  const elsewhere = String(Number(here) + 1);
  const names = [`.tmp-static-abc-${dead}-Xy12Zw`, `initramfs-amd64-0123.cpio.${dead}p${here}.tmp`, `.tmp-static-abc-${process.ppid}p${here}-Ab34Cd`, `.tmp-static-abc-${dead}p${elsewhere}-Ef56Gh`, `.tmp-static-old-${dead}p${elsewhere}-Ij78Kl`, "kept-entry"];
  for (const name of names) mkdirSync(join(directory, name));
  const dayAndMore = (Date.now() - 25 * 3_600_000) / 1000;
  utimesSync(join(directory, names[4]!), dayAndMore, dayAndMore);
  const lines: string[] = [];
  await sweepStaleTemporaries(directory, (line) => lines.push(line));
  t.deepEqual(readdirSync(directory).sort(), [names[3]!, names[2]!, "kept-entry"].sort());
  t.is(lines.length, 1);
  t.regex(lines[0]!, /^removed 3 temporaries left in .* by a killed run: /);
});

test("a built driver cut short in the cache is found at its next use and built again", async (t) => {
  const { buildNative, forgetVerifiedEntries } = await harness();
  const first = await buildNative({ arch: "amd64", kind: "selftest" });
  const whole = sha256(first);
  truncateSync(first, 100);
  forgetVerifiedEntries();
  const again = await buildNative({ arch: "amd64", kind: "selftest" });
  t.is(again, first);
  t.is(sha256(again), whole);
});

for (const fault of ["truncated", "bit-flipped"] as const) {
  test.serial(`a ${fault} kernel in the cache is found at use, removed with one line, fetched again, and the image's sha256 is the file's`, async (t) => {
    t.timeout(120_000);
    const { ensureKernel, findArchitecture, forgetVerifiedEntries, sha256OfFile } = await harness();
    const { provenanceOf } = await import("../../harness/targets/target-provenance.ts");
    const architecture = findArchitecture("s390x")!;
    const machineEntry = join(machineCache, "kernels", "s390x");
    const lists = join(machineCache, "apt", `${architecture.system.kernel.suite}-${architecture.system.kernel.debianArchitecture}`);
    if (!existsSync(join(machineEntry, "kernel")) || !existsSync(lists)) {
      t.fail(`the machine's cache has no s390x kernel or package lists in ${machineCache}; run: npx vforkcheck setup --system`);
      return;
    }
    const entry = join(privateCache, "kernels", "s390x");
    rmSync(entry, { recursive: true, force: true });
    cpSync(machineEntry, entry, { recursive: true, preserveTimestamps: true });
    rmSync(join(entry, "manifest.json"), { force: true });
    cpSync(lists, join(privateCache, "apt", `${architecture.system.kernel.suite}-${architecture.system.kernel.debianArchitecture}`), { recursive: true });
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    forgetVerifiedEntries();
    const before = await ensureKernel(architecture, log);
    t.false(before.downloaded);
    const original = sha256(before.path);
    // Copied without its manifest, as an older version left it: adopted, the file's hash taken from what is there.
    t.is(before.file?.sha256, original);

    if (fault === "truncated") truncateSync(before.path, Math.floor(statSync(before.path).size / 2));
    else flipRegion(before.path);
    forgetVerifiedEntries();
    const after = await ensureKernel(architecture, log);
    const corrupt = lines.filter((line) => line.includes("is corrupt"));
    t.is(corrupt.length, 1, lines.join("\n"));
    t.regex(corrupt[0]!, fault === "truncated" ? /kernel for s390x: the cache entry .*kernels\/s390x is corrupt \(kernel has \d+ bytes, \d+ were written\): removed/ : /kernel has sha256 [0-9a-f]{16}\.\.\., [0-9a-f]{16}\.\.\. was written/);
    t.true(after.downloaded);
    t.is(sha256(after.path), original);
    t.deepEqual(after.file, { sha256: original, size: statSync(after.path).size });
    t.deepEqual(readdirSync(join(privateCache, "kernels")).filter((name) => name.startsWith(".tmp-")), []);
    t.is(await sha256OfFile(after.path), original);
    // What the report says the VM booted: the file's own sha256 beside the package's.
    const provenance = await provenanceOf({ architecture, tier: "system" });
    t.like(provenance.kernel, { package: after.packageName, sha256: after.sha256, file: { sha256: original } });
  });
}
