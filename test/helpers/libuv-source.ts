/**
 * A libuv.so.1 built from Debian's source package of the libuv a Node
 * release's userland has (node@18: libuv1 1.44.2 of bookworm; node@20 and
 * node@24: libuv1t64 of trixie and forky), optionally with a bug put in, for
 * amd64: a mutant of Node's child_process (uv_spawn), loaded in place of the
 * userland's libuv.so.1 by putting its directory first on the library path.
 *
 * The source is downloaded through the private apt (apt checks each file
 * against the signed Sources index) and checked against the .dsc's
 * Checksums-Sha256, then unpacked with Debian's patches applied, as
 * musl-source.ts does. What is compiled is what the source's own
 * CMakeLists.txt builds for Linux, read from that file (the list of sources
 * and the defines differ from version to version): the shared library's
 * sources, defines, C standard and hidden visibility, by clang-19 against
 * the headers of the glibc release of the same suite (its cross packages'
 * headers and kernel headers, as the libc driver is compiled), linked by
 * ld.lld-19 against the userland's own libc.so.6, so that the library runs
 * with the glibc it is loaded beside. 3 to 5 s per build on a 2-core
 * machine (1 s more for a source not yet downloaded).
 *
 * Every build is checked: DT_NEEDED is libc.so.6 alone, the soname is
 * libuv.so.1, nothing is left undefined (-z defs), and the uv_* symbols it
 * exports are exactly those of the userland's libuv.so.1 (the same API, so
 * libnode binds to it as to Debian's).
 *
 * Cache ($VFORKCHECK_CACHE or ~/.cache/vforkcheck):
 *   libuv-source/<version>/             the checked, unpacked source (Debian's patches applied)
 *   libuv-source/node<N>-amd64-<patch>-<key>/
 *                                       libuv.so.1 and build.json; key: the .dsc's sha256, the
 *                                       patch, the flags, the glibc headers' and the userland
 *                                       libc's packages, and clang's version
 * Each entry is built once (buildAtomically: a scratch directory renamed into place).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cp, mkdir, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { findArchitecture } from "../../src/architectures.ts";
import { findRelease, releaseName, releasesOf, type RuntimeRelease } from "../../src/runtime-releases.ts";
import { libcLayout } from "../../harness/build/libc-driver.ts";
import { clangVersion, compile } from "../../harness/toolchain/clang.ts";
import { buildAtomically, cacheDirectory, fetchOnce } from "../../harness/toolchain/debian-archive.ts";
import { ensureRelease, lockedRelease } from "../../harness/toolchain/runtime-releases.ts";
import { settleWithLimit } from "../../harness/process/limited-parallel.ts";
import { run, unpackedDebianSource } from "./debian-source.ts";

/** The Node releases whose libuv can be built. */
export type LibuvNodeVersion = "18" | "20" | "24";

/** A bug to put in the source: each `from` must occur exactly once in `file` (relative to the source's root). */
export interface LibuvPatch {
  name: string;
  file: string;
  replacements: readonly (readonly [from: string, to: string])[];
}

/** The library's file name and soname: what libnode.so's DT_NEEDED asks for. */
export const libuvSoname = "libuv.so.1";

const amd64 = findArchitecture("amd64")!;

/** The binary packages libuv's source "libuv1" builds the library into (t64: the 64-bit time_t transition of trixie). */
const libraryPackages = ["libuv1", "libuv1t64"];

/**
 * The flags besides paths and what the CMakeLists gives (its sources, defines,
 * C standard and visibility: keyed by the .dsc): part of the cache key.
 * BUILDING_UV_SHARED is the shared library's own define (UV_EXTERN is
 * visibility("default") under it).
 */
