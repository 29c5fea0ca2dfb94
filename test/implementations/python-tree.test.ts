// Gating a CPython fork with --python: a prefix made of a registry release's
// interpreter and standard library (amd64), one of its modules patched with a
// bug a fork could make, is red on the property that guards that entry point,
// on amd64/host; the same prefix unpatched passes. Each release gets the
// error-record mutant; 3.13, whose Popen has both paths by default, gets one
// per entry point:
//   popen_vfork        subprocess.py reads the child's `OSError:<hex errno>`
//                      record in decimal (ENAMETOOLONG 0x24 becomes EMFILE)
//                      or passes allow_vfork=False, so _posixsubprocess
//                      forks: the observed clone is not CLONE_VM|CLONE_VFORK
//   popen_posix_spawn  subprocess.py's _posix_spawn drops restore_signals'
//                      setsigdef: SIGPIPE stays ignored in the child
//   os_posix_spawn     os.posix_spawn ignores setsid (as a posixmodule.c that
//                      forgot POSIX_SPAWN_SETSID would), by the prefix's
//                      sitecustomize.py (os itself is frozen into the binary)
// Nothing is built; no network.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { findArchitecture } from "../../src/architectures.ts";
import { findRelease } from "../../src/runtime-releases.ts";
import { ensureRelease } from "../../harness/toolchain/runtime-releases.ts";
import { gateCli } from "../helpers/gate-cli.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

/** A replacement in one module of the standard library; throws when the text is not there. */
interface Patch {
  module: "subprocess.py" | "sitecustomize.py";
  /** "" appends `to`. */
  from: string;
  to: string;
}

/** DIR/bin/python3.X and DIR/lib/python3.X/ (links to the release's modules, the patched one a copy). */
async function pythonPrefix(directory: string, version: string, patch?: Patch): Promise<string> {
  const { root } = await ensureRelease(findRelease("python", version)!, findArchitecture("amd64")!);
  const library = join(root, "usr", "lib", `python${version}`);
  const prefixLibrary = join(directory, "lib", `python${version}`);
  mkdirSync(join(directory, "bin"), { recursive: true });
  mkdirSync(prefixLibrary, { recursive: true });
  copyFileSync(join(root, "usr", "bin", `python${version}`), join(directory, "bin", `python${version}`));
  for (const name of readdirSync(library)) if (name !== patch?.module) symlinkSync(join(library, name), join(prefixLibrary, name));
  if (patch) {
    const source = readFileSync(join(library, patch.module), "utf8");
    if (patch.from !== "" && !source.includes(patch.from)) throw new Error(`python${version}'s ${patch.module} has no '${patch.from}'`);
    writeFileSync(join(prefixLibrary, patch.module), patch.from === "" ? `${source}\n${patch.to}` : source.replace(patch.from, patch.to));
  }
  return directory;
}

const errnoInDecimal: Patch = { module: "subprocess.py", from: "errno_num = int(hex_errno, 16)", to: "errno_num = int(hex_errno, 10)" };
const vforkDisallowed: Patch = { module: "subprocess.py", from: "preexec_fn, _USE_VFORK)", to: "preexec_fn, False)" };
const noSetsigdef: Patch = { module: "subprocess.py", from: "kwargs['setsigdef'] = sigset", to: "pass" };
const setsidIgnored: Patch = {
  module: "sitecustomize.py",
  from: "",
  to: "import os\n_posix_spawn = os.posix_spawn\ndef posix_spawn(path, argv, env, *, setsid=False, **attributes):\n    return _posix_spawn(path, argv, env, **attributes)\nos.posix_spawn = posix_spawn\n",
};

const mutants: { version: string; bug: string; patch: Patch; entry: string; property: string }[] = [
  { version: "3.11", bug: "the error record read in decimal", patch: errnoInDecimal, entry: "popen_vfork", property: "errno-propagates" },
  { version: "3.13", bug: "the error record read in decimal", patch: errnoInDecimal, entry: "popen_vfork", property: "errno-propagates" },
  { version: "3.14", bug: "the error record read in decimal", patch: errnoInDecimal, entry: "popen_vfork", property: "errno-propagates" },
  { version: "3.13", bug: "vfork disallowed", patch: vforkDisallowed, entry: "popen_vfork", property: "parent-resumes" },
  { version: "3.13", bug: "restore_signals without setsigdef", patch: noSetsigdef, entry: "popen_posix_spawn", property: "signal-state" },
  { version: "3.13", bug: "setsid ignored", patch: setsidIgnored, entry: "os_posix_spawn", property: "parent-resumes" },
];

const gateArguments = (property: string) => ["--tier", "host", "--arch", "amd64", "--property", property, "--runs", "80", "--seed", "1"];

for (const { version, bug, patch, entry, property } of mutants) {
  test(`python ${version} with ${bug} (${patch.module}) fails ${property} on ${entry}`, async (t) => {
    const fork = await pythonPrefix(scratchDirectory(t, "vfc-python-fork-"), version, patch);
    const red = await gateCli(t, ["--python", fork, ...gateArguments(property)]);
    t.is(red.status, 1, red.output);
    const result = red.results.find((row) => row.property === property)!;
    t.is(result.status, "fail", result.reason);
    t.regex(result.counterexample ?? "", new RegExp(`"entry":\\s*"${entry}"`), result.reason);
    t.regex(result.replay ?? "", /--python /);
    t.regex(red.implementations[0]?.version ?? "", new RegExp(`^${version.replace(".", "\\.")}.*\\(local build\\)$`));
  });
}

test("the same prefix unpatched passes every property the mutants fail", async (t) => {
  const tree = await pythonPrefix(scratchDirectory(t, "vfc-python-tree-"), "3.13");
  const control = await gateCli(t, ["--python", tree, ...gateArguments("errno-propagates,signal-state,parent-resumes")]);
  t.is(control.status, 0, control.output);
  t.deepEqual(control.results.map((row) => row.status), ["pass", "pass", "pass"]);
});
