// kernels.lock.json: the pure decisions (parse, format, locked or substituted),
// the committed lock against the architecture table, a second set-up that
// runs no apt at all, and a gate report naming the exact kernel and QEMU.
import test from "ava";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { architectures } from "../../src/architectures.ts";
import { cacheDirectory } from "../../harness/toolchain/debian-archive.ts";
import { checkLockMatchesRow, findLockedVersion, formatLock, parseLock, substitution, type KernelLock } from "../../src/kernel-lock.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

const sha = (digit: string) => digit.repeat(64);
const riscv64 = { package: "linux-image-6.12.117+deb13-riscv64", version: "6.12.117-1", suite: "trixie", sha256: sha("a"), metapackage: "linux-image-riscv64" };
const sample: KernelLock = {
  architectures: {
    riscv64: { kernel: riscv64 },
    loong64: { kernel: { ...riscv64, metapackage: "linux-image-loong64", package: "linux-binary-7.2.12+deb14-loong64", version: "7.2.12-1", suite: "forky", sha256: sha("b") }, qemu: { package: "qemu-system-misc", version: "1:10.0.2", suite: "bookworm-backports", sha256: sha("c") } },
  },
};

test("formatLock sorts architectures and fields, and parseLock reads it back unchanged", (t) => {
  const text = formatLock(sample);
  t.deepEqual(parseLock(text, "lock.json"), sample);
  t.is(formatLock(parseLock(text, "lock.json")), text);
  t.true(text.indexOf('"loong64"') < text.indexOf('"riscv64"'));
  t.true(text.indexOf('"metapackage"') < text.indexOf('"package"') && text.indexOf('"package"') < text.indexOf('"sha256"'));
  t.true(text.endsWith("}\n"));
});

for (const [why, text, message] of [
  ["not JSON", "{", /^lock\.json: not JSON/],
  ["no architectures", "{}", /^lock\.json: no "architectures" object$/],
  ["no version", JSON.stringify({ architectures: { arm: { kernel: { ...riscv64, version: undefined } } } }), /^lock\.json: architectures\.arm\.kernel\.version: missing/],
  ["a short sha256", JSON.stringify({ architectures: { arm: { kernel: { ...riscv64, sha256: "abc" } } } }), /architectures\.arm\.kernel\.sha256: not 64 hex digits/],
  ["a qemu without a suite", JSON.stringify({ architectures: { arm: { kernel: riscv64, qemu: { package: "q", version: "1", sha256: sha("c") } } } }), /architectures\.arm\.qemu\.suite: missing/],
] as const) {
  test(`parseLock refuses ${why}, naming the file and field`, (t) => {
    t.throws(() => parseLock(text, "lock.json"), { message });
  });
}

test("findLockedVersion: the locked version when served, none when gone, an error when its sha256 changed", (t) => {
  const served = [{ version: "6.12.117-1", sha256: sha("a"), id: 1 }, { version: "6.12.120-1", sha256: sha("d"), id: 2 }];
  t.is(findLockedVersion(riscv64, served)?.id, 1);
  t.is(findLockedVersion(riscv64, served.slice(1)), undefined);
  t.is(findLockedVersion(riscv64, []), undefined);
  t.throws(() => findLockedVersion(riscv64, [{ version: "6.12.117-1", sha256: sha("e") }]), { message: /6\.12\.117-1: the signed index of trixie gives sha256 e+, the lock a+$/ });
});

test("substitution: one line naming the locked and the used version, and the record the report carries", (t) => {
  const same = substitution("riscv64", riscv64, { package: riscv64.package, version: "6.12.120-1" });
  t.is(same.line, "riscv64: locked linux-image-6.12.117+deb13-riscv64 6.12.117-1 is no longer served; using 6.12.120-1");
  t.deepEqual(same.substituted, { locked: { package: riscv64.package, version: "6.12.117-1" }, used: { package: riscv64.package, version: "6.12.120-1" } });
  const renamed = substitution("riscv64", riscv64, { package: "linux-image-6.12.120+deb13-riscv64", version: "6.12.120-1" });
  t.is(renamed.line, "riscv64: locked linux-image-6.12.117+deb13-riscv64 6.12.117-1 is no longer served; using linux-image-6.12.120+deb13-riscv64 6.12.120-1");
});

test("the committed kernels.lock.json pins all nine architectures' kernels for what their rows ask, and loong64's QEMU", (t) => {
  const lock = parseLock(readFileSync("kernels.lock.json", "utf8"), "kernels.lock.json");
  t.deepEqual(Object.keys(lock.architectures).sort(), architectures.map((a) => a.name).sort());
  for (const architecture of architectures) {
    const entry = lock.architectures[architecture.name]!;
    t.notThrows(() => checkLockMatchesRow(architecture.name, entry.kernel, architecture.system.kernel), architecture.name);
    t.is(entry.qemu?.suite, architecture.system.qemuSuite, `${architecture.name}: a qemu entry exactly when set-up downloads its QEMU`);
  }
  t.throws(() => checkLockMatchesRow("riscv64", riscv64, { package: "linux-image-riscv64", suite: "forky" }), { message: /kernels --update --arch riscv64/ });
  t.is(formatLock(lock), readFileSync("kernels.lock.json", "utf8"), "the committed file is in formatLock's stable form");
});

