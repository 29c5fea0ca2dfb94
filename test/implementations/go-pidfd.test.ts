// Go's pidfd path (syscall.SysProcAttr.PidFD, Go 1.22 and later: CLONE_PIDFD
// on the clone) under the pidfd property on amd64/host: Go 1.24 passes; a
// copy of it whose exec-failure clean-up no longer closes the pidfd (the
// shape of glibc BZ 31695) is killed; the installed Go 1.19 has no PidFD and
// says so (no pidfd in its hello), so the property skips with that reason.
// Needs the Go 1.24 tree at /work/scratch/go-1.24 (README, "Gating your
// runtime"); run with descriptors 10 and 251 closed (README, "Findings").
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { goGate, patchedGoTree } from "./go-tree.ts";

const go124 = "/work/scratch/go-1.24/usr/lib/go-1.24";
const failureCleanup = "if sys.PidFD != nil && *sys.PidFD != -1 {\n\t\tClose(*sys.PidFD)";

test("pidfd: Go 1.24 passes, a Go 1.24 that leaks the pidfd on exec failure is killed, Go 1.19 skips", async (t) => {
  if (!existsSync(go124)) return t.fail(`no Go 1.24 tree at ${go124}`);
  const directory = mkdtempSync(join(tmpdir(), "vfc-go-pidfd-"));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));

  const go124Gate = goGate(directory, "pidfd", ["--goroot", go124]);
  t.is(go124Gate.result.status, "pass", `${go124Gate.result.reason} ${go124Gate.result.counterexample ?? ""}`);

  const leaking = await patchedGoTree(directory, "exec_linux.go", [[failureCleanup, "if false && sys.PidFD != nil && *sys.PidFD != -1 {\n\t\tClose(*sys.PidFD)"]], go124);
  const leakGate = goGate(directory, "pidfd", ["--goroot", leaking]);
  t.is(leakGate.result.status, "fail", leakGate.output.slice(-2000));
  t.regex(leakGate.result.reason, /after the failed spawn 1 pidfd\(s\) stayed open in the parent/);

  const go119Gate = goGate(directory, "pidfd", []);
  t.is(go119Gate.result.status, "skip");
  t.regex(go119Gate.result.reason, /does not return pidfds \(no pidfd in its hello\)/);
});
