#!/usr/bin/env python3
"""A vforkcheck driver for an implementation the project does not know.

The worked example of docs/protocol.md: a Python program whose spawn is the
C library's posix_spawn(3), called through ctypes, put under every property
with

    npx vforkcheck gate --impl-cmd "python3 docs/examples/posix-spawn-driver.py" --tier host

It reads `case` lines on standard input and answers one `result` line each.
posix_spawn has no clone or unshare flags and no id maps, so its hello does
not declare clone_flags, unshare_flags or id_maps: the harness then sends no
such case and skips namespace-fallback, saying why. It cannot see its
caller's stack either, so it does not declare canaries and sends the neutral
`ok`.
"""
import ctypes
import os
import platform
import sys

REPORT_FD = 63  # where the report pipe goes when a case has no report_fd
REPORT_PIPE_BYTES = 32768  # the exec target finds the report pipe by this size
FEATURES = "setsid,setpgid,cwd,fds,memory,raw_strings,repeat_runs,report_fd_any"
POSIX_SPAWN_SETPGROUP = 0x02  # glibc's values
POSIX_SPAWN_SETSID = 0x80
WALL = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)
libc.lseek.argtypes = [ctypes.c_int, ctypes.c_long, ctypes.c_int]
libc.lseek.restype = ctypes.c_long
ARCHITECTURES = {"x86_64": "amd64", "i686": "386", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
                 "s390x": "s390x", "riscv64": "riscv64", "mips64": "mips64le", "loongarch64": "loong64"}


class Malformed(Exception):
    pass


def decode_item(text):
    """x<hex>, with *<count>; repeating the byte before (repeat_runs)."""
    if not text.startswith("x"):
        raise Malformed(f"item {text[:20]!r} does not start with x")
    out, i = bytearray(), 1
    while i < len(text):
        if text[i] == "*":
            end = text.find(";", i)
            if end < 0 or not out or not text[i + 1:end].isdigit() or int(text[i + 1:end]) < 1:
                raise Malformed("bad repeat segment")
            out += out[-1:] * int(text[i + 1:end])
            i = end + 1
        else:
            try:
                out.append(int(text[i:i + 2], 16))
            except ValueError:
                raise Malformed(f"bad hex in item {text[:20]!r}") from None
            i += 2
    return bytes(out)


def decode_list(text):
    return [] if text == "" else [decode_item(item) for item in text.split(",")]


def encode_item(data):
    return "x" + data.hex()


def open_descriptors():
    return sorted(int(name) for name in os.listdir("/proc/self/fd"))


def without_cloexec():
    """What a child inherits: the open descriptors that are not close-on-exec."""
    import fcntl
    found = []
    for fd in open_descriptors():
        try:
            if not fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC:
                found.append(fd)
        except OSError:
            pass  # the listing's own descriptor, closed by now
    return found


def c_strings(items):
    array = (ctypes.c_char_p * (len(items) + 1))(*items, None)
    return array


def spawn(case):
    """posix_spawn with the case's attributes and file actions; (pid, 0) or (0, errno)."""
    actions = ctypes.create_string_buffer(1024)  # posix_spawn_file_actions_t, generously sized
    attributes = ctypes.create_string_buffer(1024)  # posix_spawnattr_t
    libc.posix_spawn_file_actions_init(actions)
    libc.posix_spawnattr_init(attributes)
    flags = (POSIX_SPAWN_SETSID if case["setsid"] else 0) | (POSIX_SPAWN_SETPGROUP if case["setpgid"] else 0)
    libc.posix_spawnattr_setflags(attributes, ctypes.c_short(flags))
    libc.posix_spawnattr_setpgroup(attributes, 0)
    if case["cwd"] is not None:
        libc.posix_spawn_file_actions_addchdir_np(actions, case["cwd"])
    libc.posix_spawn_file_actions_adddup2(actions, case["report_write"], case["report_fd"])
    for fd in case["fds"]:
        libc.posix_spawn_file_actions_addopen(actions, fd, b"/dev/null", os.O_RDWR, 0)
    pid = ctypes.c_int(0)
    error = libc.posix_spawn(ctypes.byref(pid), case["path"], actions, attributes, c_strings(case["argv"]), c_strings(case["env"]))
    libc.posix_spawn_file_actions_destroy(actions)
    libc.posix_spawnattr_destroy(attributes)
    return (pid.value, 0) if error == 0 else (0, error)


