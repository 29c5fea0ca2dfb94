/**
 * The reference implementation: native/ (spawn.c and the per-architecture
 * assembly), the suite's own. It alone takes --define, for the
 * deliberate-bug variants (mutants).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildNative } from "../build/build.ts";
import { projectRoot } from "../process/project-root.ts";
import type { ImplementationAdapter } from "./adapter.ts";

export const referenceImplementation: ImplementationAdapter = {
  name: "reference",
  tiers: ["host", "user", "system"],
  takesDefines: true,
  replayOptions: () => "",
  label: () => "reference",
  // The project's own version: the reference changes with the suite.
  version: async () => (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { version: string }).version,
  driverCommand: async (_spec, architecture, defines) => ({ program: await buildNative({ arch: architecture.name, kind: "static", defines }), args: ["--driver"] }),
  requiredTools: () => [],
  toolchain: async () => undefined,
};
