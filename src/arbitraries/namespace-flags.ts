/** Namespace flags for clone and for unshare; CLONE_NEWUSER in at most one of them. */
import fc from "fast-check";
import { CLONE_NEWUSER, namespaceFlags } from "../flags.ts";

const cloneable = namespaceFlags.filter((flag) => flag.cloneCanExpress);

function maskOf(flags: readonly { value: number }[]): number {
  return flags.reduce((mask, flag) => (mask | flag.value) >>> 0, 0);
}

export interface NamespaceFlagChoice {
  cloneFlags: number;
  unshareFlags: number;
}

/** newUser: "any" draws freely; "clone"/"unshare"/"none" pins where CLONE_NEWUSER goes. */
export function namespaceFlagsArbitrary(newUser: "any" | "clone" | "unshare" | "none" = "any"): fc.Arbitrary<NamespaceFlagChoice> {
  const others = (all: typeof namespaceFlags) => all.filter((flag) => flag.value !== CLONE_NEWUSER);
  const draw = fc.record({
    clone: fc.subarray(others(cloneable), { maxLength: 3 }).map(maskOf),
    unshare: fc.subarray(others(namespaceFlags), { maxLength: 3 }).map(maskOf),
    where: newUser === "any" ? fc.constantFrom("none", "clone", "unshare") : fc.constant(newUser),
  });
  return draw.map(({ clone, unshare, where }) => ({
    cloneFlags: (where === "clone" ? clone | CLONE_NEWUSER : clone) >>> 0,
    unshareFlags: (where === "unshare" ? unshare | CLONE_NEWUSER : unshare) >>> 0,
  }));
}
