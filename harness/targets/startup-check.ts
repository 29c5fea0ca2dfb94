/**
 * Runs a driver's startup check (DriverCommand.startupCheck: a trivial
 * program linked like the driver) before the driver starts, and turns its
 * death into a TargetUnavailableError with what was measured
 * (src/startup-check.ts decides). Host tier: natively; user and system
 * tiers: under the architecture's qemu-user, the one emulator cheap to run
 * once (a VM's own QEMU is not measured). When it dies with SIGILL, each
 * instruction-set extension probe of the architecture (src/isa-extensions.ts)
 * runs under the same emulator to say what it lacks; after any death its
 * IRELATIVE addends are checked against its functions. Each measurement is
 * cached next to the check, per emulator version.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { checkIrelativeAddends, describeMisplacedIrelatives } from "../../src/elf-irelative.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import { isaExtensionProbesFor } from "../../src/isa-extensions.ts";
import { startupUnavailableReason, type StartupMeasurement } from "../../src/startup-check.ts";
import type { TierName } from "../../src/tiers.ts";
import { buildIsaExtensionProbe } from "../build/isa-extension-probe.ts";
import { TargetUnavailableError, type DriverCommand } from "../implementations/adapter.ts";
import { implementationLabel } from "../implementations/index.ts";
import { writeFileAtomically } from "../toolchain/cache-entry.ts";
import { qemuUserBinary } from "../toolchain/qemu-user.ts";
import { describeExit } from "./containment.ts";
import type { TargetSpec } from "./target.ts";

const startupDeadlineMs = 60_000;

/** How the program ended: undefined for exit 0. */
function runOnce(command: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "ignore"], timeout: startupDeadlineMs, killSignal: "SIGKILL", env: {} });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve(code === 0 ? undefined : describeExit(code, signal)));
  });
}

function emulatorVersion(emulator: string): string {
  const run = spawnSync(emulator, ["--version"], { encoding: "utf8", timeout: startupDeadlineMs });
  if (run.status !== 0) throw new Error(`${emulator} --version failed: ${(run.stderr ?? String(run.error)).trim()}`);
  // "qemu-loongarch64 version 7.2.22 (Debian ...)" -> "qemu-loongarch64 7.2.22"
  return run.stdout.split("\n")[0]!.replace(/ version ([^ ]+).*/, " $1");
}

const measurements = new Map<string, Promise<StartupMeasurement>>();

async function measure(spec: TargetSpec, driver: DriverCommand & { startupCheck: string }, native: boolean): Promise<StartupMeasurement> {
  const { startupCheck, userland } = driver;
  const emulator = native ? undefined : qemuUserBinary(spec.architecture);
  const ranUnder = emulator === undefined ? "natively" : `under ${emulatorVersion(emulator)}`;
  // Beside the check, or beside a userland's root (whose files are the release's alone).
  const cache = `${userland ?? startupCheck}.${userland ? "startup-check-" : ""}${ranUnder.replace(/[^A-Za-z0-9.]+/g, "-")}.json`;
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, "utf8")) as StartupMeasurement;
  const run = (program: string, args: string[] = []) => (emulator === undefined ? runOnce(program, args) : runOnce(emulator, [...(userland && program === startupCheck ? ["-L", userland] : []), program, ...args]));
  const died = await run(startupCheck, driver.startupCheckArgs);
  const lackingExtensions = [];
  if (died === "signal SIGILL" && !native) {
    for (const probe of isaExtensionProbesFor(spec.architecture.name)) {
      if ((await run(await buildIsaExtensionProbe(probe))) === "signal SIGILL") lackingExtensions.push({ extension: probe.extension, instruction: probe.instruction });
    }
  }
  // Where a link-made startup crash comes from, when the binary shows it: resolvers the IRELATIVE addends miss.
  const found = died === undefined || userland ? undefined : describeMisplacedIrelatives(checkIrelativeAddends(readFileSync(startupCheck)));
  const measurement: StartupMeasurement = { ranUnder, ...(died === undefined ? {} : { died }), lackingExtensions, ...(found ? { found } : {}) };
  // Renamed into place: another gate starting beside this one reads the whole measurement or none.
  writeFileAtomically(cache, `${JSON.stringify(measurement)}\n`);
  return measurement;
}

/** Throws TargetUnavailableError when the driver's startup check says it cannot start on this tier. */
export async function checkDriverStartup(spec: TargetSpec, implementation: ImplementationSpec, driver: DriverCommand): Promise<void> {
  if (driver.startupCheck === undefined) return;
  const native = spec.tier === "host";
  const measuredTier: TierName = native ? "host" : "user";
  const key = `${driver.startupCheck}\0${measuredTier}`;
  let measurement = measurements.get(key);
  if (measurement === undefined) {
    measurement = measure(spec, { ...driver, startupCheck: driver.startupCheck }, native);
    measurements.set(key, measurement);
    measurement.catch(() => measurements.delete(key));
  }
  const reason = startupUnavailableReason(await measurement, {
    linked: `${implementationLabel(implementation)} by ld.lld-19`,
    ...(driver.startupCheckIs ? { checked: `${implementationLabel(implementation)}'s ${driver.startupCheckIs}` } : {}),
    tier: spec.tier,
    measuredTier,
  });
  if (reason !== undefined) throw new TargetUnavailableError(reason);
}
