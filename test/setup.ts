/**
 * npm test's set-up, derived from one table: the core tools
 * (harness/cli/setup.ts), then the union of what the test files need
 * (test/requirements.json, or the table $VFORKCHECK_TEST_REQUIREMENTS
 * names): each listed architecture's system tier (qemu-system, kernel),
 * the other commands, and each runtime release. Fetched here once, before
 * ava runs its test files in parallel, rather than by several at once.
 * Silent when everything is there.
 *
 *   node --import=tsx test/setup.ts
 *
 * Exit status: 0 ready; 2 the table is malformed or lists a release the
 * registry does not carry, installing needs root (the command is printed),
 * or a lock file is malformed or stale; 1 otherwise.
 */
import { setup } from "../harness/cli/setup.ts";
import { isMainModule } from "../harness/process/main-module.ts";
import { InstallNeedsPrivilegesError } from "../harness/toolchain/apt.ts";
import { ensureTools, setupLog } from "../harness/toolchain/ensure-tools.ts";
import { ensureRelease, ReleaseUnavailableError } from "../harness/toolchain/runtime-releases.ts";
import {
  defaultTestRequirementsFile,
  readTestRequirements,
  TestRequirementsError,
  testRequirementsUnion,
  testRequirementsVariable,
  type TestRequirementsUnion,
} from "../harness/toolchain/test-requirements.ts";
import { LockFileError } from "../src/kernel-lock.ts";
import { develToolchain } from "./implementations/go-tree.ts";

/** The trees test files share ("builds" in the table), each built once here rather than by two test files at once. */
const sharedBuilds: Record<string, (log: (line: string) => void) => Promise<unknown>> = {
  "go-devel": develToolchain,
};

async function ensureReleases(union: TestRequirementsUnion, file: string): Promise<void> {
  for (const { release, architecture } of union.releases) {
    try {
      await ensureRelease(release, architecture);
    } catch (error) {
      // A release the lock marks unavailable is nothing set-up can fetch: the table is wrong.
      if (error instanceof ReleaseUnavailableError) throw new TestRequirementsError(`${file}: ${error.message}; the registry does not carry it, remove it from the table`);
      throw error;
    }
  }
}

/** Installs and fetches what the table's test files need; resolves with the exit status (the header's). */
export async function testSetup(args: readonly string[]): Promise<number> {
  if (args.length > 0) {
    setupLog(`unknown argument ${args.join(" ")}; usage: node --import=tsx test/setup.ts`);
    return 2;
  }
  const file = process.env[testRequirementsVariable] || defaultTestRequirementsFile;
  let union: TestRequirementsUnion;
  try {
    union = testRequirementsUnion(readTestRequirements(file));
  } catch (error) {
    setupLog(error instanceof Error ? error.message : String(error));
    return error instanceof TestRequirementsError ? 2 : 1;
  }
  const unknownBuild = union.builds.find((name) => !(name in sharedBuilds));
  if (unknownBuild !== undefined) {
    setupLog(`${file}: unknown build "${unknownBuild}" (known: ${Object.keys(sharedBuilds).join(", ")})`);
    return 2;
  }
  const status = await setup(union.system.length > 0 ? [`--system=${union.system.map((architecture) => architecture.name).join(",")}`] : []);
  if (status !== 0) return status;
  try {
    await ensureTools(union.tools);
    // The shared builds fetch what they build from themselves, and compile while the other releases download.
    await Promise.all([ensureReleases(union, file), ...union.builds.map((name) => sharedBuilds[name]!(setupLog))]);
    return 0;
  } catch (error) {
    setupLog(error instanceof Error ? error.message : String(error));
    return error instanceof InstallNeedsPrivilegesError || error instanceof TestRequirementsError || error instanceof LockFileError ? 2 : 1;
  }
}

if (isMainModule(import.meta.url)) process.exitCode = await testSetup(process.argv.slice(2));
