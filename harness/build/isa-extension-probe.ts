/**
 * Builds the program of an instruction-set extension probe (src/isa-extensions.ts):
 * its assembly, with no libc, by clang-19 and ld.lld-19. Cached by content
 * under build/isa-<architecture>-<extension>-<hash>/.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { findArchitecture } from "../../src/architectures.ts";
import type { IsaExtensionProbe } from "../../src/isa-extensions.ts";
import { clangVersion, compile } from "../toolchain/clang.ts";
import { projectRoot } from "../process/project-root.ts";
import { buildRoot } from "./build.ts";

export async function buildIsaExtensionProbe(probe: IsaExtensionProbe): Promise<string> {
  const architecture = findArchitecture(probe.architecture)!;
  const flags = [`--target=${architecture.clangTarget}`, ...probe.flags, "-nostdlib", "-static", "-fuse-ld=lld"];
  const key = createHash("sha256").update(JSON.stringify({ assembly: probe.assembly, flags })).update(await clangVersion()).digest("hex").slice(0, 16);
  const directory = join(buildRoot, `isa-${probe.architecture}-${probe.extension}-${key}`);
  const program = join(directory, "probe");
  if (existsSync(program)) return program;
  await mkdir(buildRoot, { recursive: true });
  const temporary = await mkdtemp(`${directory}.tmp-`);
  try {
    await writeFile(join(temporary, "probe.s"), probe.assembly);
    await compile([...flags, "-o", join(temporary, "probe"), join(temporary, "probe.s")], projectRoot, `the ${probe.extension} probe for ${probe.architecture}`);
    await rename(temporary, directory).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    });
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  return program;
}
