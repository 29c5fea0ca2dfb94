// The user tier's emulator is the pinned qemu-user-static in the cache, not
// the machine's qemu-user: its lock entry (kernels.lock.json `qemuUser`),
// each of the nine emulators bookworm's QEMU 7.2 of the locked version and
// statically linked (so it runs on any Debian release), the report naming
// it, and a lock or cache without it refused with one line.
// Set-up fetches it before ava starts (npm test), as for every run.
import test from "ava";
import { spawnSync } from "node:child_process";
import { openSync, readSync, closeSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { architectures, findArchitecture } from "../../src/architectures.ts";
import { readElfHeader } from "../../src/elf-header.ts";
import { formatLock, parseLock } from "../../src/kernel-lock.ts";
import { qemuUserBinary, qemuUserSource } from "../../harness/toolchain/qemu-user.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

const committed = parseLock(readFileSync("kernels.lock.json", "utf8"), "kernels.lock.json");
const locked = committed.qemuUser!;
const sha = (digit: string) => digit.repeat(64);
const pinned = { package: "qemu-user-static", version: "1:7.2+dfsg-7", suite: "bookworm", sha256: sha("f") };

test("the lock's qemuUser entry is written after the architectures and read back unchanged", (t) => {
  const text = formatLock({ architectures: committed.architectures, qemuUser: pinned });
  t.deepEqual(parseLock(text, "lock.json").qemuUser, pinned);
  t.true(text.indexOf('"architectures"') < text.indexOf('"qemuUser"'));
  t.is(parseLock(formatLock({ architectures: {} }), "lock.json").qemuUser, undefined, "an older lock without it still parses: kernels --update adds it");
});

for (const [why, qemuUser, message] of [
  ["that is not an object", "qemu-user-static", /^lock\.json: qemuUser: missing$/],
  ["without a version", { ...pinned, version: undefined }, /^lock\.json: qemuUser\.version: missing or not a string$/],
  ["with a short sha256", { ...pinned, sha256: "abc" }, /^lock\.json: qemuUser\.sha256: not 64 hex digits$/],
] as const) {
  test(`parseLock refuses a qemuUser ${why}, naming the field`, (t) => {
    t.throws(() => parseLock(JSON.stringify({ architectures: {}, qemuUser }), "lock.json"), { message });
  });
}

test("set-up refuses a lock without qemuUser with one line and exit 2", (t) => {
  const lock = join(scratchDirectory(t, "vfc-lock-"), "without-qemu-user.json");
  writeFileSync(lock, formatLock({ architectures: committed.architectures }));
  const run = spawnSync(process.execPath, ["--import=tsx", "harness/cli/setup.ts"], { encoding: "utf8", timeout: 600_000, env: { ...process.env, VFORKCHECK_KERNELS_LOCK: lock } });
  t.is(run.status, 2);
  t.regex(run.stderr, /^vforkcheck setup: \S+without-qemu-user\.json: no qemuUser entry, the user tier takes qemu-user-static from bookworm; run: npx vforkcheck kernels --update\n$/);
});

function firstBytes(path: string, count: number): Buffer {
  const bytes = Buffer.alloc(count);
  const descriptor = openSync(path, "r");
  try {
    readSync(descriptor, bytes, 0, count, 0);
  } finally {
    closeSync(descriptor);
  }
  return bytes;
}

test("every architecture's emulator is the locked bookworm qemu-user-static 7.2, from the cache, without a dynamic loader", (t) => {
  t.like(locked, qemuUserSource);
  for (const architecture of architectures) {
    const binary = qemuUserBinary(architecture);
    t.regex(binary, new RegExp(`/qemu-user/[^/]+/${architecture.qemuUser}-static$`), architecture.name);
    const header = readElfHeader(firstBytes(binary, 4096));
    t.like(header, { machine: 62, bits: 64, interpreter: false }, `${architecture.name}: an amd64 ELF with no PT_INTERP`);
    // "qemu-aarch64 version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)": QEMU's own name, and the package's version.
    const version = spawnSync(binary, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0]!;
    t.is(version.replace(/ version .*/, ""), architecture.qemuUser);
    t.true(version.startsWith(`${architecture.qemuUser} version 7.2.`) && version.endsWith(`(Debian ${locked.version})`), version);
  }
});

test.serial("without the pinned emulator in the cache, a user target's command is refused with one line naming set-up", (t) => {
  const saved = process.env.VFORKCHECK_CACHE;
  process.env.VFORKCHECK_CACHE = scratchDirectory(t, "vfc-empty-cache-");
  try {
    const error = t.throws(() => qemuUserBinary(findArchitecture("mips64le")!));
    t.regex(error!.message, /^qemu-mips64el: the pinned qemu-user-static \S+ is not in \S+\/qemu-user\/\S+; run: npx vforkcheck setup$/);
  } finally {
    if (saved === undefined) delete process.env.VFORKCHECK_CACHE;
    else process.env.VFORKCHECK_CACHE = saved;
  }
});

test("a gate report names the pinned qemu-user-static and its binary in the cache for a user target", (t) => {
  const report = join(scratchDirectory(t, "vfc-qemu-user-"), "gate.json");
  const run = spawnSync(process.execPath, ["--import=tsx", "harness/cli/vforkcheck.ts", "gate", "--arch", "mips64le", "--tier", "user", "--property", "parent-resumes", "--runs", "2", "--seed", "1", "--report", report], { encoding: "utf8", timeout: 300_000 });
  t.is(run.status, 0, run.stderr.slice(-2000));
  const target = (JSON.parse(readFileSync(report, "utf8")) as { targets: { target: string; qemu: unknown }[] }).targets.find((entry) => entry.target === "mips64le/user");
  t.deepEqual(target?.qemu, { binary: qemuUserBinary(findArchitecture("mips64le")!), package: locked.package, version: locked.version, suite: locked.suite, sha256: locked.sha256 });
});
