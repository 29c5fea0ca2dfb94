// --libc-root's option and its checks, without building a libc: the value is
// DIR or ARCH=DIR,...; a tree is refused in one line (exit 2, before any
// build) when the directory is missing, has no libc.a or crt objects, is the
// other libc's, or is for another architecture than the one named; a tree's
// architecture is read from its crt1.o and is the only one planned; the
// version is read from the tree (glibc's <features.h>, musl's libc.a). A
// real glibc tree (Debian's cross glibc 2.36, in the DIR/include + DIR/lib
// layout) gates on amd64/host.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { architectures, findArchitecture } from "../../src/architectures.ts";
import { findRelease } from "../../src/runtime-releases.ts";
import { ensureRelease } from "../../harness/toolchain/runtime-releases.ts";
import { archiveMember, architectureOfObject, glibcVersionOfFeatures, muslVersionOfArchive, parseLibcRootOption } from "../../src/libc-root.ts";
import { UsageError } from "../../src/usage-error.ts";
import { readLibcTree } from "../../harness/build/libc-root.ts";
import { gateOptions } from "../../harness/run/gate.ts";
import { parseOptions, planTargets } from "../../harness/run/options.ts";
import { hostExecution } from "../../harness/process/host-execution.ts";
import { implementationOf } from "../../harness/implementations/index.ts";
import { clangCommand } from "../../harness/toolchain/clang.ts";
import { runVforkcheck } from "../helpers/marked-run.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

/** An object file for the architecture, compiled from an empty source: what a tree's crt1.o is, as far as its header goes. */
function emptyObject(directory: string, architecture: string, name: string): string {
  const source = join(directory, "empty.c");
  writeFileSync(source, "int vfc_empty;\n");
  const output = join(directory, name);
  const run = spawnSync(clangCommand, [`--target=${findArchitecture(architecture)!.clangTarget}`, "-c", "-o", output, source], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`${clangCommand}: ${run.stderr}`);
  return output;
}

/** An ar archive of these members (name, content): the System V format binutils and musl's make write. */
function archive(members: readonly (readonly [string, Buffer])[]): Buffer {
  const parts: Buffer[] = [Buffer.from("!<arch>\n", "latin1")];
  for (const [name, content] of members) {
    parts.push(Buffer.from(`${`${name}/`.padEnd(16)}${"0".padEnd(12)}${"0".padEnd(6)}${"0".padEnd(6)}${"644".padEnd(8)}${String(content.length).padEnd(10)}\`\n`, "latin1"), content);
    if (content.length % 2) parts.push(Buffer.from("\n"));
  }
  return Buffer.concat(parts);
}

/** A tree in make install's layout (usr/include, usr/lib) for `libc`, its objects built for `architecture`; musl's libc.a says `version`. */
function fakeTree(directory: string, libc: "glibc" | "musl", architecture: string, version = "1.2.9"): string {
  const root = join(directory, `${libc}-${architecture}`);
  const include = join(root, "usr", "include");
  const lib = join(root, "usr", "lib");
  mkdirSync(join(include, libc === "glibc" ? "gnu" : "bits"), { recursive: true });
  mkdirSync(lib, { recursive: true });
  writeFileSync(join(include, "spawn.h"), "/* spawn.h */\n");
  if (libc === "glibc") {
    writeFileSync(join(include, "gnu", "libc-version.h"), "/* glibc */\n");
    writeFileSync(join(include, "features.h"), "#define\t__GLIBC__\t2\n#define\t__GLIBC_MINOR__\t43\n");
  } else writeFileSync(join(include, "bits", "alltypes.h"), "/* musl */\n");
  for (const name of ["crt1.o", "crti.o", "crtn.o"]) emptyObject(lib, architecture, name);
  writeFileSync(join(lib, "libc.a"), archive([["version.o", Buffer.from(`\0\0${version}\0`, "latin1")]]));
  return root;
}

function parse(args: string[]) {
  return parseOptions(args, gateOptions);
}