def parse_case(line):
    fields = dict(token.split("=", 1) for token in line.split(" ")[1:] if "=" in token)
    if not line.startswith("case ") or "id" not in fields or "path" not in fields:
        raise Malformed("expected 'case id=... path=...'")
    if int(fields.get("clone", "0"), 16) or int(fields.get("unshare", "0"), 16):
        raise Malformed("posix_spawn takes no clone or unshare flags")
    return {
        "id": int(fields["id"]),
        "path": decode_item(fields["path"]),
        "argv": decode_list(fields.get("argv", "")),
        "env": decode_list(fields.get("env", "")),
        "setsid": fields.get("setsid") == "1",
        "setpgid": fields.get("setpgid") == "1",
        "fds": [int(fd) for fd in fields.get("fds", "").split(",") if fd],
        "report_fd": int(fields.get("report_fd", REPORT_FD)),
        "memory": int(fields.get("memory", "0")),
        "cwd": decode_item(fields["cwd"]) if "cwd" in fields else None,
    }


def run_case(line):
    try:
        case = parse_case(line)
    except (Malformed, ValueError) as error:
        return f"error id=-1 reason={encode_item(str(error).encode())}"
    before = len(open_descriptors())
    memory = bytearray(case["memory"])  # touched: one write per page
    for offset in range(0, len(memory), 4096):
        memory[offset] = 1
    import fcntl
    report_read, report_write = os.pipe2(os.O_CLOEXEC)
    fcntl.fcntl(report_write, fcntl.F_SETPIPE_SZ, REPORT_PIPE_BYTES)
    # Above every target, so that no file action replaces it before its dup2.
    above = max([case["report_fd"], *case["fds"]]) + 1
    case["report_write"] = fcntl.fcntl(report_write, fcntl.F_DUPFD_CLOEXEC, above)
    os.close(report_write)
    report_write = case["report_write"]
    # The observer's markers around the spawn, on this thread: both fail with EBADF.
    libc.lseek(-1, case["id"], os.SEEK_SET)
    pid, error = spawn(case)
    libc.lseek(-1, case["id"], os.SEEK_END)
    del memory
    os.close(report_write)
    report = b""
    while chunk := os.read(report_read, 65536):
        report += chunk
    os.close(report_read)
    fields = [f"id={case['id']}"]
    if error:
        fields.append(f"outcome=error errno={error}")
    else:
        waited, status = os.waitpid(pid, 0)
        state = f"exited:{os.WEXITSTATUS(status)}" if os.WIFEXITED(status) else f"signaled:{os.WTERMSIG(status)}"
        relayed = encode_item(report.rstrip(b"\n"))
        fields.append(f"outcome=spawned pid={pid} waited={int(waited == pid)} status={state} suspended=unknown report={relayed}")
    zombies = 0
    while True:
        try:
            reaped, _ = os.waitpid(-1, os.WNOHANG | WALL)
        except ChildProcessError:
            break
        if reaped == 0:
            break
        zombies += 1
    leaked = len(open_descriptors()) - before
    fields.append(f"zombies={zombies} live_children=0 leaked_fds={leaked} stack_canaries=ok register_canaries=ok")
    return "result " + " ".join(fields)


def main():
    if sys.argv[1:] not in ([], ["--driver"]):
        print("usage: posix-spawn-driver.py [--driver]", file=sys.stderr)
        return 2
    # The protocol on private descriptors; children get /dev/null as stdin and stdout.
    import fcntl
    protocol_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 200)
    protocol_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 200)
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    inherited = ",".join(str(fd) for fd in without_cloexec())
    hello = (f"hello protocol=1 impl=python-posix-spawn arch={ARCHITECTURES.get(platform.machine(), platform.machine())} pid={os.getpid()} "
             f"euid={os.geteuid()} egid={os.getegid()} pgid={os.getpgid(0)} sid={os.getsid(0)} cwd={encode_item(os.getcwd().encode())} "
             f"inherited_fds={inherited} report_fd={REPORT_FD} features={FEATURES}")
    out = os.fdopen(protocol_out, "w", buffering=1, encoding="latin-1")
    print(hello, file=out)
    for raw in os.fdopen(protocol_in, "rb"):
        line = raw.decode("latin-1").rstrip("\n")
        if line:
            print(run_case(line), file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
