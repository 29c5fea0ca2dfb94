/**
 * --node PATH: a Node of the maintainer's own (a fork of Node, or of the
 * libuv it runs on) instead of a registry release. PATH is the node
 * executable (a build's out/Release/node, a prefix's bin/node) or a
 * directory that holds one (DIR/node, DIR/bin/node).
 *
 * Its libuv: a libuv.so.1 beside the executable, or in the lib/ beside its
 * bin/, is loaded ahead of every other (a libuv fork built as a shared
 * library); without one, the libuv it links (a Node build bundles libuv
 * statically; Debian's thin node links the system libuv through libnode).
 *
 * Nothing is built: it runs as it is, with the loader and libraries of a
 * registry release for its architecture: the release whose libnode it needs
 * (libnode.so.115 is node@20's), else the newest release (the newest glibc
 * and libstdc++). Identified by content: a digest of the executable and its
 * libuv, in the report's toolchain.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { findArchitecture, type ArchitectureName } from "../../src/architectures.ts";
import { architectureOfObject } from "../../src/libc-root.ts";
import { UsageError } from "../../src/usage-error.ts";
import { isRegularFile, readFileHead } from "../process/files.ts";

export interface NodeTree {
  /** The executable, absolute. */
  executable: string;
  architecture: ArchitectureName;
  /** The directory whose libuv.so.1 goes ahead of the userland's; undefined when there is none. */
  libuvDirectory: string | undefined;
  /** The major of the libnode it links ("115"), undefined for a self-contained build. */
  libnodeSoname: string | undefined;
}

/** The executable PATH names (itself, or DIR/node, or DIR/bin/node), or what is wrong. */
function executableOf(path: string): { executable: string } | { problem: string } {
  if (!existsSync(path)) return { problem: "no such file or directory" };
  if (statSync(path).isFile()) return { executable: path };
  const executable = [join(path, "node"), join(path, "bin", "node")].find(isRegularFile);
  return executable ? { executable } : { problem: "a directory without node or bin/node (give the node executable, or the prefix or build directory holding it)" };
}

/** The tree at `path`, or a sentence saying what is wrong with it. */
export function readNodeTree(path: string): NodeTree | string {
  const found = executableOf(resolve(path));
  if ("problem" in found) return found.problem;
  const { executable } = found;
  const architecture = architectureOfObject(readFileHead(executable, 4096));
  if (!findArchitecture(architecture)) return `${executable}: ${architecture}`;
  const directory = dirname(executable);
  const libuvDirectory = [directory, ...(basename(directory) === "bin" ? [join(dirname(directory), "lib")] : [])].find((candidate) => isRegularFile(join(candidate, "libuv.so.1")));
  // The dynamic string table names what it links; a thin node names its libnode.
  const libnodeSoname = /libnode\.so\.([0-9]+)/.exec(readFileSync(executable).toString("latin1"))?.[1];
  return { executable, architecture: architecture as ArchitectureName, libuvDirectory, libnodeSoname };
}

const trees = new Map<string, NodeTree>();

/** The tree --node names, checked once per process: a UsageError naming the flag, the path and what is wrong. */
export function nodeTreeOf(path: string): NodeTree {
  let tree = trees.get(path);
  if (tree === undefined) {
    const read = readNodeTree(path);
    if (typeof read === "string") throw new UsageError(`--node: ${path}: ${read}`);
    tree = read;
    trees.set(path, tree);
  }
  return tree;
}

/** sha256 of the executable and its libuv.so.1: what a report names the tree by. */
export function nodeTreeDigest(tree: NodeTree): string {
  const hash = createHash("sha256").update(readFileSync(tree.executable));
  if (tree.libuvDirectory) hash.update(readFileSync(join(tree.libuvDirectory, "libuv.so.1")));
  return hash.digest("hex");
}
