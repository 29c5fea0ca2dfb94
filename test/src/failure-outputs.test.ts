// What a failed spawn hands back (docs/protocol.md): the result fields
// parse strictly, and the rules hold each output to "no pid, no
// descriptor": the preset untouched, -1 (or 0 for a pid), never a number.
import test from "ava";
import { checkFailedPid } from "../../src/checks.ts";
import { checkFailedPidfd } from "../../src/pidfd-checks.ts";
import { OUTPUT_PRESET, parseResult, ProtocolError } from "../../src/protocol.ts";

const leftovers = "zombies=0 live_children=0 leaked_fds=0 stack_canaries=ok register_canaries=ok";
const failed = (fields: string) => ["result id=1 outcome=error errno=2", fields, leftovers].filter(Boolean).join(" ");

test("failed_pid, failed_pidfd and failed_pidfd_is parse after a failure", (t) => {
  t.is(parseResult(failed("failed_pid=none")).failedPid, "none");
  t.is(parseResult(failed("failed_pid=-2")).failedPid, -2);
  t.deepEqual(parseResult(failed("failed_pidfd=-1")).failedPidfd, { value: -1 });
  t.deepEqual(parseResult(failed("failed_pidfd=5 failed_pidfd_is=closed")).failedPidfd, { value: 5, is: "closed" });
  const plain = parseResult(failed(""));
  t.is(plain.failedPid, undefined);
  t.is(plain.failedPidfd, undefined);
});

for (const [name, line, why] of [
  ["after a success", "result id=1 outcome=spawned pid=9 waited=1 status=exited:0 suspended=yes report=x failed_pid=9 " + leftovers, /field 'failed_pid' in a result with outcome=spawned/],
  ["a number without its state", failed("failed_pidfd=5"), /missing field 'failed_pidfd_is'/],
  ["an unknown state", failed("failed_pidfd=5 failed_pidfd_is=gone"), /unknown failed_pidfd_is 'gone'/],
  ["a state without a number", failed("failed_pidfd=-1 failed_pidfd_is=closed"), /failed_pidfd=-1, not a descriptor number/],
  ["a state alone", failed("failed_pidfd_is=closed"), /'failed_pidfd_is' without 'failed_pidfd'/],
  ["a pid that is not a number", failed("failed_pid=x"), /field 'failed_pid' is not an integer/],
] as const) {
  test(`a failure output (${name}) is a one-line ProtocolError`, (t) => {
    const error = t.throws(() => parseResult(line), { instanceOf: ProtocolError });
    t.regex(error!.message, why);
    t.false(error!.message.includes("\n"));
  });
}

const run = (fields: string, clonedPid?: number) => ({
  result: parseResult(failed(fields)),
  ...(clonedPid === undefined ? {} : { observed: { complete: true, clones: [{ flags: 0x4111, result: clonedPid }] } }),
});

test("a failed spawn's pid output may hold the preset, 0, -1 or no value", (t) => {
  for (const value of [`${OUTPUT_PRESET}`, "0", "-1", "none"]) t.deepEqual(checkFailedPid(run(`failed_pid=${value}`, 4242)), [], value);
  t.deepEqual(checkFailedPid(run("")), [], "not reported: nothing to judge");
});

test("a failed spawn that hands back a pid is named, the dead child's as such", (t) => {
  t.deepEqual(checkFailedPid(run("failed_pid=4242", 4242)), [
    "the failed spawn handed back pid 4242, the pid of the child it cloned and reaped; a failed spawn hands back no pid (the caller's -2 untouched, 0 or -1)",
  ]);
  t.regex(checkFailedPid(run("failed_pid=77", 4242))[0]!, /^the failed spawn handed back pid 77; /);
  t.regex(checkFailedPid(run("failed_pid=-9"))[0]!, /handed back pid -9; /);
});

test("a failed spawn's pidfd output may hold the preset or -1, never a descriptor number", (t) => {
  for (const value of [OUTPUT_PRESET, -1]) t.deepEqual(checkFailedPidfd(parseResult(failed(`failed_pidfd=${value}`))), [], `${value}`);
  const judged = (fields: string) => checkFailedPidfd(parseResult(failed(fields)));
  t.regex(judged("failed_pidfd=7 failed_pidfd_is=closed")[0]!, /^the failed spawn handed back pidfd 7, a descriptor it had closed \(the caller's close of it is a double close/);
  t.regex(judged("failed_pidfd=7 failed_pidfd_is=pidfd")[0]!, /handed back pidfd 7, a pidfd still open/);
  t.regex(judged("failed_pidfd=7 failed_pidfd_is=other")[0]!, /handed back pidfd 7, an open descriptor that is not a pidfd/);
  t.regex(judged("failed_pidfd=-3")[0]!, /handed back pidfd -3; a failed spawn hands back no descriptor/);
  t.deepEqual(judged(""), ["the driver did not report failed_pidfd (what the pidfd output holds after the failed spawn)"]);
});
