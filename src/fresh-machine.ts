/**
 * The pure parts of `npm run ci:fresh` (ci/fresh-machine.ts): which Debian
 * packages make this machine look fresh again, read from dpkg's and apt's
 * answers, and the environment a fresh clone's `.ci/run` gets. The caller
 * runs dpkg-query and `apt-get -s` and passes their text in.
 */

/**
 * What the base image has and a fresh-machine run never removes, even when
 * the set-up's tables name it: python3 (the --impl-cmd worked example's
 * interpreter, which set-up only checks for), and what it stands on.
 */
export const baseImagePackages: readonly string[] = ["python3"];

/** A package that belongs to the base image's python3: python3 itself, python3.11, python3-minimal, libpython3-stdlib... */
export function isBaseImagePackage(name: string): boolean {
  return baseImagePackages.includes(name) || /^(lib)?python3/.test(name);
}

/**
 * The Debian packages of these tools (set-up's tables), each once, in table
 * order, base-image packages left out; a tool without one (fetched into the
 * cache, not installed on the machine) adds none.
 */
export function setupPackages(tools: readonly object[]): string[] {
  const names = tools.flatMap((tool) => ("debianPackage" in tool && typeof tool.debianPackage === "string" ? [tool.debianPackage] : []));
  return [...new Set(names)].filter((name) => !isBaseImagePackage(name));
}

/**
 * The installed packages in `dpkg-query -W -f='${Package}\t${db:Status-Status}\n' NAMES...`'s
 * output: those whose status is "installed" (not "config-files", not "half-installed").
 */
export function parseDpkgStatus(text: string): Set<string> {
  const installed = new Set<string>();
  for (const line of text.split("\n")) {
    const [name, status] = line.split("\t");
    if (name && status?.trim() === "installed") installed.add(name.replace(/:[a-z0-9]+$/, ""));
  }
  return installed;
}

/** The packages `apt-get -s remove|purge ...` would remove: its "Remv NAME [VERSION]" and "Purg NAME [VERSION]" lines, in order. */
export function parseAptSimulation(text: string): string[] {
  const removed: string[] = [];
  for (const match of text.matchAll(/^(?:Remv|Purg) (\S+)/gm)) {
    const name = match[1]!.replace(/:[a-z0-9]+$/, "");
    if (!removed.includes(name)) removed.push(name);
  }
  return removed;
}

export interface RemovalPlan {
  /** Every package set-up's tables name (base image left out). */
  setup: string[];
  /** Those installed: what is removed by name. */
  remove: string[];
  /** Those not installed: nothing to do. */
  notInstalled: string[];
  /** What apt's autoremove takes with them (its simulation), the named ones left out. */
  autoremove: string[];
  /** Base-image packages the simulation would remove: the run refuses rather than take them. */
  baseImage: string[];
}

/** The plan from set-up's packages, the installed ones among them, and apt's simulation of removing those with --autoremove. */
export function removalPlan(setup: readonly string[], installed: ReadonlySet<string>, simulated: readonly string[]): RemovalPlan {
  const remove = setup.filter((name) => installed.has(name));
  return {
    setup: [...setup],
    remove,
    notInstalled: setup.filter((name) => !installed.has(name)),
    autoremove: simulated.filter((name) => !remove.includes(name)),
    baseImage: simulated.filter(isBaseImagePackage),
  };
}

/**
 * The environment a fresh clone's CI script gets: this one without what
 * `npm run` put into it (its lower-case npm_* variables and INIT_CWD: a
 * nested npm would read npm_config_cache and the rest from them; a
 * person's upper-case NPM_CONFIG_* stay), with `set` over it.
 */
export function freshEnvironment(from: Readonly<Record<string, string | undefined>>, set: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) {
    if (value === undefined || name.startsWith("npm_") || name === "INIT_CWD") continue;
    env[name] = value;
  }
  return { ...env, ...set };
}

/** `NAME=value` words of the variables set, for a printed command line; values with spaces quoted. */
export function describeEnvironment(set: Readonly<Record<string, string>>): string {
  return Object.entries(set)
    .map(([name, value]) => `${name}=${/^[\w@%+=:,./-]*$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`}`)
    .join(" ");
}
