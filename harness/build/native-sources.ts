import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../process/project-root.ts";

/** What the native build can produce. */
export type NativeKind = "static" | "shared" | "selftest";

const nativeDirectory = "native";

/** The self-test defines vfc_entry too, so it is never part of the driver. */
const selftestSources = ["native/arch.c", "native/selftest.c"];

/**
 * The C files one build compiles, relative to the project root, sorted.
 * The driver and library take every native/*.c, read now so new files are picked up.
 */
export function compilationUnits(kind: NativeKind): string[] {
  if (kind === "selftest") return selftestSources;
  return readdirSync(join(projectRoot, nativeDirectory))
    .filter((name) => name.endsWith(".c") && name !== "selftest.c")
    .sort()
    .map((name) => `${nativeDirectory}/${name}`);
}

/**
 * sha256 over every file under native/ with its relative path. Every file,
 * not only *.c and *.h: whatever is there can be #included (assembly,
 * fragments), and a needless rebuild is cheaper than a stale binary.
 */
export function nativeTreeDigest(): string {
  const hash = createHash("sha256");
  const paths = readdirSync(join(projectRoot, nativeDirectory), { recursive: true, encoding: "utf8" })
    .map((relative) => `${nativeDirectory}/${relative}`)
    .filter((path) => statSync(join(projectRoot, path)).isFile())
    .sort();
  for (const path of paths) {
    const content = readFileSync(join(projectRoot, path));
    // Lengths keep the boundaries between path and content unambiguous.
    hash.update(`${path.length}:${path}${content.length}:`).update(content);
  }
  return hash.digest("hex");
}
