// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "safe_text.h"

/*
 * The second byte's range rules out overlong forms, surrogates and code
 * points past U+10FFFF (Unicode table 3-7).
 */
size_t utf8_sequence(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

void text_printable(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t seq = utf8_sequence(p + i, n - i);

		if (!seq || p[i] < 0x20 || p[i] == 0x7f) {
			p[i++] = '?';
			continue;
		}
		/* C1 controls (U+0080..U+009F) act on terminals as ESC sequences do */
		if (seq == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
			p[i] = p[i + 1] = '?';
		}
		i += seq;
	}
}

char *text_utf8_dup(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), out = 0;
	char *copy = malloc(3 * n + 1); /* each byte at most U+FFFD's three */

	if (!copy)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t seq = utf8_sequence(p + i, n - i);

		if (!seq) {
			memcpy(copy + out, "\xef\xbf\xbd", 3);
			out += 3;
			i++;
			continue;
		}
		memcpy(copy + out, p + i, seq);
		out += seq;
		i += seq;
	}
	copy[out] = '\0';
	return copy;
}
