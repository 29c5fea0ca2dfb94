// The glibc and musl drivers are built from the pinned release alone: the
// link line names no file outside the release's unpacked root, clang's
// resource headers and the build's own directory; a build is found again by
// content (no second compile), and its key moves with any pinned package; a
// target the lock marks unavailable is the adapter's TargetUnavailableError
// with the lock's reason, before anything is fetched. musl's driver builds
// for a 32-bit architecture too (its syscall names differ there). The hellos say which
// libc and how its errno travels; only glibc >= 2.39 lists pidfd.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import test from "ava";
import { findArchitecture } from "../../src/architectures.ts";
import { findRelease, type RuntimeRelease } from "../../src/runtime-releases.ts";
import { buildLibcDriver, libcCacheKey, type LibcRuntime } from "../../harness/build/libc-driver.ts";
import { compilerRunCount } from "../../harness/build/build.ts";
import { clangCommand } from "../../harness/toolchain/clang.ts";
import { ensureRelease } from "../../harness/toolchain/runtime-releases.ts";
import { TargetUnavailableError } from "../../harness/implementations/adapter.ts";
import { glibcImplementation } from "../../harness/implementations/glibc.ts";
import { muslImplementation } from "../../harness/implementations/musl.ts";

const amd64 = findArchitecture("amd64")!;
const release = (runtime: LibcRuntime, version: string) => findRelease(runtime, version) as RuntimeRelease & { runtime: LibcRuntime };
const resourceDirectory = spawnSync(clangCommand, ["-print-resource-dir"], { encoding: "utf8" }).stdout.trim();

function hello(program: string): string {
  return spawnSync(program, ["--driver"], { input: "", encoding: "utf8" }).stdout.split("\n")[0]!;
}

for (const [runtime, version] of [["glibc", "2.36"], ["musl", "1.2.3"]] as const) {
  test.serial(`${runtime}@${version}: every file the link reads is the release's, clang's or the build's own`, async (t) => {
    const program = await buildLibcDriver(release(runtime, version), amd64);
    const root = (await ensureRelease(release(runtime, version), amd64)).root;
    const command = readFileSync(join(dirname(program), "build.log"), "utf8").split("\n")[0]!.split(" ");
    const paths = command.slice(1).filter((word) => word.startsWith("/"));
    t.true(paths.length > 8, command.join(" "));
    const temporary = paths.find((path) => path.includes(".tmp-"))!.replace(/(\.tmp-[^/]+).*/, "$1");
    for (const path of paths) t.true(path.startsWith(`${root}/`) || path.startsWith(`${resourceDirectory}/`) || path.startsWith(temporary), path);
    for (const needed of ["crt1.o", "crti.o", "crtn.o", "libc.a", "libgcc.a", "libgcc_eh.a"]) t.true(paths.some((path) => path.endsWith(`/${needed}`) && path.startsWith(root)), needed);
    t.true(command.includes("-nostdinc") && command.includes("-nostdlib") && command.includes("-static"));
    // Found again by content: no compiler run.
    const compiles = compilerRunCount();
    t.is(await buildLibcDriver(release(runtime, version), amd64), program);
    t.is(compilerRunCount(), compiles);
  });
}

test.serial("the hellos: glibc's errno through shared memory, musl's through a pipe; pidfd only from glibc 2.39 on", async (t) => {
  const glibc236 = hello(await buildLibcDriver(release("glibc", "2.36"), amd64));
  const glibc241 = hello(await buildLibcDriver(release("glibc", "2.41"), amd64));
  const musl = hello(await buildLibcDriver(release("musl", "1.2.3"), amd64));
  t.regex(glibc236, /impl=glibc .*errno_channel=shared_memory/);
  t.notRegex(glibc236, /features=\S*pidfd/);
  t.regex(glibc241, /features=\S*,pidfd/);
  t.regex(musl, /impl=musl .*errno_channel=pipe/);
  t.notRegex(musl, /features=\S*pidfd/);
});

test("musl's driver builds for a 32-bit architecture, where musl names clock_nanosleep by its time_t's width", async (t) => {
  const program = await buildLibcDriver(release("musl", "1.2.3"), findArchitecture("386")!);
  t.regex(readFileSync(join(dirname(program), "build.log"), "utf8").split("\n")[0]!, /--target=i686-linux-gnu /);
});

test("the cache key moves with a pinned package, the flags' target and the clang", async (t) => {
  const root = { release: release("glibc", "2.36"), root: "/r", packages: [{ packageName: "libc6-dev-amd64-cross", version: "2.36-8cross1", sha256: "a".repeat(64), suite: "bookworm" }] };
  const sources = [Buffer.from("driver"), Buffer.from("codec"), Buffer.from("header")];
  const key = libcCacheKey(sources, amd64, root, "clang 19");
  t.is(libcCacheKey(sources, amd64, root, "clang 19"), key);
  t.not(libcCacheKey(sources, amd64, { ...root, packages: [{ ...root.packages[0]!, sha256: "b".repeat(64) }] }, "clang 19"), key);
  t.not(libcCacheKey(sources, findArchitecture("386")!, root, "clang 19"), key);
  t.not(libcCacheKey(sources, amd64, root, "clang 19.1"), key);
  t.not(libcCacheKey([Buffer.from("driver2"), sources[1]!, sources[2]!], amd64, root, "clang 19"), key);
});

test("a target the lock marks unavailable is a TargetUnavailableError with the lock's reason", async (t) => {
  const mips = findArchitecture("mips64le")!;
  await t.throwsAsync(glibcImplementation.driverCommand({ name: "glibc", version: "2.43" }, mips, []), { instanceOf: TargetUnavailableError, message: /glibc@2\.43 for mips64le: forky has no libc6-dev-mips64el-cross/ });
  await t.throwsAsync(muslImplementation.driverCommand({ name: "musl", version: "1.2.5" }, findArchitecture("loong64")!, []), { instanceOf: TargetUnavailableError, message: /trixie has no musl-dev/ });
});

test("the bare name is the first release; NAME@VERSION names and labels its own", async (t) => {
  t.is(await glibcImplementation.version({ name: "glibc" }), "2.36");
  t.is(await muslImplementation.version({ name: "musl" }), "1.2.3");
  t.is(await glibcImplementation.version({ name: "glibc", version: "2.43" }), "2.43");
  t.is(glibcImplementation.label({ name: "glibc" }), "glibc");
  t.is(muslImplementation.label({ name: "musl", version: "1.2.5" }), "musl@1.2.5");
  t.is(muslImplementation.replayOptions({ name: "musl", version: "1.2.5" }), " --impl musl@1.2.5");
});
