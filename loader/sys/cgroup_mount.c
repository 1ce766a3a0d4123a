// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Read a character at a time, not a line into a buffer: a line longer
 * than any buffer must not end early and have its tail read as a line of
 * its own, and a NUL byte must not end it either.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "cgroup_mount.h"

/* A field as decoded: its first size - 1 bytes in buf, NUL-terminated. */
struct field {
	char *buf;
	size_t size;
	size_t len; /* every decoded byte, those past buf too */
	int first;  /* the first decoded byte, or -1 */
	bool bad;   /* a NUL, or an escape the kernel does not write */
};

static bool is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static void field_put(struct field *fl, int byte)
{
	/* a NUL would end the path or the type early: no real line has one */
	if (byte == '\0')
		fl->bad = true;
	if (fl->len == 0)
		fl->first = byte;
	if (fl->len + 1 < fl->size)
		fl->buf[fl->len] = (char)byte;
	fl->len++;
}

/*
 * After a backslash: the byte its three octal digits stand for (the kernel
 * writes a space, tab, newline and backslash in a path so), or -1 if they
 * are not there. A character that cuts the escape short is pushed back:
 * it may be the blank or newline that ends the field or the line.
 */
static int escape_read(FILE *f)
{
	int value = 0;

	for (int i = 0; i < 3; i++) {
		int c = getc(f);

		if (c < '0' || c > '7') {
			/* cannot fail: one character read can always be pushed back */
			if (c != EOF)
				(void)ungetc(c, f);
			return -1;
		}
		value = value * 8 + (c - '0');
	}
	return value <= 0xff ? value : -1;
}

/*
 * The next field of the line (blanks before it skipped) into fl, escapes
 * decoded. Returns the character after it: a blank, '\n' or EOF.
 */
static int field_read(FILE *f, struct field *fl)
{
	int c;

	fl->len = 0;
	fl->first = -1;
	fl->bad = false;
	do
		c = getc(f);
	while (is_blank(c));
	for (; c != EOF && c != '\n' && !is_blank(c); c = getc(f)) {
		int byte = c == '\\' ? escape_read(f) : c;

		if (byte < 0)
			fl->bad = true;
		else
			field_put(fl, byte);
	}
	if (fl->size)
		fl->buf[fl->len < fl->size ? fl->len : fl->size - 1] = '\0';
	return c;
}

static bool fits(const struct field *fl)
{
	return fl->len < fl->size;
}

int cgroup2_mount_parse(FILE *f, char *dir, size_t size)
{
	char type[sizeof("cgroup2")]; /* a longer type is not cgroup2: it need not fit */
	struct field device = { .buf = NULL, .size = 0 };
	struct field mnt = { .buf = dir, .size = size };
	struct field fstype = { .buf = type, .size = sizeof(type) };
	int result = -ENOENT, c = 0;

	while (c != EOF) {
		c = field_read(f, &device);
		if (c != '\n' && c != EOF)
			c = field_read(f, &mnt);
		if (c != '\n' && c != EOF) {
			c = field_read(f, &fstype);
			if (!fstype.bad && fits(&fstype) && strcmp(type, "cgroup2") == 0 &&
			    !mnt.bad && mnt.first == '/') {
				if (fits(&mnt))
					return 0;
				result = -ENAMETOOLONG; /* a later one may fit */
			}
		}
		while (c != '\n' && c != EOF)
			c = getc(f);
	}
	if (size)
		dir[0] = '\0';
	return ferror(f) ? -EIO : result;
}