const compilerFlags = [`--target=${amd64.clangTarget}`, "-nostdlibinc", "-fPIC", "-O2", "-fno-strict-aliasing", "-DBUILDING_UV_SHARED=1"];
const linkerFlags = [`--target=${amd64.clangTarget}`, "-fuse-ld=lld", "-shared", "-nostdlib", `-Wl,-soname,${libuvSoname}`, "-Wl,-z,defs"];
/** Part of the cache key with the flags: what the link takes, in order, and what is checked. */
const recipe = "crti crtbeginS objects libc.so.6 libc_nonshared.a libgcc.a crtendS crtn; checked: NEEDED, soname, uv_* exports";

function log(line: string): void {
  process.stderr.write(`libuv source: ${line}\n`);
}

/** The libuv the lock pins for this Node release on amd64: its source version and suite. */
function pinnedLibuv(node: RuntimeRelease): { version: string; suite: string } {
  const entry = lockedRelease(node, amd64);
  if ("unavailable" in entry) throw new Error(`${releaseName(node)} for amd64: ${entry.unavailable}`);
  const library = entry.packages.find((pinned) => libraryPackages.includes(pinned.package));
  if (library === undefined) throw new Error(`${releaseName(node)} for amd64: the lock pins none of ${libraryPackages.join(", ")}`);
  // A binary-only upload (+bN) is built from the source version without that suffix.
  return { version: library.version.replace(/\+b\d+$/, ""), suite: library.suite };
}

/** The glibc release of the Node release's suite: whose headers the library is compiled against. */
function glibcOfSuite(node: RuntimeRelease): RuntimeRelease {
  const glibc = releasesOf("glibc").find((release) => release.suite === node.suite);
  if (glibc === undefined) throw new Error(`no glibc release of ${node.suite} (${releaseName(node)}'s suite)`);
  return glibc;
}

/** The checked, unpacked source of that libuv (test/helpers/debian-source.ts). */
function unpackedSource(suite: string, version: string): Promise<{ directory: string; dscSha256: string }> {
  return unpackedDebianSource("libuv-source", suite, "libuv1", version, log);
}

/**
 * Builds (or finds cached) the library for this Node release's libuv,
 * optionally with `patch` put in; resolves with a directory that holds
 * libuv.so.1 (and build.json, what it was built from).
 */
export async function libuvBuild(nodeVersion: LibuvNodeVersion, patch?: LibuvPatch): Promise<string> {
  const node = findRelease("node", nodeVersion);
  if (node === undefined) throw new Error(`no node@${nodeVersion} release`);
  const { version, suite } = pinnedLibuv(node);
  const glibc = glibcOfSuite(node);
  const [source, headers, userland] = await Promise.all([unpackedSource(suite, version), ensureRelease(glibc, amd64), ensureRelease(node, amd64)]);
  const libc = userlandLibc(userland.root);
  const libcPackage = userland.packages.find((record) => record.packageName === "libc6");
  if (libcPackage === undefined) throw new Error(`${releaseName(node)} for amd64: its userland has no libc6 package`);
  const key = createHash("sha256")
    .update(JSON.stringify({
      dsc: source.dscSha256,
      patch: patch ?? null,
      compilerFlags,
      linkerFlags,
      recipe,
      headers: headers.packages.map((record) => `${record.packageName} ${record.version} sha256:${record.sha256}`),
      libc: `${libcPackage.packageName} ${libcPackage.version} sha256:${libcPackage.sha256}`,
    }))
    .update(await clangVersion())
    .digest("hex")
    .slice(0, 16);
  const directory = join(cacheDirectory(), "libuv-source", `node${nodeVersion}-amd64-${patch?.name ?? "unpatched"}-${key}`);
  if (existsSync(join(directory, libuvSoname))) return directory;
  const layout = libcLayout("glibc", headers.root);
  await fetchOnce(directory, () =>
    buildAtomically(directory, (scratch, output) =>
      buildLibrary({ source: source.directory, version, patch, includes: layout.includes, libcDirectory: layout.libcDirectory, gccDirectory: layout.gccDirectory, libc, debianLibrary: join(userland.root, "usr", "lib", "x86_64-linux-gnu", libuvSoname), scratch, output, what: `libuv ${version} for ${releaseName(node)}${patch ? ` with ${patch.name}` : ""}` }),
    ),
  );
  return directory;
}

