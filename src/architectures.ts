/**
 * The nine architectures, one row each. Adding an architecture is one file
 * in native/arch/ and one row here.
 */
import { mipsErrnoOverrides } from "./errno.ts";
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
  /** QEMU's name for this architecture's user-mode emulator (qemu-aarch64); the binary run is the pinned qemu-user-static one (harness/toolchain/qemu-user.ts). */
  qemuUser: string;
  /** Byte order: errno-width bugs only show on big endian. */
  bigEndian: boolean;
  /**
   * An x86-64 kernel may execute this architecture's binaries natively (host
   * tier); whether this machine's does is measured (src/host-execution.ts).
   */
  x86_64KernelMayExecute: boolean;
  /** Errno numbers that differ from the asm-generic table (mips has its own). */
  errnoOverrides: Record<string, number>;
  /** SIGCHLD's number when it is not 17 (mips: 18): the exit signal clone must carry. */
  sigchld?: number;
  /** How the system tier boots this architecture: qemu-system and a Debian kernel. */
  system: SystemMachine;
}

/** One architecture's virtual machine for the system tier (docs/tiers.md has the table). */
export interface SystemMachine {
  /** qemu-system binary, and the Debian package that has it. */
  qemu: string;
  qemuPackage: string;
  /** Where that QEMU comes from when not this machine's apt: a suite whose amd64 package is unpacked into the cache. */
  qemuSuite?: string;
  /** Machine, CPU and device options. */
  machine: string[];
  memoryMiB: number;
  /** The most memory the machine model takes, where QEMU limits it (malta: 2 GiB); runs that want more (the memory benchmark) stay under it. */
  maxMemoryMiB?: number;
  /** The kernel's console device (console=...); a 16550 (ttyS0) at 115200 baud, whose receive timeout is then 0.35 ms, not 4 ms (docs/tiers.md). */
  console: string;
  /** QEMU's virtio-serial bus on this machine, for the system benchmark's virtio-console column; absent where the console already is the hypervisor's (hvc0) or the kernel cannot have one (the row says why). */
  virtioSerial?: "virtio-serial-pci" | "virtio-serial-device";
  /** Extra kernel command-line words. */
  append: string[];
  kernel: {
    /** Debian metapackage naming the current kernel of this flavour. */
    package: string;
    /** Debian's name of the architecture. */
    debianArchitecture: string;
    suite: string;
    /**
     * What -kernel is given: the compressed image, the ELF vmlinux, the
     * payload of an EFI zboot image, or (vmlinuz-pvh) the ELF vmlinux inside
     * an x86 bzImage, booted through its PVH entry: the guest then does not
     * decompress itself under TCG, 3.7 s of each amd64 boot.
     */
    image: "vmlinuz" | "vmlinux" | "vmlinuz-efi-zboot" | "vmlinuz-pvh";
  };
}

export function sigchldOf(architecture: Architecture): number {
  return architecture.sigchld ?? 17;
}

