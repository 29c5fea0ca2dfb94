// Gating a runtime fork: a copy of the default Go release's tree whose syscall
// package takes the vfork fast path even with CLONE_NEWUSER in Cloneflags
// (a plausible "optimisation" of a fork) is passed with --goroot, and the gate
// fails namespace-fallback on amd64/host with a shrunk counterexample. The
// same run with that release passes. Built from the cached release, no
// network.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { goGate, patchedGoTree } from "./go-tree.ts";

const fastPathCondition = "case sys.Cloneflags&CLONE_NEWUSER == 0 && sys.Unshareflags&CLONE_NEWUSER == 0:";

test("a Go tree patched to vfork with CLONE_NEWUSER fails namespace-fallback; the installed tree passes", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "vfc-go-fork-"));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const fork = await patchedGoTree(directory, "exec_linux.go", [[fastPathCondition, "case sys.Unshareflags&CLONE_NEWUSER == 0:"]]);

  const patched = goGate(directory, "namespace-fallback", ["--goroot", fork]);
  t.is(patched.status, 1, patched.output.slice(-2000));
  t.is(patched.result.status, "fail");
  t.truthy(patched.result.counterexample);
  t.regex((JSON.parse(patched.result.counterexample!) as { cloneFlags: string }).cloneFlags, /\bCLONE_NEWUSER\b/, "the shrunk case has CLONE_NEWUSER in its clone flags");
  t.regex(patched.result.replay ?? "", /--impl go --goroot /);

  const control = goGate(directory, "namespace-fallback", []);
  t.is(control.result.status, "pass", control.result.reason);
});
