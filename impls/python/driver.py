"""vforkcheck's CPython driver: speaks the driver line protocol
(docs/protocol.md) and spawns every case through CPython's own spawn, the
implementation under test: subprocess.Popen (on its _posixsubprocess vfork
path or on its posix_spawn path) or os.posix_spawn. It mirrors the reference
(native/driver.c), Go (impls/go/driver.go) and Node (impls/node/driver.ts)
drivers in everything that is not the spawn: parsing and validation, the
child's descriptors, the observer markers and the post-case measurements.

    /usr/bin/python3.11 impls/python/driver.py --driver
    npx vforkcheck gate --impl python@3.11 --tier host,user
    npx vforkcheck gate --impl-cmd "/usr/bin/python3.11 $PWD/impls/python/driver.py --driver" --tier host

(--impl-cmd runs the command as given, without appending --driver.)

One file, standard library only, Python 3.11 syntax, and only modules that
Debian's python3.X-minimal ships (3.11, 3.13, 3.14): no ctypes, no mmap, no
resource. Any other invocation than `--driver` is a usage error (exit 2).

Entry points (hello entry_points; a case's `entry`, the first by default):
  - popen_vfork: subprocess.Popen(argv, executable=path, env=..., cwd=...,
    pass_fds=..., start_new_session=..., process_group=0 or None,
    close_fds=True, restore_signals=True) with subprocess._USE_POSIX_SPAWN
    set to False just before (a module global Popen reads at call time), so
    that _posixsubprocess.fork_exec runs the child on glibc's vfork()
    (CLONE_VM|CLONE_VFORK). Expresses every dimension of the features:
    setsid (start_new_session), setpgid (process_group=0), cwd, fds,
    memory, signal_state. fds and the report go by pass_fds: this process
    puts /dev/null at each number and the report pipe's write end at 63,
    all close-on-exec as a Python program's descriptors are (PEP 446), and
    the spawn must make them inheritable in the child; an inheritable
    parent descriptor would hide a pass_fds that forgot to. A failed child
    step's errno comes back through CPython's error pipe
    ("OSError:<hex errno>:...").
  - popen_posix_spawn: the same Popen call with _USE_POSIX_SPAWN = True,
    close_fds=False and no cwd, pass_fds, start_new_session or
    process_group (each of them silently routes Popen back to the vfork
    path), so that Popen takes _posix_spawn, glibc's posix_spawn. The child
    gets its descriptors by plain inheritance: the report pipe's write end
    at 63 and /dev/null at each case number are opened inheritable here,
    and every other descriptor of this driver is close-on-exec. Expresses
    fds, memory and signal_state (and argv, env); a case with setsid,
    setpgid or cwd is refused. The errno of a failed child step comes back
    in memory the vfork child shares (glibc's posix_spawn_args.err).
  - os_posix_spawn: os.posix_spawn(path, argv, env, file_actions=...,
    setpgroup=0 when asked, setsid=...). Expresses setsid, setpgid, fds,
    memory, signal_state; no cwd (os.posix_spawn has none). Descriptors go
    by file actions, POSIX_SPAWN_DUP2 from close-on-exec sources above every
    target (the report pipe's write end onto 63, one /dev/null onto each
    case number): that is the spawn's own descriptor mapping, which
    descriptor-table is about, where popen_posix_spawn already covers
    inheritance. errno: shared memory, as above.
The hello's entry_features, entry_errno_channels and
entry_signals_defaulted say this per entry. All three take the fast path
on glibc, so the hello claims fast_path: _posixsubprocess calls vfork()
(the vfork system call on amd64, clone(CLONE_VM|CLONE_VFORK|SIGCHLD)
elsewhere) and glibc's posix_spawn clone3(CLONE_VM|CLONE_VFORK) (measured
under strace with 3.11.2 on glibc 2.36 and 3.14.8 on glibc 2.41, which adds
CLONE_CLEAR_SIGHAND). Under qemu-user the vfork is a fork, and a
shared_memory errno cannot arrive: the harness reads entry_errno_channels. Both Popen paths pass
restore_signals=True, Popen's default, which puts SIGPIPE and SIGXFSZ
(ignored by CPython at start-up) back to SIG_DFL in the child whatever this
process had: entry_signals_defaulted, in this architecture's numbers.

What else CPython cannot express, and what the driver does about it:
  - no clone or unshare flags, no id maps, no parent_fds, no report_fd_any,
    no pidfd, no threads, no storm: not in the features; such a field gets
    an `error` line, as does a dimension its entry does not honour (the
    harness never sends one; refusing makes a harness bug show).
  - env is a mapping (bytes to bytes, as os.environb): an entry without '='
    and a duplicate key cannot be passed, so no raw_strings; refused. The
    posix_spawn entries also refuse an empty key and an empty argv or
    argv[0], which os.posix_spawn raises ValueError for.
  - a path without '/' is passed as "./path": Popen would search PATH,
    execve resolves it against the working directory.
  - suspended is `unknown`, and the canaries are `ok`: without ctypes
    nothing here can call kcmp or look at the caller's frame.
  - a spawn that raises OSError answers outcome=error with its errno and
    failed_pid=none (no Popen object, no pid, is handed back). A spawn that
    fails with anything else (SubprocessError "Bad exception data from
    child", say) has no errno: it answers outcome=error errno=0 with
    raised=<the exception>, a failure of the spawn the oracle judges (an
    invented errno could even match what it expects).
  - memory is a bytearray, one byte per 4 KiB written, held across the
    spawn and freed after (glibc's malloc maps large ones fresh).
  - signal_state: signal.pthread_sigmask(SIG_SETMASK, sigmask) on this (the
    only) thread, SIG_IGN for sigignore and a do-nothing Python handler
    for sighandle, set just before the start marker and put back just
    after the end marker. A signal glibc keeps for itself (32, 33: not in
    signal.valid_signals()) is refused with the others the protocol says.

The reap: os.waitpid(pid, 0) gives waited and status; the Popen object is
then given the returncode, so that neither its __del__ nor a later Popen's
_cleanup() calls waitpid on a pid that may belong to someone else by then.
Popen.wait() is not used: it turns ECHILD into returncode 0 and would hide
a child that something else reaped.

The driver's own descriptors (protocol, report pipe, sources) are
close-on-exec and sit at 1000 and above (300 and above where the
descriptor limit is under 1024; a case that names one is refused), above
every number a case draws (900 at most). signals_kept: none (the driver
installs no handler of its own and waits with waitpid). No threads.
"""
import fcntl
import os
import signal
import struct
import subprocess
import sys

