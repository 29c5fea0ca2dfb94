import { spawn, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

/** Thrown when installing needs privileges this process does not have. */
export class InstallNeedsPrivilegesError extends Error {
  constructor(reason: string, readonly command: string) {
    super(`${reason}; to install, run: ${command}`);
  }
}

const installArguments = ["install", "-y", "--no-install-recommends"];
// sudo resets the environment, so the variable travels as an argument of env.
const nonInteractive = ["env", "DEBIAN_FRONTEND=noninteractive"];

/**
 * Installs Debian packages with apt-get: directly as root, else through
 * passwordless sudo, else throws InstallNeedsPrivilegesError carrying the one
 * command a person can run. `reason` (what is missing) starts the progress
 * line or the error. apt-get's output goes to stderr.
 */
export async function installDebianPackages(packages: readonly string[], reason: string): Promise<void> {
  const privilege = privilegePrefix();
  if (privilege === undefined) throw new InstallNeedsPrivilegesError(reason, manualCommand(packages));
  process.stderr.write(`vforkcheck setup: ${reason}: installing ${packages.join(" ")}\n`);
  const aptGet = (...args: string[]) => run([...privilege, ...nonInteractive, "apt-get", ...args]);

  const install = [...installArguments, ...packages];
  // A fresh machine (a container, CI) has no package lists at all.
  if (!hasPackageLists()) await aptGet("update");
  if ((await aptGet(...install)) === 0) return;
  // Stale lists name versions the mirror no longer has: update once and retry.
  await aptGet("update");
  const status = await aptGet(...install);
  if (status !== 0) throw new Error(`apt-get install ${packages.join(" ")} failed with status ${status}`);
}

function privilegePrefix(): string[] | undefined {
  if (process.getuid?.() === 0) return [];
  const sudo = spawnSync("sudo", ["-n", "true"], { stdio: "ignore" });
  return sudo.status === 0 ? ["sudo", "-n"] : undefined;
}

function manualCommand(packages: readonly string[]): string {
  const install = `sudo apt-get ${installArguments.join(" ")} ${packages.join(" ")}`;
  return hasPackageLists() ? install : `sudo apt-get update && ${install}`;
}

function hasPackageLists(): boolean {
  try {
    return readdirSync("/var/lib/apt/lists").some((name) => name.includes("_Packages"));
  } catch {
    return false;
  }
}

function run(argv: string[]): Promise<number> {
  const [command, ...args] = argv as [string, ...string[]];
  process.stderr.write(`vforkcheck setup: ${argv.join(" ")}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", 2, 2] });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}
