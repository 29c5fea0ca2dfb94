// Go's pidfd path (syscall.SysProcAttr.PidFD, Go 1.22 and later: CLONE_PIDFD
// on the clone) under the pidfd property on amd64/host: Go 1.24 passes; a
// copy of it whose exec-failure clean-up no longer closes the pidfd (the
// shape of glibc BZ 31695) is killed; the default Go 1.19 has no PidFD and
// says so (no pidfd in its hello), so the property skips with that reason.
// Go 1.24 is the release go@1.24 from the registry (fetched when not
// cached); run with descriptors 10 and 251 closed (docs/real-runtimes.md).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { goToolchain } from "../../harness/implementations/go.ts";
import { goGate, patchedGoTree } from "./go-tree.ts";

const failureCleanup = "if sys.PidFD != nil && *sys.PidFD != -1 {\n\t\tClose(*sys.PidFD)";

test("pidfd: Go 1.24 passes, a Go 1.24 that leaks the pidfd on exec failure is killed, Go 1.19 skips", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "vfc-go-pidfd-"));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));

  const go124 = (await goToolchain({ name: "go", version: "1.24" })).goroot;
  const go124Gate = goGate(directory, "pidfd", [], "go@1.24");
  t.is(go124Gate.result.status, "pass", `${go124Gate.result.reason} ${go124Gate.result.counterexample ?? ""}`);

  const leaking = await patchedGoTree(directory, "exec_linux.go", [[failureCleanup, "if false && sys.PidFD != nil && *sys.PidFD != -1 {\n\t\tClose(*sys.PidFD)"]], go124);
  const leakGate = goGate(directory, "pidfd", ["--goroot", leaking]);
  t.is(leakGate.result.status, "fail", leakGate.output.slice(-2000));
  t.regex(leakGate.result.reason, /after the failed spawn 1 pidfd\(s\) stayed open in the parent/);

  const go119Gate = goGate(directory, "pidfd", []);
  t.is(go119Gate.result.status, "skip");
  t.regex(go119Gate.result.reason, /does not return pidfds \(no pidfd in its hello\)/);
});