REPORT_FD = 63  # where the exec target writes its report (no report_fd_any)
REPORT_PIPE_BYTES = 32768  # the exec target finds the report pipe by this size
MAX_LINE_BYTES = 64 << 20
MAX_LIST_ITEMS = 100000
MAX_REPEAT_COUNT = 64 << 20
MAX_TARGETS = 63  # native/spawn.h SPAWN_MAX_DESCRIPTOR_MOVES, less the report's
MAX_FD = 1023
WALL = 0x40000000  # __WALL: also children whose exit signal is not SIGCHLD
SEEK_SET, SEEK_END = 0, 2

ENTRY_POINTS = ("popen_vfork", "popen_posix_spawn", "os_posix_spawn")
# The case dimensions of the hello's features; an entry listed here honours only its own.
CASE_DIMENSIONS = ("setsid", "setpgid", "cwd", "fds", "memory", "signal_state")
ENTRY_FEATURES = {
    "popen_posix_spawn": ("fds", "memory", "signal_state"),
    "os_posix_spawn": ("setsid", "setpgid", "fds", "memory", "signal_state"),
}
ENTRY_ERRNO_CHANNELS = {"popen_vfork": "pipe", "popen_posix_spawn": "shared_memory", "os_posix_spawn": "shared_memory"}
# restore_signals=True (_Py_RestoreSignals, Popen._posix_spawn's setsigdef).
DEFAULTED_SIGNALS = (int(signal.SIGPIPE), int(signal.SIGXFSZ))  # this architecture's numbers (mips differs)
ENTRY_SIGNALS_DEFAULTED = {"popen_vfork": DEFAULTED_SIGNALS, "popen_posix_spawn": DEFAULTED_SIGNALS}
FEATURES = CASE_DIMENSIONS + ("repeat_runs", "fast_path")

