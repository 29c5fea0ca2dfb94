/**
 * What a target can do, measured at run time: the reference build's --probe,
 * run where the target runs (never the implementation under test). A caps
 * line that contradicts what every kernel guarantees fails the start.
 */
import { spawn } from "node:child_process";
import { contradictedProbeReason } from "../../src/probe-checks.ts";
import { parseCapabilities, type Capabilities } from "../../src/protocol.ts";
import { buildNative } from "../build/build.ts";
import { containedCommand, describeExit } from "./containment.ts";
import { qemuCommand, targetName, type TargetSpec } from "./target.ts";

/**
 * The defines the probe's build takes: a broken port of native/arch/
 * (MUTANT_PORT_*), which every build for the architecture would carry;
 * never a bug of the spawn itself, which only the implementation has.
 */
export function probeDefines(defines: readonly string[]): string[] {
  return defines.filter((define) => define.startsWith("MUTANT_PORT_"));
}

export async function probeCapabilities(spec: TargetSpec): Promise<Capabilities> {
  const reference = await buildNative({ arch: spec.architecture.name, kind: "static", defines: probeDefines(spec.defines) });
  const [command, args] = await containedCommand(...qemuCommand(spec, reference, ["--probe"], false));
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000, killSignal: "SIGKILL" });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) return resolve(out);
      const ended = describeExit(code, signal);
      const stderr = err.trim().split("\n")[0] ?? "";
      reject(new Error(`the probe ${ended.startsWith("signal") ? "crashed" : "failed"} (${ended})${stderr ? `: ${stderr}` : ""}`));
    });
  });
  const capabilities = parseCapabilities(output.trim());
  const contradicted = contradictedProbeReason(capabilities, spec.architecture);
  if (contradicted) throw new Error(`${targetName(spec)}: ${contradicted}`);
  return capabilities;
}
