/**
 * What `apt-get -s install` says it would install, read from its output:
 * the dependency closure of a package as apt itself resolves it (virtual
 * packages, alternatives, versions), against the private apt's empty
 * status, so nothing of this machine's own system is assumed present.
 */

export interface SimulatedInstall {
  package: string;
  version: string;
  /** The package's architecture as the index has it: the target's, or "all". */
  architecture: string;
}

// Inst libc6:armhf (2.36-9+deb12u14 Debian:12.15/oldstable [armhf])
// Inst node-xtend (4.0.2-3 Debian:12.15/oldstable [all]) []
const instLine = /^Inst (\S+?)(?::(\S+))? \((\S+) .*\[([^\]]+)\]\)/;

/** The packages of the simulation's Inst lines, in apt's order (dependencies before what needs them). */
export function parseSimulatedInstall(output: string): SimulatedInstall[] {
  const installs: SimulatedInstall[] = [];
  for (const line of output.split("\n")) {
    const match = instLine.exec(line);
    if (match) installs.push({ package: match[1]!, version: match[3]!, architecture: match[4]! });
  }
  return installs;
}
