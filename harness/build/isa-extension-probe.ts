/**
 * Builds the program of an instruction-set extension probe (src/isa-extensions.ts):
 * its assembly, with no libc, by clang-19 and ld.lld-19. Cached by content
 * under build/isa-<architecture>-<extension>-<hash>/.
 */
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { findArchitecture } from "../../src/architectures.ts";
import type { IsaExtensionProbe } from "../../src/isa-extensions.ts";
import { clangVersion, compile } from "../toolchain/clang.ts";
import { projectRoot } from "../process/project-root.ts";
import { buildRoot, cachedBuild } from "./build.ts";

export async function buildIsaExtensionProbe(probe: IsaExtensionProbe): Promise<string> {
  const architecture = findArchitecture(probe.architecture)!;
  const flags = [`--target=${architecture.clangTarget}`, ...probe.flags, "-nostdlib", "-static", "-fuse-ld=lld"];
  const key = createHash("sha256").update(JSON.stringify({ assembly: probe.assembly, flags })).update(await clangVersion()).digest("hex").slice(0, 16);
  const directory = join(buildRoot, `isa-${probe.architecture}-${probe.extension}-${key}`);
  await cachedBuild(directory, `the ${probe.extension} probe for ${probe.architecture}`, async (output) => {
    await writeFile(join(output, "probe.s"), probe.assembly);
    await compile([...flags, "-o", join(output, "probe"), join(output, "probe.s")], projectRoot, `the ${probe.extension} probe for ${probe.architecture}`);
  });
  return join(directory, "probe");
}
