/** The tiers a target runs on (docs/tiers.md): natively, under qemu-user, in a qemu-system VM. */
export type TierName = "host" | "user" | "system";
export const tierNames: readonly TierName[] = ["host", "user", "system"];
