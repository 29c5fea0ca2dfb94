// hello's fast_path_probed (libuv from 1.53): the implementation takes the
// CLONE_VM|CLONE_VFORK path only where its own vfork probe finds shared
// memory, so the clone the oracle expects follows the target's measured
// vfork_shares_memory (src/checks.ts, checkClonePath). Either way round, the
// other clone is a failure: a libuv that forks on a kernel, or that takes the
// fast path where vfork is a fork (qemu-user), is red.
import test from "ava";
import { checkClonePath, claimsClonePath, type Run, type TargetView } from "../../src/checks.ts";
import { amd64HostView, capabilities, hello, plainCase } from "../helpers/target-view.ts";

const SIGCHLD = 17, CLONE_VM = 0x100, CLONE_VFORK = 0x4000;
const fastClone = CLONE_VM | CLONE_VFORK | SIGCHLD;
const forkClone = 0x01200000 | SIGCHLD; // CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD: glibc's fork()

function view(vforkSharesMemory: boolean, features: string[]): TargetView {
  const measured = { ...capabilities, vforkSharesMemory };
  return { ...amd64HostView, capabilities: measured, oracle: { ...amd64HostView.oracle, capabilities: measured, hello: { ...hello, impl: "node", features } } };
}

function run(flags: number): Run {
  return {
    result: { id: 1, outcome: "spawned", pid: 5, waited: true, status: { kind: "exited", code: 0 }, suspended: "unknown", zombies: 0, liveChildren: 0, leakedFds: 0, stackCanaries: "ok", registerCanaries: "ok" } as unknown as Run["result"],
    observed: { complete: true, clones: [{ flags, result: 5 }] },
  };
}

test("fast_path_probed claims a clone path where vfork shares memory; no claim, no check", (t) => {
  t.true(claimsClonePath(view(true, ["fast_path_probed"])));
  t.false(claimsClonePath(view(false, ["fast_path_probed"])), "under qemu-user it forks, as an implementation claiming nothing");
  t.true(claimsClonePath(view(true, ["fast_path"])));
  t.false(claimsClonePath(view(true, ["setsid"])));
});

test("where vfork shares memory the fast path is expected, and a fork is red", (t) => {
  const target = view(true, ["fast_path_probed"]);
  t.deepEqual(checkClonePath(plainCase, run(fastClone), target), []);
  t.regex(checkClonePath(plainCase, run(forkClone), target).join("; "), /do not take the CLONE_VM\|CLONE_VFORK path; expected the fast path/);
});

test("where vfork is a fork (the probe measured it) the fork is expected, and the fast path is red", (t) => {
  const target = view(false, ["fast_path_probed"]);
  t.deepEqual(checkClonePath(plainCase, run(forkClone), target), []);
  t.regex(checkClonePath(plainCase, run(fastClone), target).join("; "), /expected the fork fallback \(node probes vfork and forks where it does not share memory, as the target.s probe measured/);
});

test("a plain fast_path claim is held to the fast path whatever the target's vfork does", (t) => {
  t.regex(checkClonePath(plainCase, run(forkClone), view(false, ["fast_path"])).join("; "), /expected the fast path/);
});