function setup(path: string, environment: Record<string, string> = {}) {
  return spawnSync(process.execPath, ["--import=tsx", "harness/cli/setup.ts", "--system=amd64"], { encoding: "utf8", timeout: 600_000, env: { ...process.env, PATH: path, ...environment } });
}

/**
 * What set-up said after installing what was missing: on a machine without
 * qemu-system-x86, set-up installs it first (apt's output, then its
 * "installed" line) and only then reads the lock, so the refusal is what
 * follows the last "installed" line, or all of stderr when nothing was missing.
 */
function afterInstalling(stderr: string): string {
  const installed = [...stderr.matchAll(/^vforkcheck setup: installed [^\n]*\n/gm)].at(-1);
  return installed === undefined ? stderr : stderr.slice(installed.index! + installed[0].length);
}

test("what set-up says after a fresh machine's install is its own line alone", (t) => {
  const refusal = "vforkcheck setup: kernels.lock.json: amd64: locked x\n";
  t.is(afterInstalling(refusal), refusal);
  const fresh = ["vforkcheck setup: missing qemu-system-x86_64: installing qemu-system-x86", "Reading package lists...", "vforkcheck setup: installed qemu-system-x86", ""].join("\n");
  t.is(afterInstalling(fresh + refusal), refusal);
});

test("set-up refuses a malformed lock, and one whose entry is for another flavour, with one line and exit 2", (t) => {
  const directory = scratchDirectory(t, "vfc-lock-");
  const malformed = join(directory, "malformed.json");
  writeFileSync(malformed, JSON.stringify({ architectures: { amd64: { kernel: { package: "linux-image-x" } } } }));
  const refused = setup(process.env.PATH ?? "", { VFORKCHECK_KERNELS_LOCK: malformed });
  t.is(refused.status, 2);
  t.regex(afterInstalling(refused.stderr), /^vforkcheck setup: .*malformed\.json: architectures\.amd64\.kernel\.version: missing or not a string\n$/);
  const stale = join(directory, "stale.json");
  const lock = parseLock(readFileSync("kernels.lock.json", "utf8"), "kernels.lock.json");
  lock.architectures.amd64!.kernel.metapackage = "linux-image-amd64-rt";
  writeFileSync(stale, formatLock(lock));
  const mismatched = setup(process.env.PATH ?? "", { VFORKCHECK_KERNELS_LOCK: stale });
  t.is(mismatched.status, 2);
  t.regex(afterInstalling(mismatched.stderr), /^vforkcheck setup: kernels\.lock\.json: amd64: locked linux-image-amd64-rt from bookworm, but src\/architectures\.ts asks for linux-image-amd64 from bookworm; run: npx vforkcheck kernels --update --arch amd64\n$/);
});

test("a second set-up of amd64 prints nothing and starts no apt at all", (t) => {
  const first = setup(process.env.PATH ?? "");
  t.is(first.status, 0, first.stderr);
  // apt-get and apt-cache that record being started and fail.
  const fake = scratchDirectory(t, "vfc-fake-apt-");
  const called = join(fake, "called");
  for (const command of ["apt-get", "apt-cache"]) {
    writeFileSync(join(fake, command), `#!/bin/sh\necho "$0 $*" >> ${called}\nexit 1\n`);
    chmodSync(join(fake, command), 0o755);
  }
  const second = setup(`${fake}:${process.env.PATH ?? ""}`);
  t.is(second.status, 0, second.stderr);
  t.is(second.stderr, "");
  t.false(existsSync(called), existsSync(called) ? readFileSync(called, "utf8") : "");
});

test("a gate report names the locked kernel and the QEMU package of a system target, the host kernel of a host one", (t) => {
  const report = join(scratchDirectory(t, "vfc-lock-"), "gate.json");
  const run = spawnSync(process.execPath, ["--import=tsx", "harness/cli/vforkcheck.ts", "gate", "--arch", "arm64,amd64", "--tier", "system,host", "--no-in-process", "--property", "parent-resumes", "--runs", "2", "--seed", "1", "--report", report], { encoding: "utf8", timeout: 300_000 });
  t.is(run.status, 0, run.stderr.slice(-2000));
  const targets = (JSON.parse(readFileSync(report, "utf8")) as { targets: { target: string; kernel: unknown; qemu: { binary: string; package: string; version: string } | null; toolchain: { native: string } }[] }).targets;
  const locked = parseLock(readFileSync("kernels.lock.json", "utf8"), "kernels.lock.json").architectures.arm64!.kernel;
  const system = targets.find((target) => target.target === "arm64/system")!;
  // The package as locked, and the file the VM booted as it is on disk (hashed here, not taken from the harness's record).
  const bootedFile = readFileSync(join(cacheDirectory(), "kernels", "arm64", "kernel"));
  const file = { sha256: createHash("sha256").update(bootedFile).digest("hex"), size: bootedFile.length };
  t.deepEqual(system.kernel, { package: locked.package, version: locked.version, sha256: locked.sha256, suite: locked.suite, file });
  const installed = spawnSync("dpkg-query", ["-W", "-f=${Version}", "qemu-system-arm"], { encoding: "utf8" }).stdout;
  t.like(system.qemu, { package: "qemu-system-arm", version: installed });
  t.regex(system.qemu!.binary, /qemu-system-aarch64$/);
  const host = targets.find((target) => target.target === "amd64/host")!;
  t.regex(host.kernel as string, /^host kernel \d/);
  t.is(host.qemu, null);
  for (const target of targets) t.regex(target.toolchain.native, /clang version 19/, target.target);
});