/** The userland's libc.so.6 (merged /usr or not). */
function userlandLibc(root: string): string {
  const candidates = [join(root, "lib", "x86_64-linux-gnu", "libc.so.6"), join(root, "usr", "lib", "x86_64-linux-gnu", "libc.so.6")];
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) throw new Error(`${root}: no lib/x86_64-linux-gnu/libc.so.6`);
  return found;
}

interface LibraryBuild {
  source: string;
  version: string;
  patch: LibuvPatch | undefined;
  /** The glibc release's headers (with the kernel's), after clang's own. */
  includes: readonly string[];
  /** The glibc release's crti.o, crtn.o and libc_nonshared.a. */
  libcDirectory: string;
  /** The same suite's cross libgcc: crtbeginS.o, crtendS.o, libgcc.a. */
  gccDirectory: string;
  /** The userland's libc.so.6, linked against. */
  libc: string;
  /** The userland's own libuv.so.1: the exported API to match. */
  debianLibrary: string;
  scratch: string;
  output: string;
  what: string;
}

async function buildLibrary(build: LibraryBuild): Promise<void> {
  const work = join(build.scratch, "libuv");
  await cp(build.source, work, { recursive: true });
  if (build.patch !== undefined) applyPatch(work, build.patch);
  const target = linuxTarget(readFileSync(join(work, "CMakeLists.txt"), "utf8"));
  const started = Date.now();
  const flags = [
    // -nostdlibinc: clang's own headers (stddef.h, stdarg.h) stay; the host's /usr/include does not, the release's headers replace it.
    ...compilerFlags,
    ...build.includes.flatMap((include) => ["-isystem", include]),
    "-I", join(work, "include"), "-I", join(work, "src"),
    `-std=${target.cStandard}`,
    ...(target.hiddenVisibility ? ["-fvisibility=hidden"] : []),
    ...target.defines.map((define) => `-D${define}`),
  ];
  await mkdir(join(build.scratch, "objects"));
  const objects = target.sources.map((file) => join(build.scratch, "objects", `${file.replace(/\.c$/, "").replace(/\//g, "_")}.o`));
  // One compiler per core: the 35-odd sources are most of the build's time.
  const compiled = await settleWithLimit([...target.sources.keys()], availableParallelism(), async (index) => {
    await compile([...flags, "-c", join(work, target.sources[index]!), "-o", objects[index]!], work, `${build.what}: ${target.sources[index]}`);
  });
  const failed = compiled.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  const library = join(build.output, libuvSoname);
  const gcc = (name: string) => join(build.gccDirectory, name);
  const libc = (name: string) => join(build.libcDirectory, name);
  // gcc's order for -shared: crti, crtbeginS, the objects, the libraries, crtendS, crtn. libc_nonshared.a holds
  // pthread_atfork (it calls libc.so.6's __register_atfork with this library's __dso_handle, from crtbeginS.o).
  // -z defs: a symbol nothing here defines fails the link, not the first call at run time.
  await compile([
    ...linkerFlags,
    "-o", library,
    libc("crti.o"), gcc("crtbeginS.o"),
    ...objects,
    build.libc, libc("libc_nonshared.a"), gcc("libgcc.a"),
    gcc("crtendS.o"), libc("crtn.o"),
  ], work, `${build.what}: the link`);
  await checkLibrary(library, build.debianLibrary);
  await writeFile(join(build.output, "build.json"), `${JSON.stringify({ libuv: build.version, patch: build.patch ?? null, sources: target.sources, defines: target.defines, cStandard: target.cStandard }, null, 2)}\n`);
  log(`built ${build.what} (${target.sources.length} sources) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Puts the bug in: each replacement's `from` must occur exactly once, so that a patch written for another version fails here rather than building an unpatched library. */
function applyPatch(work: string, patch: LibuvPatch): void {
  const file = join(work, patch.file);
  let text = readFileSync(file, "utf8");
  for (const [from, to] of patch.replacements) {
    const occurrences = text.split(from).length - 1;
    if (occurrences !== 1) throw new Error(`${patch.name}: ${patch.file} has ${occurrences} occurrences of ${JSON.stringify(from)}, not one`);
    text = text.replace(from, () => to);
  }
  writeFileSync(file, text);
}

/** DT_NEEDED is libc.so.6 alone, the soname is libuv.so.1, and the uv_* symbols exported are exactly Debian's library's. */
async function checkLibrary(library: string, debianLibrary: string): Promise<void> {
  const dynamic = await run(["readelf", "-d", "-W", library], "/", "reading the library's dynamic section");
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((match) => match[1]);
  const soname = /\(SONAME\)\s+Library soname: \[([^\]]+)\]/.exec(dynamic)?.[1];
  if (needed.join(" ") !== "libc.so.6") throw new Error(`${library}: NEEDED is ${needed.join(", ") || "nothing"}, not libc.so.6 alone`);
  if (soname !== libuvSoname) throw new Error(`${library}: soname ${soname ?? "none"}, not ${libuvSoname}`);
  const [ours, debians] = await Promise.all([exportedApi(library), exportedApi(debianLibrary)]);
  const missing = debians.filter((name) => !ours.includes(name));
  const extra = ours.filter((name) => !debians.includes(name));
  if (missing.length > 0 || extra.length > 0) throw new Error(`${library}: exports differ from ${debianLibrary}'s: missing ${missing.join(", ") || "none"}; extra ${extra.join(", ") || "none"}`);
}

/** The uv_* symbols a library defines and exports (readelf --dyn-syms: Ndx is UND for the undefined). */
async function exportedApi(library: string): Promise<string[]> {
  const symbols = await run(["readelf", "--dyn-syms", "-W", library], "/", `reading ${library}'s symbols`);
  return symbols.split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 8 && /^(GLOBAL|WEAK)$/.test(fields[4]!) && fields[5] === "DEFAULT" && fields[6] !== "UND" && /^uv_/.test(fields[7]!))
    .map((fields) => fields[7]!.replace(/@.*$/, ""))
    .sort();
}

