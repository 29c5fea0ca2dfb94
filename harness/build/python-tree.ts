/**
 * --python DIR: a CPython of the maintainer's own (a fork) instead of a
 * registry release, in one of the two layouts a CPython build leaves:
 *
 *   a build tree    DIR/python, DIR/Lib/subprocess.py, DIR/Include/patchlevel.h
 *                   (./configure && make, run in place)
 *   a prefix        DIR/bin/python3.X, DIR/lib/python3.X/subprocess.py
 *                   (make install prefix=DIR)
 *
 * Nothing is built: the interpreter runs as it is, from its own directory,
 * so it finds its own standard library (subprocess.py is the code under
 * test with _posixsubprocess). Its loader and shared libraries are the
 * registry release's of the same 3.X for its architecture when the lock has
 * one (so a tree built on this machine runs the same on every tier), else
 * this machine's own. Identified by content: a digest of the interpreter
 * and subprocess.py, in the report's toolchain.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { findArchitecture, type ArchitectureName } from "../../src/architectures.ts";
import { architectureOfObject } from "../../src/libc-root.ts";
import { UsageError } from "../../src/usage-error.ts";
import { isRegularFile, readFileHead } from "../process/files.ts";

export interface PythonTree {
  /** As given (absolute). */
  root: string;
  interpreter: string;
  /** "3.13": the minor release, which picks the userland. */
  minor: string;
  /** "3.13.5", or "3.13.5+" of a fork, from patchlevel.h; undefined when the tree has none. */
  version: string | undefined;
  architecture: ArchitectureName;
  subprocessModule: string;
}

const layoutText = "a CPython build tree (python, Lib/subprocess.py) or an install prefix (bin/python3.X, lib/python3.X/subprocess.py)";


/** PY_VERSION of a patchlevel.h ("3.13.5"). */
export function versionOfPatchlevel(text: string): string | undefined {
  return /^#\s*define\s+PY_VERSION\s+"([^"]+)"/m.exec(text)?.[1];
}

/** The tree at `root`, or a sentence saying what is wrong with it. */
export function readPythonTree(root: string): PythonTree | string {
  if (!existsSync(root)) return "no such directory";
  if (!statSync(root).isDirectory()) return "not a directory";
  let interpreter: string, subprocessModule: string, patchlevel: string, minor: string | undefined;
  if (isRegularFile(join(root, "python")) && isRegularFile(join(root, "Lib", "subprocess.py"))) {
    interpreter = join(root, "python");
    subprocessModule = join(root, "Lib", "subprocess.py");
    patchlevel = join(root, "Include", "patchlevel.h");
  } else {
    const names = existsSync(join(root, "bin")) ? readdirSync(join(root, "bin")).filter((name) => /^python3\.\d+$/.test(name)) : [];
    if (names.length === 0) return `neither python and Lib/ nor bin/python3.X (expected ${layoutText})`;
    if (names.length > 1) return `bin/ has ${names.join(" and ")}: name the prefix of one`;
    minor = names[0]!.slice("python".length);
    interpreter = join(root, "bin", names[0]!);
    subprocessModule = join(root, "lib", `python${minor}`, "subprocess.py");
    patchlevel = join(root, "include", `python${minor}`, "patchlevel.h");
    if (!isRegularFile(subprocessModule)) return `no ${relative(root, subprocessModule)} (expected ${layoutText})`;
  }
  const version = isRegularFile(patchlevel) ? versionOfPatchlevel(readFileSync(patchlevel, "latin1")) : undefined;
  minor ??= version?.split(".").slice(0, 2).join(".");
  if (minor === undefined) return `${relative(root, patchlevel)} states no PY_VERSION: which 3.X is this?`;
  const architecture = architectureOfObject(readFileHead(interpreter, 4096));
  if (!findArchitecture(architecture)) return `${relative(root, interpreter)}: ${architecture}`;
  return { root, interpreter, minor, version, architecture: architecture as ArchitectureName, subprocessModule };
}

const trees = new Map<string, PythonTree>();

/** The tree --python names, checked once per process: a UsageError naming the flag, the directory and what is wrong. */
export function pythonTreeOf(root: string): PythonTree {
  let tree = trees.get(root);
  if (tree === undefined) {
    const read = readPythonTree(root);
    if (typeof read === "string") throw new UsageError(`--python: ${root}: ${read}`);
    tree = read;
    trees.set(root, tree);
  }
  return tree;
}

/** sha256 of the interpreter and subprocess.py: what a report names the tree by. */
export function pythonTreeDigest(tree: PythonTree): string {
  const hash = createHash("sha256");
  for (const file of [tree.interpreter, tree.subprocessModule]) hash.update(readFileSync(file));
  return hash.digest("hex");
}
