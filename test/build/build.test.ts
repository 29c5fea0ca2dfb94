/**
 * The cached cross build: a build is reused while its inputs are unchanged,
 * any change in them is a new build, concurrent builders agree, and what it
 * builds runs.
 */
import test from "ava";
import { execFile, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { promisify } from "node:util";
import { buildNative, buildRoot, compilerRunCount } from "../../harness/build/build.ts";
import { projectRoot } from "../../harness/process/project-root.ts";
import type { ArchitectureName } from "../../src/architectures.ts";

/** A define no other build has, so the first build of it really compiles. */
function uniqueDefine(): string {
  return `VFC_BUILD_TEST_NONCE=${randomUUID().replaceAll("-", "")}`;
}

function removeAfterwards(t: { teardown: (fn: () => Promise<void>) => void }, builtFile: string): void {
  t.teardown(() => rm(dirname(builtFile), { recursive: true, force: true }));
}

// Serial: the compiler-run counter is per process, and other tests here compile too.
test.serial("building twice returns the same path and runs the compiler only once", async (t) => {
  const request = { arch: "amd64", kind: "selftest", defines: [uniqueDefine()] } as const;
  const before = compilerRunCount();
  const first = await buildNative(request);
  removeAfterwards(t, first);
  t.is(compilerRunCount(), before + 1);
  const builtAt = statSync(first).mtimeMs;

  const second = await buildNative(request);
  t.is(second, first);
  t.is(compilerRunCount(), before + 1, "the second build must not run the compiler");
  t.is(statSync(second).mtimeMs, builtAt, "the second build must not rewrite the file");
});

test("a different define gives a different build", async (t) => {
  const [one, other] = await Promise.all([
    buildNative({ arch: "amd64", kind: "selftest", defines: [uniqueDefine()] }),
    buildNative({ arch: "amd64", kind: "selftest", defines: [uniqueDefine()] }),
  ]);
  removeAfterwards(t, one);
  removeAfterwards(t, other);
  t.not(dirname(one), dirname(other));
});

test("builders in separate processes racing on the same build agree on one complete result", async (t) => {
  const request = JSON.stringify({ arch: "amd64", kind: "selftest", defines: [uniqueDefine()] });
  const buildInChild = () =>
    promisify(execFile)(process.execPath, [
      "--import=tsx", "--input-type=module", "-e",
      'import { buildNative } from "./harness/build/build.ts"; console.log(await buildNative(JSON.parse(process.argv[1])));',
      request,
    ], { cwd: projectRoot });
  const outputs = await Promise.all([buildInChild(), buildInChild(), buildInChild()]);
  const paths = outputs.map((output) => output.stdout.trim());
  removeAfterwards(t, paths[0]!);
  t.is(new Set(paths).size, 1, "every builder returns the same path");
  t.is(spawnSync(paths[0]!).status, 0);
  const buildDirectory = basename(dirname(paths[0]!));
  t.deepEqual(readdirSync(buildRoot).filter((name) => name.startsWith(`${buildDirectory}.tmp-`)), [], "no temporary directory left behind");
});

test("an unknown architecture is rejected by name", async (t) => {
  await t.throwsAsync(buildNative({ arch: "sparc" as ArchitectureName, kind: "selftest" }), {
    message: /unknown architecture "sparc"; known: amd64, 386/,
  });
});

test("a shared library is refused for an architecture other than amd64", async (t) => {
  await t.throwsAsync(buildNative({ arch: "arm64", kind: "shared" }), { message: /amd64 only/ });
});

test("the amd64 self-test builds and exits 0", async (t) => {
  const selftest = await buildNative({ arch: "amd64", kind: "selftest" });
  const run = spawnSync(selftest, { encoding: "utf8", timeout: 10_000 });
  t.is(run.status, 0, `stdout: ${run.stdout}\nstderr: ${run.stderr}`);
});