/** What the CMakeLists builds for Linux: the shared library's sources and defines, its C standard, whether visibility is hidden. */
export interface LinuxTarget {
  sources: string[];
  defines: string[];
  /** gnu90, gnu11: CMAKE_C_STANDARD with CMAKE_C_EXTENSIONS. */
  cStandard: string;
  hiddenVisibility: boolean;
}

/**
 * Reads libuv's CMakeLists.txt as CMake would for a Linux target built with
 * Clang, far enough to know uv_sources and uv_defines: it follows if/elseif/
 * else with a three-valued condition (a variable it cannot know, such as a
 * check_c_compiler_flag result, makes a condition unknown), and refuses a
 * file where uv_sources or uv_defines would change under an unknown
 * condition, in a loop or function, or by a value it cannot expand, rather
 * than guess.
 */
export function linuxTarget(text: string): LinuxTarget {
  const tracked = new Set(["uv_sources", "uv_defines", "CMAKE_C_STANDARD", "CMAKE_C_EXTENSIONS", "CMAKE_C_VISIBILITY_PRESET"]);
  const variables = new Map<string, string[]>([
    ["CMAKE_SYSTEM_NAME", ["Linux"]],
    ["CMAKE_C_COMPILER_ID", ["Clang"]],
    ["UNIX", ["1"]],
    ["CMAKE_C_STANDARD", []],
    ["CMAKE_C_EXTENSIONS", []],
    ["CMAKE_C_VISIBILITY_PRESET", []],
  ]);
  // Platform variables CMake leaves undefined on Linux with Clang.
  const undefinedOnLinux = new Set(["WIN32", "APPLE", "MSVC", "MINGW", "CYGWIN", "ANDROID", "IOS", "MSYS"]);
  const unknown = new Set<string>();
  // One entry per open if: whether the current branch runs, and whether an earlier branch ran (three-valued: undefined is unknown).
  const stack: { parent: Truth; taken: Truth; active: Truth }[] = [];
  const active = (): Truth => stack.at(-1)?.active ?? true;
  let skipping: { opener: string; closer: string; depth: number } | undefined;

  const value = (token: Token): string | undefined => {
    if (token.text.includes("${") || token.text.includes("$<")) return undefined;
    if (token.quoted) return token.text;
    if (unknown.has(token.text)) return undefined;
    if (variables.has(token.text)) return variables.get(token.text)!.join(";");
    return token.text;
  };
  const truthOf = (token: Token): Truth => {
    const constant = constantTruth(token.text);
    if (constant !== undefined) return constant;
    if (token.quoted) return undefined;
    if (unknown.has(token.text)) return undefined;
    if (variables.has(token.text)) return constantTruth(variables.get(token.text)!.join(";")) ?? true;
    return undefinedOnLinux.has(token.text) ? false : undefined;
  };

  const condition = (tokens: Token[]): Truth => {
    let at = 0;
    const peek = () => tokens[at];
    const keyword = (word: string) => peek() !== undefined && !peek()!.quoted && peek()!.text === word;
    const or = (): Truth => {
      let result = and();
      while (keyword("OR")) {
        at += 1;
        result = truthOr(result, and());
      }
      return result;
    };
    const and = (): Truth => {
      let result = not();
      while (keyword("AND")) {
        at += 1;
        result = truthAnd(result, not());
      }
      return result;
    };
    const not = (): Truth => {
      if (keyword("NOT")) {
        at += 1;
        const inner = not();
        return inner === undefined ? undefined : !inner;
      }
      return primary();
    };
    const primary = (): Truth => {
      if (keyword("(")) {
        at += 1;
        const inner = or();
        if (!keyword(")")) throw new Error("CMakeLists.txt: unbalanced parentheses in a condition");
        at += 1;
        return inner;
      }
      if (peek() !== undefined && !peek()!.quoted && /^(EXISTS|COMMAND|DEFINED|POLICY|TARGET|TEST|IS_DIRECTORY|IS_SYMLINK|IS_ABSOLUTE)$/.test(peek()!.text)) {
        at += 2;
        return undefined;
      }
      const left = tokens[at++];
      if (left === undefined) throw new Error("CMakeLists.txt: a condition ends early");
      const operator = peek();
      if (operator !== undefined && !operator.quoted && /^(STREQUAL|MATCHES|EQUAL|LESS|GREATER|LESS_EQUAL|GREATER_EQUAL|STRLESS|STRGREATER|VERSION_\w+|IN_LIST)$/.test(operator.text)) {
        at += 1;
        const right = tokens[at++];
        if (right === undefined) throw new Error(`CMakeLists.txt: ${operator.text} without a right side`);
        const [l, r] = [value(left), value(right)];
        if (l === undefined || r === undefined) return undefined;
        if (operator.text === "STREQUAL") return l === r;
        if (operator.text === "MATCHES") return new RegExp(r).test(l);
        return undefined;
      }
      return truthOf(left);
    };
    const result = or();
    if (at !== tokens.length) throw new Error(`CMakeLists.txt: cannot read the condition ${tokens.map((token) => token.text).join(" ")}`);
    return result;
  };

  const assign = (name: string, values: Token[], append: boolean): void => {
    const runs = active();
    if (runs === false) return;
    const expanded = values.map((token) => (/\$[{<]/.test(token.text) ? undefined : token.text));
    const knowable = runs === true && expanded.every((item) => item !== undefined);
    if (!knowable) {
      if (tracked.has(name)) throw new Error(`CMakeLists.txt: ${name} changes where this reading cannot follow (${runs === true ? "a value it cannot expand" : "an unknown condition"})`);
      unknown.add(name);
      return;
    }
    unknown.delete(name);
    variables.set(name, [...(append ? variables.get(name) ?? [] : []), ...(expanded as string[])]);
  };

  for (const command of cmakeCommands(text)) {
    const name = command.name.toLowerCase();
    if (skipping !== undefined) {
      if (command.args.some((token) => tracked.has(token.text.replace(/^\$\{|\}$/g, "")))) throw new Error(`CMakeLists.txt: ${[...tracked].join(", ")} used inside a ${skipping.opener}()`);
      if (name === skipping.opener) skipping.depth += 1;
      if (name === skipping.closer && --skipping.depth === 0) skipping = undefined;
      continue;
    }
    if (name === "if") {
      const parent = active();
      const holds = parent === false ? false : condition(command.args);
      const runs = truthAnd(parent, holds);
      stack.push({ parent, taken: runs, active: runs });
    } else if (name === "elseif" || name === "else") {
      const block = stack.at(-1);
      if (block === undefined) throw new Error(`CMakeLists.txt: ${name}() outside an if()`);
      const notYet = block.taken === undefined ? undefined : !block.taken;
      const reached = truthAnd(block.parent, notYet);
      // A branch that cannot run is not read: its condition may name what this reading does not know.
      const holds = name === "else" || reached === false ? true : condition(command.args);
      block.active = truthAnd(reached, holds);
      block.taken = truthOr(block.taken, block.active);
    } else if (name === "endif") {
      if (stack.pop() === undefined) throw new Error("CMakeLists.txt: endif() without an if()");
    } else if (/^(foreach|while|function|macro)$/.test(name)) {
      skipping = { opener: name, closer: `end${name}`, depth: 1 };
    } else if (name === "set" && command.args.length > 0) {
      const values = command.args.slice(1);
      const cache = values.findIndex((token) => !token.quoted && /^(CACHE|PARENT_SCOPE)$/.test(token.text));
      assign(command.args[0]!.text, cache < 0 ? values : values.slice(0, cache), false);
    } else if (name === "list" && command.args[0]?.text === "APPEND" && command.args.length > 1) {
      assign(command.args[1]!.text, command.args.slice(2), true);
    } else if (name === "option" && command.args.length > 0) {
      const option = command.args[0]!.text;
      if (!variables.has(option) && !unknown.has(option) && active() === true) variables.set(option, [command.args[2]?.text ?? "OFF"]);
    } else if (active() !== false && command.args.some((token) => !token.quoted && tracked.has(token.text))) {
      // list(REMOVE_ITEM ...), string(APPEND ...) and the like: not followed, so not guessed.
      throw new Error(`CMakeLists.txt: ${command.name}(${command.args.map((token) => token.text).join(" ")}) changes what this reading follows`);
    }
  }
  if (stack.length > 0) throw new Error("CMakeLists.txt: an if() is not closed");
  const standard = variables.get("CMAKE_C_STANDARD")!.join(";");
  if (!/^\d+$/.test(standard)) throw new Error(`CMakeLists.txt: CMAKE_C_STANDARD is ${JSON.stringify(standard)}`);
  const extensions = constantTruth(variables.get("CMAKE_C_EXTENSIONS")!.join(";")) ?? true;
  const sources = variables.get("uv_sources") ?? [];
  if (!sources.includes("src/unix/process.c")) throw new Error(`CMakeLists.txt: the Linux sources read (${sources.join(" ")}) lack src/unix/process.c`);
  return {
    sources,
    defines: [...new Set(variables.get("uv_defines") ?? [])],
    cStandard: `${extensions ? "gnu" : "c"}${standard}`,
    hiddenVisibility: variables.get("CMAKE_C_VISIBILITY_PRESET")!.join(";") === "hidden",
  };
}

type Truth = boolean | undefined;

function truthAnd(a: Truth, b: Truth): Truth {
  if (a === false || b === false) return false;
  return a === true && b === true ? true : undefined;
}

function truthOr(a: Truth, b: Truth): Truth {
  if (a === true || b === true) return true;
  return a === false && b === false ? false : undefined;
}

/** CMake's constants: 1, ON, YES, TRUE, Y, a non-zero number are true; 0, OFF, NO, FALSE, N, IGNORE, NOTFOUND, "", *-NOTFOUND false; anything else is a name. */
function constantTruth(text: string): Truth {
  if (/^(1|ON|YES|TRUE|Y)$/i.test(text) || /^-?[1-9]\d*(\.\d+)?$/.test(text)) return true;
  if (/^(0|OFF|NO|FALSE|N|IGNORE|NOTFOUND)$/i.test(text) || text === "" || /-NOTFOUND$/.test(text)) return false;
  return undefined;
}

interface Token {
  text: string;
  quoted: boolean;
}

/** The commands of a CMake file in order: name and arguments (quoted or not; parentheses as their own tokens), comments dropped. */
function cmakeCommands(text: string): { name: string; args: Token[] }[] {
  const commands: { name: string; args: Token[] }[] = [];
  let at = 0;
  const skipComment = (): boolean => {
    const bracket = /^#\[(=*)\[/.exec(text.slice(at, at + 16));
    if (bracket) {
      const end = text.indexOf(`]${bracket[1]}]`, at);
      at = end < 0 ? text.length : end + bracket[1]!.length + 2;
      return true;
    }
    const end = text.indexOf("\n", at);
    at = end < 0 ? text.length : end + 1;
    return true;
  };
  while (at < text.length) {
    const character = text[at]!;
    if (/\s/.test(character)) {
      at += 1;
      continue;
    }
    if (character === "#") {
      skipComment();
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(at, at + 100))?.[0];
    if (name === undefined) throw new Error(`CMakeLists.txt: cannot read a command at offset ${at}: ${JSON.stringify(text.slice(at, at + 40))}`);
    at += name.length;
    while (/[ \t]/.test(text[at] ?? "")) at += 1;
    if (text[at] !== "(") throw new Error(`CMakeLists.txt: ${name} without "(" at offset ${at}`);
    at += 1;
    const args: Token[] = [];
    let depth = 0;
    for (;;) {
      if (at >= text.length) throw new Error(`CMakeLists.txt: ${name}( is not closed`);
      const next = text[at]!;
      if (/\s/.test(next)) {
        at += 1;
      } else if (next === "#") {
        skipComment();
      } else if (next === "(") {
        depth += 1;
        args.push({ text: "(", quoted: false });
        at += 1;
      } else if (next === ")") {
        at += 1;
        if (depth === 0) break;
        depth -= 1;
        args.push({ text: ")", quoted: false });
      } else if (next === '"') {
        let end = at + 1;
        let quoted = "";
        while (end < text.length && text[end] !== '"') {
          if (text[end] === "\\" && end + 1 < text.length) {
            quoted += text[end + 1];
            end += 2;
          } else {
            quoted += text[end];
            end += 1;
          }
        }
        args.push({ text: quoted, quoted: true });
        at = end + 1;
      } else {
        // An unquoted argument runs to whitespace or a parenthesis, except inside ${...} or $<...>.
        let end = at;
        let nesting = 0;
        while (end < text.length) {
          const c = text[end]!;
          if (c === "$" && (text[end + 1] === "{" || text[end + 1] === "<")) {
            nesting += 1;
            end += 2;
            continue;
          }
          if (nesting > 0 && (c === "}" || c === ">")) nesting -= 1;
          else if (nesting === 0 && (/\s/.test(c) || c === "(" || c === ")" || c === '"' || c === "#")) break;
          end += 1;
        }
        args.push({ text: text.slice(at, end), quoted: false });
        at = end;
      }
    }
    commands.push({ name, args });
  }
  return commands;
}
