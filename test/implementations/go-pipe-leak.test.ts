// A leaked error pipe is caught for Go too: a copy of the installed Go tree
// whose ForkExec error pipe is not close-on-exec (forkExecPipe without
// O_CLOEXEC, and the child's copy of it above len(Files) dup'd without
// O_CLOEXEC as well) fails descriptor-table on amd64/host: the exec'd child
// holds the pipe's write end. The same run with the installed tree passes, or
// is `known` through Go's nextfd overwrite alone (a catalogued upstream bug
// whose reproducer fails on every release; the pipe leak is not it).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { goGate, patchedGoTree } from "./go-tree.ts";

test("a Go tree whose error pipe is not close-on-exec fails descriptor-table; the installed tree does not", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "vfc-go-pipe-leak-"));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const fork = await patchedGoTree(directory, "exec_linux.go", [
    ["return Pipe2(p, O_CLOEXEC)", "return Pipe2(p, 0)"],
    ["RawSyscall(SYS_DUP3, uintptr(pipe), uintptr(nextfd), O_CLOEXEC)", "RawSyscall(SYS_DUP3, uintptr(pipe), uintptr(nextfd), 0)"],
  ]);

  const patched = goGate(directory, "descriptor-table", ["--goroot", fork]);
  t.is(patched.status, 1, patched.output.slice(-2000));
  t.is(patched.result.status, "fail");
  t.regex(patched.result.reason, /open descriptors: got/);
  t.truthy(patched.result.counterexample);
  t.regex(patched.result.replay ?? "", /--impl go --goroot /);

  const control = goGate(directory, "descriptor-table", []);
  t.true(control.result.status === "pass" || control.result.status === "known", control.result.reason);
  if (control.result.status === "known") t.true((control.result.known ?? []).every((outcome) => outcome.finding.startsWith("go-forkexec-nextfd-overwrite")), JSON.stringify(control.result.known));
});