test("the option: DIR (commas and all) or ARCH=DIR,...; each architecture once, known, with a directory", (t) => {
  t.deepEqual(parseLibcRootOption("--libc-root", "/opt/musl"), [{ path: "/opt/musl" }]);
  t.deepEqual(parseLibcRootOption("--libc-root", "/opt/a=b,c"), [{ path: "/opt/a=b,c" }]);
  t.deepEqual(parseLibcRootOption("--libc-root", "amd64=/x,arm64=/y"), [
    { architecture: "amd64", path: "/x" },
    { architecture: "arm64", path: "/y" },
  ]);
  t.throws(() => parseLibcRootOption("--libc-root", "amd64=/x,amd64=/y"), { instanceOf: UsageError, message: "--libc-root: amd64 is given twice" });
  t.throws(() => parseLibcRootOption("--libc-root", "amd64=/x,sparc=/y"), { instanceOf: UsageError, message: /unknown architecture 'sparc'/ });
  t.throws(() => parseLibcRootOption("--libc-root", "amd64="), { instanceOf: UsageError, message: "--libc-root: 'amd64=' is not ARCH=DIR" });
});

test("what a tree says of itself: its architecture from an object's ELF header, glibc's version from features.h, musl's from libc.a's version.o", (t) => {
  const directory = scratchDirectory(t, "vfc-libc-root-");
  for (const architecture of architectures) t.is(architectureOfObject(spawnSync("cat", [emptyObject(directory, architecture.name, `${architecture.name}.o`)]).stdout), architecture.name);
  t.regex(architectureOfObject(Buffer.from("not an object, but long enough to be read as a header by mistake....")) as string, /not an ELF file/);
  t.is(glibcVersionOfFeatures("#define __GLIBC__ 2\n#  define __GLIBC_MINOR__ 36\n"), "2.36");
  t.is(glibcVersionOfFeatures("#define __GLIBC__ 2\n"), undefined);
  const library = archive([["a.o", Buffer.from("odd")], ["version.lo", Buffer.from("\0x\x001.2.5-git\0", "latin1")]]);
  t.is(archiveMember(library, "a.o")?.toString(), "odd");
  t.is(muslVersionOfArchive(library), "1.2.5-git");
  t.is(muslVersionOfArchive(archive([["a.o", Buffer.from("1.2.3")]])), undefined);
});

