/*
 * vfc.h: declarations shared by the freestanding sources (no libc).
 */
#ifndef VFC_H
#define VFC_H
#include "arch.h"

typedef unsigned long size_t;
#define NULL ((void *)0)
#define F_DUPFD 0
#define F_DUPFD_CLOEXEC 1030 /* F_LINUX_SPECIFIC_BASE + 6, on every architecture */

#define F_GETFL 3
#define O_ACCMODE 3
#define F_SETPIPE_SZ 1031 /* F_LINUX_SPECIFIC_BASE + 7 */
#define F_GETPIPE_SZ 1032

/* The report descriptor of a case without report_fd (and of old drivers). */
#define REPORT_FD 63
/* How the exec target tells the report pipe from any other descriptor: a
 * driver sets the report pipe's size to 32 KiB (F_SETPIPE_SZ; the kernel
 * rounds up to a power of two of its pages, so one 64 KiB page where pages
 * are that big), and nothing else makes a pipe that size (the kernel's
 * default is 16 pages, 2 pages for a user over pipe-user-pages-soft). Half
 * the default, not one page: a spawn that leaks its error pipe makes its
 * parent wait for the child's exit, and the child must not block on the
 * report first. */
#define REPORT_PIPE_BYTES 32768
/* Case report_fd values: 0..MAX_REPORT_FD. */
#define MAX_REPORT_FD 1023
/* Descriptors the driver keeps for itself sit at or above this number. */
#define DRIVER_FD_BASE 200

/* common.c: memory and strings. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t string_length(const char *s);
int string_equal(const char *a, const char *b);
int starts_with(const char *s, size_t n, const char *prefix);

/* A growable byte buffer backed by mmap (there is no malloc). */
struct buffer {
  char *data;
  size_t length;
  size_t capacity;
};
void buffer_reserve(struct buffer *b, size_t extra);
void buffer_append(struct buffer *b, const void *data, size_t n);
void buffer_append_string(struct buffer *b, const char *s);
void buffer_append_decimal(struct buffer *b, long value);
void buffer_append_hex_number(struct buffer *b, unsigned long value);
void buffer_append_hex_bytes(struct buffer *b, const void *data, size_t n);
/* The same, with each run of 16 or more of one byte as "<byte>*<more>;". */
void buffer_append_hex_bytes_with_runs(struct buffer *b, const void *data, size_t n);
void buffer_free(struct buffer *b);
int write_all(int fd, const void *data, size_t n);

#include "codec.h" /* parsing and decoding the protocol's encodings */

void *map_anonymous(size_t bytes);
void *map_populated(size_t bytes);
void unmap(void *p, size_t bytes);
#define SYS0(n) raw_syscall6(n, 0, 0, 0, 0, 0, 0)
#define SYS1(n, a) raw_syscall6(n, (long)(a), 0, 0, 0, 0, 0)
#define SYS2(n, a, b) raw_syscall6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS3(n, a, b, c) raw_syscall6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS4(n, a, b, c, d) raw_syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SYS5(n, a, b, c, d, e) raw_syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
__attribute__((noreturn)) void exit_group(int code);

/* Lists the open descriptors of this process (from /proc/self/fd) into fds;
 * returns how many, or -errno. The descriptor used for listing is left out. */
long list_open_descriptors(int *fds, long capacity);

/* child.c: the exec target's report of what it sees. */
__attribute__((noreturn)) void child_report_main(long argc, char **argv, char **envp);

/* signal-storm.c: installs a handler (SIG_IGN is 1) with sa_flags, empty mask. */
long set_signal_handler(long signal, void (*handler)(int), unsigned long flags);

/* system-init.c: process 1 of a system-tier VM. */
__attribute__((noreturn)) void system_init_main(long argc, char **argv);

/* probe.c: capabilities measured with raw syscalls. */
void probe_capabilities(struct buffer *out);

/* reap-all.c: --reap-all PROGRAM ARGS (host only: where NR_prctl is defined). */
__attribute__((noreturn)) void reap_all_main(char **argv, char **envp);

/* driver.c */
__attribute__((noreturn)) void driver_main(void);
/* Runs one protocol case line; appends the result line (with '\n').
 * in_process: the caller owns the memory size and the reaping of strays. */
void run_case_line(const char *line, size_t length, struct buffer *out,
                   int in_process);
void append_hello(struct buffer *out);

#endif
