/*
 * codec.h: the driver protocol's encodings (docs/protocol.md), shared by the
 * reference driver and impls/glibc. Plain C, no libc: the includer provides
 * size_t (vfc.h, or <stddef.h> in a hosted program).
 */
#ifndef VFC_CODEC_H
#define VFC_CODEC_H

#define MAX_LIST_ITEMS 100000
#define MAX_REPEAT_COUNT (64L << 20)

/* Parsing: return -1 on malformed input. A decimal is an optional '-' and
 * up to 18 digits that fit a long; a hex number has no prefix. */
int parse_decimal(const char *s, size_t n, long *out);
int parse_hex_number(const char *s, size_t n, unsigned long *out);
/* Decodes n hex digits into out (n/2 bytes); -1 if malformed. */
int decode_hex(const char *s, size_t n, char *out);

/* An item: "x" then segments, each two hex digits or "*<count>;" (the byte
 * before, repeated count more times). Returns the decoded length, or -1 if
 * malformed; fills out unless NULL. */
long decode_item_bytes(const char *s, size_t n, char *out);

/* Where decoded strings and arrays go: allocate(context, bytes), NULL when
 * out of memory. The caller frees them all together. */
typedef void *(*codec_allocator)(void *context, size_t bytes);

/* An item -> a NUL-terminated string; NULL if malformed or out of memory. */
char *decode_item(const char *s, size_t n, codec_allocator allocate, void *context);
/* "item,item,..." (empty: no items) -> a NULL-terminated array, or NULL. */
char **decode_list(const char *s, size_t n, codec_allocator allocate, void *context);
/* "5,9" -> descriptor numbers 0..1023 into out; their count, or -1. */
int decode_numbers(const char *s, size_t n, int *out, int capacity);
/* handler_flags: "restart,nodefer,onstack", any of them, or none (empty) ->
 * SA_RESTART, SA_NODEFER, SA_ONSTACK ORed into *flags; -1 for an unknown
 * name or an empty one. */
int decode_handler_flags(const char *s, size_t n, unsigned long *flags);

/* ---- encoding ---------------------------------------------------------- */

/* Where encoded bytes go: the includer's own output buffer (mmap-backed in
 * the freestanding driver, malloc-backed in a hosted one). */
typedef void (*codec_append)(void *out, const void *bytes, size_t n);

/* A spawned case's result fields, from " outcome=spawned" to the report:
 * pid, waited, the wait status (exited:N or signaled:N), suspended, and the
 * report as an item with trailing LFs stripped. */
void encode_spawned_fields(codec_append append, void *out, long pid, int waited, int status,
                           const char *suspended, const char *report, size_t report_length);

/* One spawn of a concurrent case, an entry of the result's thread_outcomes list:
 * "spawned/<pid>/<waited 0|1>/<status>/<report item>", or "error/<errno>"
 * when pid is -errno (or 0). */
void encode_spawn_outcome(codec_append append, void *out, long pid, int waited, int status,
                          const char *report, size_t report_length);

/* What a case left behind, for every result: " zombies=N live_children=0|1
 * leaked_fds=N". */
void encode_leftover_fields(codec_append append, void *out, long zombies, int live_children, long leaked_descriptors);

/* What a driver stores in a spawn's output variables (a pidfd, a pid)
 * before the spawn, so that "left untouched" shows after a failure: no
 * spawn writes it (docs/protocol.md, "What a failed spawn hands back"). */
#define OUTPUT_PRESET (-2)

/* After a failed pidfd spawn: " failed_pidfd=<value>" and, when the value
 * is a descriptor number, " failed_pidfd_is=<is>" (closed, pidfd or other). */
void encode_failed_pidfd(codec_append append, void *out, long value, const char *is);

/* Where a case's descriptor sources go: at base (the driver's descriptor
 * floor, above the report descriptor) or above every target, so no move
 * overwrites a source another move still needs. Both drivers use it. */
long source_base_above(long base, const int *targets, int target_count);

#endif