test("a tree is refused in one line, naming the directory and what is wrong", (t) => {
  const directory = scratchDirectory(t, "vfc-libc-root-");
  const musl = fakeTree(directory, "musl", "arm64");
  const glibc = fakeTree(directory, "glibc", "amd64");
  const empty = join(directory, "empty");
  mkdirSync(join(empty, "usr", "include"), { recursive: true });
  mkdirSync(join(empty, "usr", "lib"), { recursive: true });
  const noCrt = fakeTree(directory, "musl", "amd64");
  spawnSync("rm", [join(noCrt, "usr", "lib", "crti.o")]);
  const refusals: [string[], RegExp][] = [
    [["--impl", "musl", "--libc-root", join(directory, "nothing")], /^--libc-root: \S+nothing: no such directory$/],
    [["--impl", "musl", "--libc-root", empty], /^--libc-root: \S+empty: no libc\.a in usr\/lib\/ or usr\/lib64\/ \(expected an installed tree: /],
    [["--impl", "musl", "--libc-root", noCrt], /: no crti\.o beside usr\/lib\/libc\.a \(expected /],
    [["--impl", "musl", "--libc-root", glibc], /: a glibc tree \(usr\/include\/gnu\/libc-version\.h\), not musl$/],
    [["--impl", "glibc", "--libc-root", musl], /: a musl tree \(usr\/include\/bits\/alltypes\.h\), not glibc$/],
    [["--impl", "musl", "--libc-root", `amd64=${musl}`], /^--libc-root: amd64=\S+: a tree for arm64 \(usr\/lib\/crt1\.o\), not amd64$/],
    [["--impl", "musl", "--libc-root", `amd64=${noCrt},arm64=${musl},riscv64=${join(directory, "nothing")}`], /^--libc-root: amd64=\S+: no crti\.o/],
    [["--impl", "musl@1.2.5", "--libc-root", musl], /^--libc-root: not with musl@1\.2\.5/],
    [["--impl", "go", "--libc-root", musl], /^--libc-root: only with one of --impl glibc or --impl musl/],
  ];
  for (const [args, message] of refusals) t.throws(() => parse(args), { instanceOf: UsageError, message }, args.join(" "));
  t.is(typeof readLibcTree("musl", musl), "object");
});

test("only the trees' architectures are planned; the label, the replay options and the version name the trees", async (t) => {
  const directory = scratchDirectory(t, "vfc-libc-root-");
  const arm64 = fakeTree(directory, "musl", "arm64");
  const riscv64 = fakeTree(directory, "musl", "riscv64", "1.2.9-rc1");
  const one = parse(["--impl", "musl", "--libc-root", arm64, "--tier", "user"]);
  t.deepEqual(planTargets(one, hostExecution()).map((spec) => spec.architecture.name), ["arm64"]);
  const both = parse(["--impl", "musl", "--libc-root", `riscv64=${riscv64},arm64=${arm64}`, "--tier", "host,user"]);
  t.deepEqual(planTargets(both, hostExecution()).map((spec) => `${spec.architecture.name}/${spec.tier}`), ["arm64/user", "riscv64/user"]);
  const spec = both.implementations[0]!;
  const adapter = implementationOf(spec);
  t.is(adapter.label(spec), `musl@riscv64=${riscv64},arm64=${arm64}`);
  t.is(adapter.replayOptions(spec), ` --impl musl --libc-root riscv64=${riscv64},arm64=${arm64}`);
  t.is(await adapter.version(spec), "1.2.9-rc1,1.2.9 (local build)");
  t.is(await adapter.version(one.implementations[0]!), "1.2.9 (local build)");
  const glibc = parse(["--impl", "glibc", "--libc-root", fakeTree(directory, "glibc", "amd64")]).implementations[0]!;
  t.is(await implementationOf(glibc).version(glibc), "2.43 (local build)");
});

test("the command line: a bad tree is exit 2 and one line, before anything is built", (t) => {
  const directory = scratchDirectory(t, "vfc-libc-root-");
  const run = runVforkcheck(["gate", "--impl", "musl", "--libc-root", `arm64=${fakeTree(directory, "musl", "amd64")}`, "--report", join(directory, "gate.json")], 60_000);
  t.is(run.status, 2, run.stderr);
  t.regex(run.stderr.trim(), /^vforkcheck: --libc-root: arm64=\S+: a tree for amd64 \(usr\/lib\/crt1\.o\), not arm64\b/);
  t.is(run.stderr.trim().split("\n").length, 1);
});

test("a glibc tree (Debian's cross glibc 2.36 as installed files) passes on amd64/host, its version read from features.h", async (t) => {
  const directory = scratchDirectory(t, "vfc-libc-root-");
  const amd64 = findArchitecture("amd64")!;
  const root = (await ensureRelease(findRelease("glibc", "2.36")!, amd64)).root;
  const tree = join(root, "usr", "x86_64-linux-gnu");
  const report = join(directory, "gate.json");
  const run = runVforkcheck(["gate", "--impl", "glibc", "--libc-root", tree, "--tier", "host", "--runs", "10", "--seed", "1", "--report", report], 200_000);
  t.is(run.status, 0, run.stderr.slice(-2000));
  t.true(existsSync(report));
  const gate = JSON.parse(readFileSync(report, "utf8")) as { implementations: { version: string }[]; results: { target: string; status: string; reason: string }[]; targets: { toolchain: { implementation: string } }[] };
  t.is(gate.implementations[0]!.version, "2.36 (local build)");
  t.deepEqual([...new Set(gate.results.map((result) => result.target.split("/").slice(0, 2).join("/")))], ["amd64/host"]);
  for (const result of gate.results) t.true(result.status === "pass" || (result.status === "skip" && result.reason !== ""), `${result.status} ${result.reason}`);
  t.true(gate.results.filter((result) => result.status === "pass").length >= 5);
  t.regex(gate.targets[0]!.toolchain.implementation, /^glibc tree \S+ \(2\.36, sha256:[0-9a-f]{16}; posix_spawn\), kernel headers and libgcc of musl@1\.2\.3, /);
  t.log(`gate: ${run.seconds} s`);
});
