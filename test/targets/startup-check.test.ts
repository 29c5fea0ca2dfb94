// The startup check end to end (harness/targets/startup-check.ts) on loong64
// under qemu-user, with the LSX probe itself as the "trivial program": it is
// a skip on the user tier naming LSX exactly when the emulator, run here
// directly, kills that program with SIGILL, and never on the system tier; a
// control that differs only by the LSX instruction starts everywhere.
import { spawnSync } from "node:child_process";
import test from "ava";
import { findArchitecture } from "../../src/architectures.ts";
import { isaExtensionProbesFor } from "../../src/isa-extensions.ts";
import { buildIsaExtensionProbe } from "../../harness/build/isa-extension-probe.ts";
import { TargetUnavailableError } from "../../harness/implementations/adapter.ts";
import { checkDriverStartup } from "../../harness/targets/startup-check.ts";
import type { TargetSpec } from "../../harness/targets/target.ts";
import { qemuUserBinary } from "../../harness/toolchain/qemu-user.ts";

const loong64 = findArchitecture("loong64")!;
const lsx = isaExtensionProbesFor("loong64").find((probe) => probe.extension === "LSX")!;
const implementation = { name: "musl", version: "1.2.6" };
const spec = (tier: "user" | "system"): TargetSpec => ({ architecture: loong64, tier, inProcess: false, impl: "musl@1.2.6", implementation, defines: [] });

test("a program the emulator kills with SIGILL is a user-tier skip naming LSX, and no system-tier skip", async (t) => {
  const program = await buildIsaExtensionProbe(lsx);
  const direct = spawnSync(qemuUserBinary(loong64), [program], { timeout: 60_000 });
  const check = checkDriverStartup(spec("user"), implementation, { program, args: [], startupCheck: program });
  if (direct.signal === "SIGILL") {
    const error = await t.throwsAsync(check, { instanceOf: TargetUnavailableError });
    t.regex(error!.message, /dies with signal SIGILL at start under qemu-loongarch64 [0-9.]+, which does not execute LSX \(vreplgr2vr\.b raises SIGILL\)$/);
  } else {
    t.is(direct.status, 0);
    await t.notThrowsAsync(check);
  }
  await t.notThrowsAsync(checkDriverStartup(spec("system"), implementation, { program, args: [], startupCheck: program }));
});

test("the control without the LSX instruction starts on every tier", async (t) => {
  const control = await buildIsaExtensionProbe({ ...lsx, extension: "control", assembly: lsx.assembly.replace(/^ {2}vreplgr2vr.*\n/m, "") });
  t.is(spawnSync(qemuUserBinary(loong64), [control], { timeout: 60_000 }).status, 0);
  for (const tier of ["user", "system"] as const) await t.notThrowsAsync(checkDriverStartup(spec(tier), implementation, { program: control, args: [], startupCheck: control }));
});
