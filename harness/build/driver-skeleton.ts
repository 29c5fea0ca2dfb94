/**
 * The C driver skeleton that docs/protocol.md shows ("An external driver in
 * C"), built from the document itself for any of the nine architectures,
 * with the parts of native/ it links with: the encodings (codec.c), the
 * strings, buffer and descriptor list (common.c) and the architecture's
 * system calls and entry point (arch.c).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ArchitectureName } from "../../src/architectures.ts";
import { fencedBlockAfter } from "../../src/markdown-block.ts";
import { projectRoot } from "../process/project-root.ts";
import { writeFileAtomically } from "../toolchain/cache-entry.ts";
import { buildRoot, buildStaticProgram } from "./build.ts";

export const skeletonHeading = "## An external driver in C";
export const skeletonLinkedSources = ["native/codec.c", "native/common.c", "native/arch.c"] as const;

/** The skeleton's C source, as docs/protocol.md has it now. */
export function skeletonSource(): string {
  return fencedBlockAfter(readFileSync(join(projectRoot, "docs", "protocol.md"), "utf8"), skeletonHeading, "c");
}

/** Builds source (the skeleton, or a deliberately broken copy of it) for arch; resolves with the static program's path. */
export async function buildDriverSkeleton(arch: ArchitectureName, source: string = skeletonSource()): Promise<string> {
  const directory = join(buildRoot, "driver-skeleton-sources");
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${createHash("sha256").update(source).digest("hex").slice(0, 16)}.c`);
  // Named by its content, so one already there is this source. Whole or not
  // at all: tests build it in parallel processes.
  if (!existsSync(file)) writeFileAtomically(file, source);
  return buildStaticProgram({ arch, name: "driver-skeleton", sources: [file, ...skeletonLinkedSources] });
}
