/**
 * The nine architectures, one row each. Adding an architecture is one file
 * in native/arch/ and one row here.
 */
export type ArchitectureName =
  | "amd64" | "386" | "arm64" | "arm" | "ppc64le" | "s390x" | "riscv64" | "mips64le" | "loong64";

export interface Architecture {
  name: ArchitectureName;
  /** clang --target triple. */
  clangTarget: string;
  /** Extra compiler flags this target needs (why, in the comment of the row). */
  cflags: string[];
  /** Extra linker flags. */
  ldflags: string[];
  /** qemu-user binary name (qemu-user package). */
  qemuUser: string;
  /** Byte order: errno-width bugs only show on big endian. */
  bigEndian: boolean;
  /** Runs natively on an x86_64 host kernel (host tier). */
  runsOnAmd64Host: boolean;
  /** Errno numbers that differ from the asm-generic table (mips has its own). */
  errnoOverrides: Record<string, number>;
  /** SIGCHLD's number when it is not 17 (mips: 18): the exit signal clone must carry. */
  sigchld?: number;
}

export function sigchldOf(architecture: Architecture): number {
  return architecture.sigchld ?? 17;
}

export const architectures: readonly Architecture[] = [
  { name: "amd64", clangTarget: "x86_64-linux-gnu", cflags: [], ldflags: [], qemuUser: "qemu-x86_64", bigEndian: false, runsOnAmd64Host: true, errnoOverrides: {} },
  { name: "386", clangTarget: "i686-linux-gnu", cflags: [], ldflags: [], qemuUser: "qemu-i386", bigEndian: false, runsOnAmd64Host: true, errnoOverrides: {} },
  { name: "arm64", clangTarget: "aarch64-linux-gnu", cflags: [], ldflags: [], qemuUser: "qemu-aarch64", bigEndian: false, runsOnAmd64Host: false, errnoOverrides: {} },
  // v7 hard-float, as Debian's armhf.
  { name: "arm", clangTarget: "armv7a-linux-gnueabihf", cflags: ["-mfloat-abi=hard"], ldflags: [], qemuUser: "qemu-arm", bigEndian: false, runsOnAmd64Host: false, errnoOverrides: {} },
  { name: "ppc64le", clangTarget: "powerpc64le-linux-gnu", cflags: [], ldflags: [], qemuUser: "qemu-ppc64le", bigEndian: false, runsOnAmd64Host: false, errnoOverrides: {} },
  { name: "s390x", clangTarget: "s390x-linux-gnu", cflags: [], ldflags: [], qemuUser: "qemu-s390x", bigEndian: true, runsOnAmd64Host: false, errnoOverrides: {} },
  { name: "riscv64", clangTarget: "riscv64-linux-gnu", cflags: [], ldflags: [], qemuUser: "qemu-riscv64", bigEndian: false, runsOnAmd64Host: false, errnoOverrides: {} },
  // Without -G0 globals are read through $gp, which nothing sets in a freestanding static binary.
  {
    name: "mips64le", clangTarget: "mips64el-linux-gnuabi64", cflags: ["-fno-pic", "-mno-abicalls", "-G0"], ldflags: [], qemuUser: "qemu-mips64el", bigEndian: false, runsOnAmd64Host: false, sigchld: 18,
    errnoOverrides: { ENAMETOOLONG: 78, ELOOP: 90, EUSERS: 94, ENOSYS: 89, ENOTEMPTY: 93 },
  },
  // QEMU 7.2 does not emulate LSX/LASX.
  { name: "loong64", clangTarget: "loongarch64-linux-gnu", cflags: ["-march=loongarch64", "-mno-lsx", "-mno-lasx"], ldflags: [], qemuUser: "qemu-loongarch64", bigEndian: false, runsOnAmd64Host: false, errnoOverrides: {} },
];

export function findArchitecture(name: string): Architecture | undefined {
  return architectures.find((architecture) => architecture.name === name);
}