export const architectures: readonly Architecture[] = [
  { name: "amd64", clangTarget: "x86_64-linux-gnu", cflags: [], ldflags: [], qemuUser: "qemu-x86_64", bigEndian: false, x86_64KernelMayExecute: true, errnoOverrides: {}, system: { qemu: "qemu-system-x86_64", qemuPackage: "qemu-system-x86", machine: [], memoryMiB: 512, console: "ttyS0,115200", virtioSerial: "virtio-serial-pci", append: [], kernel: { package: "linux-image-amd64", debianArchitecture: "amd64", suite: "bookworm", image: "vmlinuz-pvh" } } },
  // No vmlinuz-pvh: Debian's 686 kernel is built without CONFIG_PVH (no PVH entry note).
  { name: "386", clangTarget: "i686-linux-gnu", cflags: [], ldflags: [], qemuUser: "qemu-i386", bigEndian: false, x86_64KernelMayExecute: true, errnoOverrides: {}, system: { qemu: "qemu-system-i386", qemuPackage: "qemu-system-x86", machine: [], memoryMiB: 512, console: "ttyS0,115200", virtioSerial: "virtio-serial-pci", append: [], kernel: { package: "linux-image-686", debianArchitecture: "i386", suite: "bookworm", image: "vmlinuz" } } },
  { name: "arm64", clangTarget: "aarch64-linux-gnu", cflags: [], ldflags: [], qemuUser: "qemu-aarch64", bigEndian: false, x86_64KernelMayExecute: false, errnoOverrides: {}, system: { qemu: "qemu-system-aarch64", qemuPackage: "qemu-system-arm", machine: ["-M", "virt", "-cpu", "cortex-a57"], memoryMiB: 512, console: "ttyAMA0", virtioSerial: "virtio-serial-device", append: [], kernel: { package: "linux-image-arm64", debianArchitecture: "arm64", suite: "bookworm", image: "vmlinuz" } } },
  // v7 hard-float, as Debian's armhf.
  { name: "arm", clangTarget: "armv7a-linux-gnueabihf", cflags: ["-mfloat-abi=hard"], ldflags: [], qemuUser: "qemu-arm", bigEndian: false, x86_64KernelMayExecute: false, errnoOverrides: {}, system: { qemu: "qemu-system-arm", qemuPackage: "qemu-system-arm", machine: ["-M", "virt"], memoryMiB: 512, console: "ttyAMA0", virtioSerial: "virtio-serial-device", append: [], kernel: { package: "linux-image-armmp", debianArchitecture: "armhf", suite: "bookworm", image: "vmlinuz" } } },
  { name: "ppc64le", clangTarget: "powerpc64le-linux-gnu", cflags: [], ldflags: [], qemuUser: "qemu-ppc64le", bigEndian: false, x86_64KernelMayExecute: false, errnoOverrides: {}, system: { qemu: "qemu-system-ppc64", qemuPackage: "qemu-system-ppc", machine: ["-M", "pseries,x-vof=on"], memoryMiB: 512, console: "hvc0", append: [], kernel: { package: "linux-image-powerpc64le", debianArchitecture: "ppc64el", suite: "bookworm", image: "vmlinux" } } },
  { name: "s390x", clangTarget: "s390x-linux-gnu", cflags: [], ldflags: [], qemuUser: "qemu-s390x", bigEndian: true, x86_64KernelMayExecute: false, errnoOverrides: {}, system: { qemu: "qemu-system-s390x", qemuPackage: "qemu-system-s390x", machine: ["-M", "s390-ccw-virtio"], memoryMiB: 512, console: "ttysclp0", virtioSerial: "virtio-serial-pci", append: [], kernel: { package: "linux-image-s390x", debianArchitecture: "s390x", suite: "bookworm", image: "vmlinuz" } } },
  { name: "riscv64", clangTarget: "riscv64-linux-gnu", cflags: [], ldflags: [], qemuUser: "qemu-riscv64", bigEndian: false, x86_64KernelMayExecute: false, errnoOverrides: {}, system: { qemu: "qemu-system-riscv64", qemuPackage: "qemu-system-misc", machine: ["-M", "virt", "-bios", "default"], memoryMiB: 512, console: "ttyS0,115200", virtioSerial: "virtio-serial-device", append: [], kernel: { package: "linux-image-riscv64", debianArchitecture: "riscv64", suite: "trixie", image: "vmlinuz" } } },
  // Without -G0 globals are read through $gp, which nothing sets in a freestanding static binary.
  {
    name: "mips64le", clangTarget: "mips64el-linux-gnuabi64", cflags: ["-fno-pic", "-mno-abicalls", "-G0"], ldflags: [], qemuUser: "qemu-mips64el", bigEndian: false, x86_64KernelMayExecute: false, sigchld: 18,
    errnoOverrides: mipsErrnoOverrides,
    system: { qemu: "qemu-system-mips64el", qemuPackage: "qemu-system-mips", machine: ["-M", "malta", "-cpu", "MIPS64R2-generic"], memoryMiB: 512, maxMemoryMiB: 2048, console: "ttyS0,115200", virtioSerial: "virtio-serial-pci", append: [], kernel: { package: "linux-image-5kc-malta", debianArchitecture: "mips64el", suite: "bookworm", image: "vmlinux" } },
  },
  // QEMU 7.2 does not emulate LSX/LASX. No virtioSerial: this kernel finds no PCI host bridge on the machine (its driver is not built in), so a virtio console never appears.
  { name: "loong64", clangTarget: "loongarch64-linux-gnu", cflags: ["-march=loongarch64", "-mno-lsx", "-mno-lasx"], ldflags: [], qemuUser: "qemu-loongarch64", bigEndian: false, x86_64KernelMayExecute: false, errnoOverrides: {}, system: { qemu: "qemu-system-loongarch64", qemuPackage: "qemu-system-misc", qemuSuite: "bookworm-backports", machine: ["-M", "virt"], memoryMiB: 1024, console: "ttyS0,115200", append: ["initcall_blacklist=i8042_init"], kernel: { package: "linux-image-loong64", debianArchitecture: "loong64", suite: "forky", image: "vmlinuz-efi-zboot" } } },
];

export function findArchitecture(name: string): Architecture | undefined {
  return architectures.find((architecture) => architecture.name === name);
}
