/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Building the reports' JSON with json-c: add a value to an object or an
 * array, taking it over either way. Every failure is -ENOMEM (json-c's
 * only one), so a report is one chain of `err = err ?: json_put...`.
 */
#ifndef MEMTRACK_JSON_PUT_H
#define MEMTRACK_JSON_PUT_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "error.h"
#include "safe_text.h"

/* o[key] = v; v is released if it cannot be added (or is NULL: it could not be made). */
static inline int json_put(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v || json_object_object_add(o, key, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static inline int json_put_u64(struct json_object *o, const char *key, uint64_t v)
{
	return json_put(o, key, json_object_new_uint64(v));
}

static inline int json_put_str(struct json_object *o, const char *key, const char *v)
{
	return json_put(o, key, json_object_new_string(v));
}

/* o[key] = s, text from a traced process: bytes that are not UTF-8 become U+FFFD. */
static inline int json_put_text(struct json_object *o, const char *key, const char *s)
{
	char *u = text_utf8_dup(s);
	int err = u ? json_put_str(o, key, u) : -ENOMEM;

	free(u);
	return err;
}

/* Append v to the array a, the same way. */
static inline int json_push(struct json_object *a, struct json_object *v)
{
	if (!v || json_object_array_add(a, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Print a finished document on one line and free it; after an error
 * (err), only free it. The write's own error (ENOSPC, EPIPE) is returned.
 */
static inline int json_emit(struct json_object *doc, int err, FILE *out)
{
	const char *text = NULL;

	if (!err && doc)
		text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!err && !text)
		err = -ENOMEM;
	if (!err && fprintf(out, "%s\n", text) < 0)
		err = write_error();
	json_object_put(doc);
	return err;
}

/* A report's document: {"report": name, ...}; NULL without memory. */
static inline struct json_object *json_new_report(const char *name)
{
	struct json_object *o = json_object_new_object();

	if (o && json_put_str(o, "report", name)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Hang the list of a report on its document, then emit it; both are freed. */
static inline int json_emit_list(struct json_object *doc, const char *key,
				 struct json_object *list, int err, FILE *out)
{
	if (err)
		json_object_put(list);
	else
		err = json_put(doc, key, list);
	return json_emit(doc, err, out);
}

#endif /* MEMTRACK_JSON_PUT_H */
