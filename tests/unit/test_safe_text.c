// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* base/safe_text.c: text from traced processes, made safe for each output. */
#include <stdlib.h>
#include <string.h>

#include "safe_text.h"
#include "test_support.h"

static void printable(const char *in, const char *want)
{
	char *s = strdup(in);

	assert_non_null(s);
	text_printable(s);
	assert_string_equal(s, want);
	free(s);
}

static void test_printable(void **state)
{
	(void)state;
	printable("plain name", "plain name");
	printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	printable("a\nb\tc\rd\x1b[2J\x7f", "a?b?c?d?[2J?");
	printable("\xc2\x9b" "31m", "??31m");	  /* C1 CSI: an escape without ESC */
	printable("\xff\xfe", "??");		  /* never UTF-8 */
	printable("\xc0\xaf", "??");		  /* overlong '/' */
	printable("\xed\xa0\x80", "???");	  /* a UTF-16 surrogate */
	printable("\xf4\x90\x80\x80", "????");	  /* past U+10FFFF */
	printable("cut \xe2\x82", "cut ??");	  /* a sequence cut short */
}

static void utf8(const char *in, const char *want)
{
	char *s = text_utf8_dup(in);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void test_utf8(void **state)
{
	(void)state;
	utf8("plain\n\x1b", "plain\n\x1b"); /* controls are the JSON writer's to escape */
	utf8("caf\xc3\xa9", "caf\xc3\xa9");
	utf8("a\xffz", "a\xef\xbf\xbdz");
	utf8("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
	utf8("", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests_name("safe_text", tests, NULL, NULL);
}
