/**
 * Installs what is missing of the tools a run needs, from Debian (apt when
 * root, else sudo, else the exact command and exit 2: toolchain/apt.ts),
 * then fetches the pinned ones into the cache (required-tools.ts).
 * Silent when everything is there.
 */
import { installDebianPackages } from "./apt.ts";
import { missingTools, type RunTool } from "./required-tools.ts";

export async function ensureTools(tools: readonly RunTool[]): Promise<void> {
  const missing = missingTools(tools);
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((tool) => tool.debianPackage))];
    await installDebianPackages(packages, `missing ${missing.map((tool) => tool.command).join(", ")}`);
    const stillMissing = missingTools(tools);
    if (stillMissing.length > 0) {
      throw new Error(`still missing after installing ${packages.join(" ")}: ${stillMissing.map((tool) => tool.command).join(", ")}`);
    }
    setupLog(`installed ${packages.join(" ")}`);
  }
  // After apt: fetching takes dpkg-deb and apt-get, which a Debian machine has.
  const fetches = new Set(tools.flatMap((tool) => ("fetch" in tool ? [tool.fetch] : [])));
  for (const fetchTool of fetches) await fetchTool();
}

/** Set-up's lines go to stderr, each prefixed, so they never mix with a report on stdout. */
export function setupLog(message: string): void {
  process.stderr.write(`vforkcheck setup: ${message}\n`);
}