VALID_SIGNALS = {int(number) for number in signal.valid_signals()}
WORD_BYTES = struct.calcsize("P")
ARCHITECTURES = {
    "x86_64": "amd64", "i386": "386", "i486": "386", "i586": "386", "i686": "386",
    "aarch64": "arm64", "armv7l": "arm", "armv8l": "arm", "ppc64le": "ppc64le", "s390x": "s390x",
    "riscv64": "riscv64", "mips64": "mips64le", "loongarch64": "loong64",
}
HEX_DIGITS = str.maketrans("", "", "0123456789abcdefABCDEF")
DECIMAL_DIGITS = str.maketrans("", "", "0123456789")


class Refused(Exception):
    """A case line the driver will not run: answered with an `error` line."""


def architecture():
    machine = os.uname().machine
    name = ARCHITECTURES.get(machine, machine)
    # A 32-bit Python on a 64-bit kernel (uname says the kernel's machine).
    if WORD_BYTES == 4 and name == "amd64":
        return "386"
    if WORD_BYTES == 4 and name == "arm64":
        return "arm"
    return name


# ---- encodings (docs/protocol.md, Encodings) --------------------------------

def hex_reason(text):
    return text.encode("utf-8", "backslashreplace").hex()


def encode_item(data):
    return "x" + data.hex()


def parse_decimal(text):
    """An optional '-', then 1 to 18 digits."""
    digits = text[1:] if text.startswith("-") else text
    if not 1 <= len(digits) <= 18 or digits.translate(DECIMAL_DIGITS) or not digits.isascii():
        raise Refused("malformed decimal")
    return int(text)


def parse_hex_number(text):
    """Flags: hex without 0x, at most an unsigned long's digits."""
    if not 1 <= len(text) <= 2 * WORD_BYTES or text.translate(HEX_DIGITS):
        raise Refused("malformed flags")
    return int(text, 16)


def hex_bytes(text):
    if len(text) % 2 or text.translate(HEX_DIGITS):
        raise Refused("malformed item")
    return bytes.fromhex(text)


def decode_item(text):
    """x<hex>, where *<count>; repeats the byte before it count more times (repeat_runs)."""
    if not text.startswith("x"):
        raise Refused("an item must start with x")
    pieces = text[1:].split("*")
    out = bytearray(hex_bytes(pieces[0]))
    for piece in pieces[1:]:
        count, semicolon, rest = piece.partition(";")
        if not semicolon or not out:
            raise Refused("malformed repeat segment")
        repeat = parse_decimal(count)
        if not 1 <= repeat <= MAX_REPEAT_COUNT:
            raise Refused("repeat count out of range")
        out += out[-1:] * repeat
        out += hex_bytes(rest)
    return bytes(out)


def decode_list(text):
    if text == "":
        return []
    items = text.split(",")
    if len(items) > MAX_LIST_ITEMS:
        raise Refused("too many items")
    return [decode_item(item) for item in items]


def decode_numbers(text, low, high, capacity):
    if text == "":
        return []
    numbers = [parse_decimal(part) for part in text.split(",")]
    if len(numbers) > capacity or any(not low <= n <= high for n in numbers):
        raise Refused("number out of range")
    return numbers


# ---- a case line --------------------------------------------------------------

class Case:
    def __init__(self):
        self.id = -1
        self.path = None
        self.cwd = None  # None: no chdir
        self.argv = []
        self.env = []
        self.setsid = False
        self.setpgid = False
        self.fds = []
        self.memory = 0
        self.sigmask = self.sigignore = self.sighandle = None  # None: no signal state
        self.entry = None


