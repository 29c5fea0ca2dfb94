// Gating a libuv fork with --node: a registry release's node executable with
// a libuv.so.1 built from that release's own Debian source beside it
// (test/helpers/libuv-source.ts), with a bug put in uv_spawn, is red on
// amd64/host; the same build without the bug passes. The bug: a spawn with
// `detached: true` does not setsid in the child (test/helpers/libuv-mutants.ts),
// which parent-resumes sees in the exec'd program's session.
// node@18 and node@20 only: node@24's libuv 1.53.0-1 source could not be
// downloaded from the archive mirror this was written against (its Sources
// index lists the files, the pool answers 404); node@24's spawn entry point
// is red by the release's own bug (docs/findings.md), with its reproducer.
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { findArchitecture } from "../../src/architectures.ts";
import { findRelease } from "../../src/runtime-releases.ts";
import { ensureRelease } from "../../harness/toolchain/runtime-releases.ts";
import { gateCli } from "../helpers/gate-cli.ts";
import { detachedKeepsSession } from "../helpers/libuv-mutants.ts";
import { libuvBuild, libuvSoname, type LibuvNodeVersion, type LibuvPatch } from "../helpers/libuv-source.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

/** DIR/bin/node (the release's own executable) and DIR/lib/libuv.so.1 (built from the release's source). */
async function nodeTree(directory: string, version: LibuvNodeVersion, patch?: LibuvPatch): Promise<string> {
  const { root } = await ensureRelease(findRelease("node", version)!, findArchitecture("amd64")!);
  const libuv = await libuvBuild(version, patch);
  mkdirSync(join(directory, "bin"), { recursive: true });
  mkdirSync(join(directory, "lib"), { recursive: true });
  copyFileSync(join(root, "usr", "bin", "node"), join(directory, "bin", "node"));
  copyFileSync(join(libuv, libuvSoname), join(directory, "lib", libuvSoname));
  return directory;
}

const gateArguments = ["--tier", "host", "--arch", "amd64", "--property", "parent-resumes", "--runs", "25", "--seed", "1"];

for (const version of ["18", "20"] as const) {
  test(`node@${version} with a libuv whose detached child keeps the session fails parent-resumes; without the bug it passes`, async (t) => {
    const red = await gateCli(t, ["--node", await nodeTree(scratchDirectory(t, "vfc-libuv-fork-"), version, detachedKeepsSession[version]), ...gateArguments]);
    t.is(red.status, 1, red.output);
    const result = red.results.find((row) => row.property === "parent-resumes")!;
    t.is(result.status, "fail", result.reason);
    t.regex(result.reason, /child sid: got [0-9]+, expected [0-9]+/, result.reason);
    t.regex(result.counterexample ?? "", /"setsid":\s*true/);
    t.regex(result.replay ?? "", /--node /);
    t.regex(red.implementations[0]?.version ?? "", new RegExp(`^${version}\\.[0-9.]+ \\(local build\\)$`));

    const control = await gateCli(t, ["--node", await nodeTree(scratchDirectory(t, "vfc-libuv-tree-"), version), ...gateArguments]);
    t.is(control.status, 0, control.output);
    // The release's own known finding (ENOEXEC run by /bin/sh) is still there, and still only known.
    t.true(["pass", "known"].includes(control.results[0]!.status), control.output);
  });
}
