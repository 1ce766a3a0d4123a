/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Text that comes from traced processes (their names, the paths and
 * symbols of what they map), made safe for where it is written: nothing a
 * process names itself can end a line of a report, add a frame to a folded
 * stack, move a terminal's cursor, or make JSON or a profile invalid.
 */
#ifndef MEMTRACK_SAFE_TEXT_H
#define MEMTRACK_SAFE_TEXT_H

#include <stddef.h>

/*
 * Length of the well-formed UTF-8 sequence at s (at most n bytes, n > 0),
 * or 0.
 */
size_t utf8_sequence(const unsigned char *s, size_t n);

/*
 * For a terminal or a line-based report, in place: each control character
 * (newline, escape, DEL) and each byte that is not UTF-8 becomes '?', as
 * ps(1) shows them. The length does not change.
 */
void text_printable(char *s);

/*
 * For JSON and pprof, whose strings must be UTF-8: a copy of s in which
 * each byte that is not UTF-8 is U+FFFD (control characters are left to
 * the JSON writer, which escapes them). NULL without memory.
 */
char *text_utf8_dup(const char *s);

#endif /* MEMTRACK_SAFE_TEXT_H */