def case_id_of(line):
    """The id, when one can be read, for an error line about a case that cannot."""
    for token in line.split(" ")[1:]:
        if token.startswith("id="):
            try:
                return parse_decimal(token[3:])
            except Refused:
                return -1
    return -1


def parse_case(line, entries, held_fds, inherited):
    if not line.startswith("case "):
        raise Refused("not a case line")
    case = Case()
    case.entry = entries[0]  # what a case without entry uses
    flags = {}
    for token in line[5:].split(" "):
        key, equals, value = token.partition("=")
        if not equals:
            raise Refused("a field without '='")
        if key == "id":
            case.id = parse_decimal(value)
            if case.id < 0:
                raise Refused("malformed id")
        elif key in ("path", "cwd"):
            setattr(case, key, decode_item(value))
        elif key in ("argv", "env"):
            setattr(case, key, decode_list(value))
        elif key in ("clone", "unshare"):
            flags[key] = parse_hex_number(value)
        elif key in ("setsid", "setpgid"):
            bit = parse_decimal(value)
            if bit not in (0, 1):
                raise Refused("malformed value")
            setattr(case, key, bit == 1)
        elif key in ("uid", "gid"):
            parse_decimal(value)  # only meaningful with CLONE_NEWUSER, which is refused
        elif key == "memory":
            case.memory = parse_decimal(value)
            if case.memory < 0:
                raise Refused("malformed memory")
        elif key == "fds":
            case.fds = decode_numbers(value, 0, MAX_FD, MAX_TARGETS)
        elif key in ("sigmask", "sigignore", "sighandle"):
            numbers = decode_numbers(value, 1, signal.NSIG - 1, 128)
            # glibc keeps 32 and 33 for itself: this Python cannot set them (valid_signals).
            if not set(numbers) <= VALID_SIGNALS:
                raise Refused("a signal this Python cannot set")
            setattr(case, key, numbers)
        elif key == "entry":
            if value not in entries:
                raise Refused("unknown entry point")
            case.entry = value
        else:
            raise Refused("unknown field")
    if case.id < 0 or case.path is None:
        raise Refused("id and path are required")
    if flags.get("clone") or flags.get("unshare"):
        raise Refused("clone/unshare flags: CPython's spawn has none")
    signals = (case.sigmask, case.sigignore, case.sighandle)
    if any(s is not None for s in signals):
        case.sigmask, case.sigignore, case.sighandle = (s or [] for s in signals)
        kept = {signal.SIGKILL, signal.SIGSTOP}
        if kept & set(case.sigignore + case.sighandle):
            raise Refused("signal state: a disposition for SIGKILL or SIGSTOP")
        if set(case.sigignore) & set(case.sighandle):
            raise Refused("signal state: a signal both ignored and handled")
    if REPORT_FD in case.fds:
        raise Refused("fds holds the report descriptor")
    if set(case.fds) & held_fds:
        raise Refused("fds holds a descriptor of the driver's own")
    if set(case.fds) & inherited:
        # The Popen entries put /dev/null there in this process and close it after.
        raise Refused("fds holds an inherited descriptor")
    # What the case asks of its entry, and what that entry honours (hello entry_features).
    asked = {"setsid": case.setsid, "setpgid": case.setpgid, "cwd": case.cwd is not None, "fds": bool(case.fds),
             "memory": case.memory > 0, "signal_state": case.sigmask is not None}
    honoured = ENTRY_FEATURES.get(case.entry, CASE_DIMENSIONS)
    for dimension in CASE_DIMENSIONS:
        if asked[dimension] and dimension not in honoured:
            raise Refused(f"{dimension}: not expressible with entry {case.entry}")
    return case


# ---- what CPython can pass ------------------------------------------------------

def executable_of(path):
    if b"\0" in path:
        raise Refused("path: contains NUL")
    if path == b"":
        raise Refused("path: empty")
    # Popen searches PATH for a name without '/'; execve resolves it here.
    return path if b"/" in path else b"./" + path


