// The errno-width mutant (the child writes its errno as a long, the parent
// reads an int) shows only on a 64-bit big-endian machine, where the int is
// the long's high half, 0. On s390x under qemu-user, errno-propagates kills
// it, and the reason names the errno it expected, each word once (Go's shape of this bug read "errno errno 32").
import test from "ava";
import { loadProperties } from "../../properties/index.ts";
import { findArchitecture } from "../../src/architectures.ts";
import { findMutant } from "../../src/mutants.ts";
import { runProperty } from "../../harness/run/run-property.ts";
import { startTarget } from "../../harness/targets/start-target.ts";
import { badErrnoWording } from "../helpers/errno-wording.ts";

test("errno-propagates kills errno-width on s390x/user, and its reason names the errnos", async (t) => {
  const s390x = findArchitecture("s390x")!;
  const mutant = findMutant("errno-width")!;
  t.is(mutant.expectation({ architecture: s390x, tier: "user", inProcess: false }).expected, "kill");
  const property = (await loadProperties()).find((candidate) => candidate.name === "errno-propagates")!;
  const target = await startTarget({ architecture: s390x, tier: "user", inProcess: false, impl: `mutant:${mutant.name}`, defines: [mutant.define], caseDeadlineMs: 15_000 });
  t.teardown(() => target.close());
  const result = await runProperty(target, property, { runs: 30, seed: 1, replayPrefix: "npx vforkcheck gate" });
  t.is(result.status, "fail", result.reason);
  // A failed exec reported as a success: the errno expected is named.
  t.regex(result.reason, /^spawn succeeded \(pid \d+\); expected E[A-Z0-9]+ from execve/, result.reason);
  t.is(badErrnoWording(result.reason), undefined, result.reason);
});
