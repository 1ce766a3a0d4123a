/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The JSONL schema (json_event.c): memtrack.h's memtrack_*_to_json()
 * write records as text; the same fields of an event as a json-c object,
 * for outputs that add to it (-T's JSON adds the named stack).
 */
#ifndef MEMTRACK_JSON_EVENT_H
#define MEMTRACK_JSON_EVENT_H

#include <json-c/json.h>

#include "memtrack.h"

/* The event's JSONL fields, in the same order; NULL without memory. */
struct json_object *event_json_object(const union mt_event *ev);

#endif /* MEMTRACK_JSON_EVENT_H */