def environment_of(case):
    """The case's env as the bytes mapping CPython takes, in the case's order."""
    env = {}
    for index, entry in enumerate(case.env):
        key, equals, value = entry.partition(b"=")
        if not equals:
            raise Refused(f"env[{index}]: an entry without '=' cannot be passed in a mapping")
        if key in env:
            raise Refused(f"env[{index}]: a duplicate key cannot be passed in a mapping")
        if b"\0" in entry:
            raise Refused(f"env[{index}]: contains NUL")
        if key == b"" and case.entry != "popen_vfork":
            raise Refused(f"env[{index}]: os.posix_spawn refuses an empty key")
        env[key] = value
    return env


def check_arguments(case):
    if any(b"\0" in arg for arg in case.argv) or (case.cwd is not None and b"\0" in case.cwd):
        raise Refused("argv or cwd: contains NUL")
    if case.entry != "popen_vfork" and (not case.argv or case.argv[0] == b""):
        raise Refused("argv: os.posix_spawn refuses an empty argv or argv[0]")


# ---- descriptors ----------------------------------------------------------------

def open_descriptors():
    return [int(name) for name in os.listdir("/proc/self/fd")]


def inherited_descriptors():
    """What every child inherits: the open descriptors without close-on-exec."""
    found = []
    for fd in sorted(open_descriptors()):
        try:
            if not fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC:
                found.append(fd)
        except OSError:
            pass  # the listing's own descriptor, closed by now
    return found


def move_above(fd, floor):
    """fd moved to the lowest free number >= floor, close-on-exec."""
    try:
        return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, floor)
    finally:
        os.close(fd)


# ---- the parent's signal state -------------------------------------------------

def do_nothing(signum, frame):
    pass


def apply_signals(case):
    """Sets the case's mask and dispositions; returns how to put the driver's back."""
    old_mask = signal.pthread_sigmask(signal.SIG_SETMASK, case.sigmask)
    previous = []

    def restore():
        for number, handler in reversed(previous):
            signal.signal(number, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)

    try:
        for numbers, handler in ((case.sigignore, signal.SIG_IGN), (case.sighandle, do_nothing)):
            for number in numbers:
                previous.append((number, signal.signal(number, handler)))
    except BaseException:
        restore()
        raise
    return restore


# ---- the spawn -----------------------------------------------------------------

def spawn(case, executable, env, report_write, null_source):
    """Through the case's entry point: (pid, Popen or None). Raises what the spawn raises."""
    if case.entry == "os_posix_spawn":
        actions = [(os.POSIX_SPAWN_DUP2, report_write, REPORT_FD)]
        actions += [(os.POSIX_SPAWN_DUP2, null_source, fd) for fd in case.fds]
        extra = {"setpgroup": 0} if case.setpgid else {}
        return os.posix_spawn(executable, case.argv, env, file_actions=actions, setsid=case.setsid, **extra), None
    if case.entry == "popen_posix_spawn":
        subprocess._USE_POSIX_SPAWN = True
        process = subprocess.Popen(case.argv, executable=executable, env=env, close_fds=False, restore_signals=True)
        return process.pid, process
    subprocess._USE_POSIX_SPAWN = False
    process = subprocess.Popen(case.argv, executable=executable, env=env, cwd=case.cwd, pass_fds=(REPORT_FD, *case.fds),
                               start_new_session=case.setsid, process_group=0 if case.setpgid else None,
                               close_fds=True, restore_signals=True)
    return process.pid, process


def marker(case_id, whence):
    """The observer's marker, lseek(-1, id, whence): fails with EBADF, harmlessly."""
    try:
        os.lseek(-1, case_id, whence)
    except OSError:
        pass


def wait_status(status):
    if os.WIFEXITED(status):
        return f"exited:{os.WEXITSTATUS(status)}"
    if os.WIFSIGNALED(status):
        return f"signaled:{os.WTERMSIG(status)}"
    return f"exited:{status}"


def hold_memory(size):
    """size bytes, one write per 4 KiB page; best effort, as the reference and Node."""
    if size <= 0:
        return None
    try:
        held = bytearray(size)
        held[::4096] = b"\1" * len(range(0, size, 4096))
        return held
    except MemoryError:
        os.write(2, f"python driver: could not hold {size} bytes\n".encode())
        return None


