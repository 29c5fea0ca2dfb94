// Reading `apt-get -s install`'s plan (pure): the dependency closure a
// dynamic runtime's userland pins, with arch-all packages named as such.
import test from "ava";
import { parseSimulatedInstall } from "../../src/apt-simulation.ts";

test("parseSimulatedInstall reads each Inst line's package, version and architecture, in apt's order, and nothing else", (t) => {
  const output = [
    "NOTE: This is only a simulation!",
    "Reading package lists...",
    "Inst gcc-12-base:armhf (12.2.0-14+deb12u1 Debian:12.15/oldstable [armhf])",
    "Inst libc6:armhf (2.36-9+deb12u14 Debian:12.15/oldstable [armhf])",
    "Inst node-xtend (4.0.2-3 Debian:12.15/oldstable [all]) []",
    "Inst zlib1g:armhf (1:1.2.13.dfsg-1 Debian:12.15/oldstable [armhf])",
    "Conf libc6:armhf (2.36-9+deb12u14 Debian:12.15/oldstable [armhf])",
  ].join("\n");
  t.deepEqual(parseSimulatedInstall(output), [
    { package: "gcc-12-base", version: "12.2.0-14+deb12u1", architecture: "armhf" },
    { package: "libc6", version: "2.36-9+deb12u14", architecture: "armhf" },
    { package: "node-xtend", version: "4.0.2-3", architecture: "all" },
    { package: "zlib1g", version: "1:1.2.13.dfsg-1", architecture: "armhf" },
  ]);
});
