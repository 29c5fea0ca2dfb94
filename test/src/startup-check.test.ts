// The startup check's decision (src/startup-check.ts): a trivial program
// linked like the driver that exits 0 lets the driver start everywhere; one
// that dies with SIGILL is a skip only on the tier whose emulator measured it
// (a VM's QEMU may execute the instruction), naming the extension the
// emulator measurably lacks; any other death at start is the link's, a skip
// on every tier, and each reason says what was measured and where.
import test from "ava";
import { startupUnavailableReason, type StartupMeasurement } from "../../src/startup-check.ts";
import { tierNames } from "../../src/tiers.ts";

const linked = "glibc@2.41 by ld.lld-19";
const under = "under qemu-loongarch64 7.2.22";

test("a check that exits 0 leaves every tier to run", (t) => {
  const measurement: StartupMeasurement = { ranUnder: under, lackingExtensions: [{ extension: "LSX", instruction: "vreplgr2vr.b" }] };
  for (const tier of tierNames) t.is(startupUnavailableReason(measurement, { linked, tier, measuredTier: "user" }), undefined);
});

test("SIGILL skips the measured tier with the missing extension, not the system tier", (t) => {
  const measurement: StartupMeasurement = { ranUnder: under, died: "signal SIGILL", lackingExtensions: [{ extension: "LSX", instruction: "vreplgr2vr.b" }] };
  t.is(
    startupUnavailableReason(measurement, { linked: "musl@1.2.6 by ld.lld-19", tier: "user", measuredTier: "user" }),
    "a trivial static program linked the same way against musl@1.2.6 by ld.lld-19 dies with signal SIGILL at start under qemu-loongarch64 7.2.22, which does not execute LSX (vreplgr2vr.b raises SIGILL)",
  );
  t.is(startupUnavailableReason(measurement, { linked, tier: "system", measuredTier: "user" }), undefined);
});

test("SIGILL with no extension measured missing still skips the measured tier, saying only what died", (t) => {
  const reason = startupUnavailableReason({ ranUnder: under, died: "signal SIGILL", lackingExtensions: [] }, { linked, tier: "user", measuredTier: "user" });
  t.is(reason, `a trivial static program linked the same way against ${linked} dies with signal SIGILL at start ${under}`);
});

test("any other death at start skips every tier, the system tier saying where it was measured", (t) => {
  const measurement: StartupMeasurement = { ranUnder: under, died: "signal SIGSEGV", lackingExtensions: [] };
  const dies = `a trivial static program linked the same way against ${linked} dies with signal SIGSEGV at start ${under}`;
  t.is(startupUnavailableReason(measurement, { linked, tier: "user", measuredTier: "user" }), dies);
  t.is(startupUnavailableReason(measurement, { linked, tier: "system", measuredTier: "user" }), `${dies}; the same binary runs on the system tier`);
  t.is(startupUnavailableReason({ ranUnder: "natively", died: "exit 127", lackingExtensions: [] }, { linked, tier: "host", measuredTier: "host" }), `a trivial static program linked the same way against ${linked} dies with exit 127 at start natively`);
});

test("what the binary shows wrong follows the death", (t) => {
  const found = "14 of 14 IRELATIVE addends are no function's start (0x905f4 is strlen_ifunc+4)";
  const reason = startupUnavailableReason({ ranUnder: under, died: "signal SIGSEGV", lackingExtensions: [], found }, { linked, tier: "user", measuredTier: "user" });
  t.is(reason, `a trivial static program linked the same way against ${linked} dies with signal SIGSEGV at start ${under}: ${found}`);
});