def reap_leftovers():
    """Zombies reaped now (so the next case starts clean), and whether a child still runs."""
    zombies = 0
    while True:
        try:
            reaped, _ = os.waitpid(-1, os.WNOHANG | WALL)
        except ChildProcessError:
            return zombies, 0
        if reaped == 0:
            return zombies, 1
        zombies += 1


def run_case(case, floor):
    """One case, spawned through its entry point: the result line's fields."""
    executable = executable_of(case.path)
    env = environment_of(case)
    check_arguments(case)
    before = len(open_descriptors())
    held = hold_memory(case.memory)
    # The driver's own descriptors sit above every number the child gets.
    base = max([floor, REPORT_FD + 1] + [fd + 1 for fd in case.fds])
    opened = []  # every descriptor this case opens, closed after it
    pid, process, failure = None, None, None
    report_read = -1
    try:
        read_end, write_end = os.pipe2(os.O_CLOEXEC)
        report_read = move_above(read_end, base)
        opened.append(report_read)
        report_write = move_above(write_end, base)
        opened.append(report_write)
        fcntl.fcntl(report_write, fcntl.F_SETPIPE_SZ, REPORT_PIPE_BYTES)
        null_source = move_above(os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC), base)
        opened.append(null_source)
        if case.entry != "os_posix_spawn":
            # At the child's numbers in this process: inheritable for posix_spawn's plain
            # inheritance, close-on-exec for pass_fds (the spawn makes them inheritable).
            inheritable = case.entry == "popen_posix_spawn"
            for fd in sorted({REPORT_FD, *case.fds}):
                os.dup2(report_write if fd == REPORT_FD else null_source, fd, inheritable=inheritable)
                opened.append(fd)
            for fd in (report_write, null_source):
                os.close(fd)
                opened.remove(fd)
    except OSError as error:
        for fd in opened:
            os.close(fd)
        del held
        raise Refused(f"setting up the case failed: {error}") from None
    try:
        # A signal state that cannot be set is the answer's errno (docs/protocol.md).
        restore = apply_signals(case) if case.sigmask is not None else None
    except OSError as error:
        restore, failure = None, error
    try:
        if failure is None:
            marker(case.id, SEEK_SET)
            try:
                pid, process = spawn(case, executable, env, report_write, null_source)
            except Exception as error:  # OSError, or one without an errno (SubprocessError): below
                failure = error
            finally:
                marker(case.id, SEEK_END)
                if restore:
                    restore()
    finally:
        for fd in opened:
            if fd != report_read:
                os.close(fd)
    fields = []
    try:
        if failure is not None:
            # No Popen object and no pid is handed back by a spawn that raises.
            if isinstance(failure, OSError) and failure.errno:
                fields.append(f"outcome=error errno={failure.errno} failed_pid=none")
            else:
                # A failure without an errno (SubprocessError "Bad exception data from child"): the runtime's own.
                raised = encode_item(f"{type(failure).__name__}: {failure}".encode("utf-8", "replace"))
                fields.append(f"outcome=error errno=0 raised={raised} failed_pid=none")
        else:
            report = bytearray()
            while chunk := os.read(report_read, 65536):
                report += chunk
            try:
                waited, status = os.waitpid(pid, 0)
            except ChildProcessError:
                waited, status = 0, 0
            if process is not None and waited == pid:
                # Popen must not wait for this pid again (__del__, a later Popen's _cleanup()).
                process.returncode = os.waitstatus_to_exitcode(status)
            relayed = encode_item(bytes(report).rstrip(b"\n"))
            fields.append(f"outcome=spawned pid={pid} waited={int(waited == pid)} status={wait_status(status)} "
                          f"suspended=unknown report={relayed}")
    finally:
        os.close(report_read)
        del process, held
    zombies, live = reap_leftovers()
    leaked = len(open_descriptors()) - before
    fields.append(f"zombies={zombies} live_children={live} leaked_fds={leaked} stack_canaries=ok register_canaries=ok")
    return fields


def answer(line, floor, held_fds, entries, inherited):
    try:
        case = parse_case(line, entries, held_fds, inherited)
        return f"result id={case.id} " + " ".join(run_case(case, floor)) + "\n"
    except Refused as refusal:
        reason = str(refusal)
    except Exception as error:  # never die on a case: say what went wrong (a spawn's SubprocessError, say)
        reason = f"python driver: {type(error).__name__}: {error}"
    reap_leftovers()  # whatever the refused case left, so that the next case starts clean
    return f"error id={case_id_of(line)} reason={hex_reason(reason)}\n"


# ---- hello and the loop ---------------------------------------------------------

def hello(entries, inherited):
    def per_entry(table, join):
        return ",".join(f"{name}:{join(table[name])}" for name in entries if name in table)

    fields = [
        "hello protocol=1 impl=python", f"arch={architecture()}", f"pid={os.getpid()}",
        f"euid={os.geteuid()}", f"egid={os.getegid()}", f"pgid={os.getpgid(0)}", f"sid={os.getsid(0)}",
        f"cwd={encode_item(os.getcwdb())}", "inherited_fds=" + ",".join(map(str, inherited)),
        f"report_fd={REPORT_FD}", "features=" + ",".join(FEATURES),
        "entry_points=" + ",".join(entries),
        "entry_features=" + per_entry(ENTRY_FEATURES, "+".join),
        "entry_errno_channels=" + per_entry(ENTRY_ERRNO_CHANNELS, str),
        "entry_signals_defaulted=" + per_entry(ENTRY_SIGNALS_DEFAULTED, lambda numbers: "+".join(map(str, numbers))),
    ]
    return " ".join(fields) + "\n"


def write_all(fd, text):
    data = text.encode("latin-1")
    while data:
        data = data[os.write(fd, data):]


def main():
    if sys.argv[1:] != ["--driver"]:
        sys.stderr.write("usage: python3 impls/python/driver.py --driver (serves docs/protocol.md on stdin/stdout)\n")
        return 2
    # Every entry this Python has (all from 3.8 on; os.posix_spawn is glibc's).
    entries = [name for name in ENTRY_POINTS if name == "popen_vfork" or hasattr(os, "posix_spawn")]
    # The driver's descriptors: above every number a case draws (900 at most), below the limit.
    floor = 1000 if os.sysconf("SC_OPEN_MAX") >= 1024 else 300
    # The protocol on private close-on-exec descriptors, /dev/null on 0 and 1:
    # nothing a child prints can reach the harness as a line.
    protocol_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, floor)
    protocol_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, floor)
    null = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    # A descriptor above 2 that whoever started the driver left inheritable
    # (the harness leaves none) would reach the posix_spawn entries' children
    # but not popen_vfork's (close_fds=True): close-on-exec, so that one
    # inherited_fds describes every entry.
    for fd in inherited_descriptors():
        if fd > 2:
            fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.fcntl(fd, fcntl.F_GETFD) | fcntl.FD_CLOEXEC)
    held_fds = {protocol_in, protocol_out}
    inherited = set(inherited_descriptors())
    write_all(protocol_out, hello(entries, sorted(inherited)))
    pending = bytearray()
    while True:
        newline = pending.find(b"\n")
        if newline < 0:
            if len(pending) > MAX_LINE_BYTES:
                write_all(protocol_out, f"error id=-1 reason={hex_reason('line too long')}\n")
                return 2
            chunk = os.read(protocol_in, 1 << 20)
            if not chunk:
                return 0  # the harness closed stdin: done
            pending += chunk
            continue
        line = pending[:newline].decode("latin-1")
        del pending[:newline + 1]
        if len(line) > MAX_LINE_BYTES:
            write_all(protocol_out, f"error id=-1 reason={hex_reason('line too long')}\n")
            return 2
        if line:
            write_all(protocol_out, answer(line, floor, held_fds, entries, inherited))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(1)  # the harness stopped reading: nobody to answer
