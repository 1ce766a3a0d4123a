// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pprof profiles: tables of strings, functions, mappings, locations and
 * samples, each deduplicated through a hash index, turned into protobuf-c
 * messages only when written.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fnv_hash.h"
#include "memtrack.h"
#include "profile.pb-c.h"
#include "pprof.h"
#include "safe_text.h"
#include "u64_map.h"

/*
 * A hash index over the entries of one table. The u64_map holds one entry
 * per hash; entries whose hashes collide are chained through older[], and
 * the caller compares each candidate in full.
 */
struct dedup {
	struct u64_map heads; /* hash -> 1 + the newest entry with that hash */
	size_t *older;	      /* per entry: 1 + the previous entry with its hash, 0 ends */
	size_t cap;
};

struct pp_function {
	uint64_t name, file; /* string indexes */
};

struct pp_mapping {
	uint64_t file, build_id; /* string indexes */
	uint64_t start, limit, offset;
};

struct pp_line {
	uint64_t function_id; /* 0: none known */
	int64_t line;
};

struct pp_location {
	uint64_t mapping_id, address;
	size_t first_line, nlines; /* in lines[] */
};

struct pp_sample {
	size_t first_loc, nlocs; /* in loc_ids[] */
	int64_t values[PPROF_NR_VALUES];
	int pid;
	uint64_t comm; /* string index */
};

struct pprof_builder {
	char **strs; /* [0] is "", as the format requires */
	size_t nstrs, strs_cap;
	struct dedup str_ix;

	struct pp_function *funcs; /* function id: index + 1 */
	size_t nfuncs, funcs_cap;
	struct dedup func_ix;

	struct pp_mapping *maps; /* mapping id: index + 1 */
	size_t nmaps, maps_cap;
	struct dedup map_ix;

	struct pp_location *locs; /* location id: index + 1 */
	size_t nlocs, locs_cap;
	struct dedup loc_ix;
	struct pp_line *lines; /* every location's, one run each */
	size_t nlines, lines_cap;

	struct pp_sample *samples;
	size_t nsamples, samples_cap;
	struct dedup sample_ix;
	uint64_t *loc_ids; /* every sample's stack, one run each */
	size_t nloc_ids, loc_ids_cap;

	/* Interned once at the start, so that writing never adds strings. */
	uint64_t s_type[PPROF_NR_VALUES], s_unit[PPROF_NR_VALUES];
	uint64_t s_space, s_bytes, s_pid, s_comm;
};

/* ---------------------------------------------------------------------- */

/* splitmix64's finalizer: every input bit moves every output bit. */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Order matters: (a, b) and (b, a) hash apart. */
static uint64_t hash_add(uint64_t h, uint64_t v)
{
	return mix(h ^ (v + 0x9e3779b97f4a7c15ull));
}

/* FNV-1a, then mixed, since u64_map's slot comes from the high bits. */
static uint64_t hash_str(const char *s)
{
	return mix(fnv1a_str(FNV1A_SEED, s));
}

/* Room for need elements of size bytes in *arr, doubling; -ENOMEM leaves it as it was. */
static int reserve(void *arr, size_t *cap, size_t need, size_t size)
{
	void **p = arr;
	size_t n = *cap ? *cap : 16;
	void *grown;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	grown = reallocarray(*p, n, size);
	if (!grown)
		return -ENOMEM;
	*p = grown;
	*cap = n;
	return 0;
}

/* u64_map reserves key 0 for empty slots. */
static uint64_t key_of(uint64_t hash)
{
	return hash ? hash : 1;
}

/* 1 + the newest entry with this hash, 0 if none; older ones follow dedup_next(). */
static size_t dedup_first(const struct dedup *d, uint64_t hash)
{
	uint64_t pos;

	return u64_map_get(&d->heads, key_of(hash), &pos) ? (size_t)pos : 0;
}

static size_t dedup_next(const struct dedup *d, size_t pos)
{
	return d->older[pos - 1];
}

static int dedup_add(struct dedup *d, uint64_t hash, size_t entry)
{
	int err = reserve(&d->older, &d->cap, entry + 1, sizeof(*d->older));

	if (err)
		return err;
	d->older[entry] = dedup_first(d, hash);
	return u64_map_put(&d->heads, key_of(hash), entry + 1);
}

static void dedup_free(struct dedup *d)
{
	u64_map_free(&d->heads);
	free(d->older);
}

/* ---------------------------------------------------------------------- */

/*
 * The string's index in the string table; NULL and "" are 0. Kept as
 * valid UTF-8 (protobuf's strings must be: pprof readers refuse a profile
 * otherwise), whatever bytes a traced program's names hold.
 */
static int intern(struct pprof_builder *b, const char *str, uint64_t *idx)
{
	uint64_t h;
	char *copy, *s;
	int err;

	if (!str || !*str) {
		*idx = 0;
		return 0;
	}
	s = text_utf8_dup(str);
	if (!s)
		return -ENOMEM;
	h = hash_str(s);
	for (size_t pos = dedup_first(&b->str_ix, h); pos; pos = dedup_next(&b->str_ix, pos)) {
		if (!strcmp(b->strs[pos - 1], s)) {
			*idx = pos - 1;
			free(s);
			return 0;
		}
	}
	err = reserve(&b->strs, &b->strs_cap, b->nstrs + 1, sizeof(*b->strs));
	if (err) {
		free(s);
		return err;
	}
	copy = s;
	err = dedup_add(&b->str_ix, h, b->nstrs);
	if (err) {
		free(copy);
		return err;
	}
	b->strs[b->nstrs] = copy;
	*idx = b->nstrs++;
	return 0;
}

/* The id of the frame's function (by name and file); 0 if neither is known. */
static int function_of(struct pprof_builder *b, const struct pprof_frame *f, uint64_t *id)
{
	struct pp_function fn;
	uint64_t h;
	int err;

	err = intern(b, f->function, &fn.name);
	if (!err)
		err = intern(b, f->file, &fn.file);
	if (err)
		return err;
	if (!fn.name && !fn.file) {
		*id = 0;
		return 0;
	}
	h = hash_add(hash_add(0, fn.name), fn.file);
	for (size_t pos = dedup_first(&b->func_ix, h); pos; pos = dedup_next(&b->func_ix, pos)) {
		const struct pp_function *o = &b->funcs[pos - 1];

		if (o->name == fn.name && o->file == fn.file) {
			*id = pos;
			return 0;
		}
	}
	err = reserve(&b->funcs, &b->funcs_cap, b->nfuncs + 1, sizeof(*b->funcs));
	if (!err)
		err = dedup_add(&b->func_ix, h, b->nfuncs);
	if (err)
		return err;
	b->funcs[b->nfuncs++] = fn;
	*id = b->nfuncs;
	return 0;
}

/*
 * The id of the frame's mapping (by file, build-id and address range: one
 * library mapped at other addresses in two processes is two mappings); 0
 * if neither file nor build-id is known.
 */
static int mapping_of(struct pprof_builder *b, const struct pprof_frame *f, uint64_t *id)
{
	struct pp_mapping m = { .start = f->map_start, .limit = f->map_limit, .offset = f->map_offset };
	uint64_t h;
	int err;

	err = intern(b, f->module, &m.file);
	if (!err)
		err = intern(b, f->build_id, &m.build_id);
	if (err)
		return err;
	if (!m.file && !m.build_id) {
		*id = 0;
		return 0;
	}
	h = hash_add(hash_add(hash_add(hash_add(hash_add(0, m.file), m.build_id), m.start),
				       m.limit),
		     m.offset);
	for (size_t pos = dedup_first(&b->map_ix, h); pos; pos = dedup_next(&b->map_ix, pos)) {
		const struct pp_mapping *o = &b->maps[pos - 1];

		if (o->file == m.file && o->build_id == m.build_id && o->start == m.start &&
		    o->limit == m.limit && o->offset == m.offset) {
			*id = pos;
			return 0;
		}
	}
	err = reserve(&b->maps, &b->maps_cap, b->nmaps + 1, sizeof(*b->maps));
	if (!err)
		err = dedup_add(&b->map_ix, h, b->nmaps);
	if (err)
		return err;
	b->maps[b->nmaps++] = m;
	*id = b->nmaps;
	return 0;
}

/*
 * The id of the location of frames f[0..n): one address, the frames inlined
 * there innermost first and the function the code is in last, which is the
 * order of a pprof Location's lines.
 */
static int location_of(struct pprof_builder *b, const struct pprof_frame *f, size_t n, uint64_t *id)
{
	struct pp_location loc = { .address = f[0].address, .first_line = b->nlines };
	uint64_t h;
	int err;

	/* The mapped file is the outer frame's, whose code the address is in. */
	err = mapping_of(b, &f[n - 1], &loc.mapping_id);
	if (err)
		return err;
	/* The lines go at the end of lines[] first, and stay there if they are new. */
	err = reserve(&b->lines, &b->lines_cap, b->nlines + n, sizeof(*b->lines));
	if (err)
		return err;
	h = hash_add(hash_add(0, loc.mapping_id), loc.address);
	for (size_t i = 0; i < n; i++) {
		struct pp_line *l = &b->lines[loc.first_line + loc.nlines];

		err = function_of(b, &f[i], &l->function_id);
		if (err)
			return err;
		/* A line number without a function or file says nothing a reader can show. */
		if (!l->function_id)
			continue;
		l->line = f[i].line > 0 ? f[i].line : 0;
		h = hash_add(hash_add(h, l->function_id), (uint64_t)l->line);
		loc.nlines++;
	}
	for (size_t pos = dedup_first(&b->loc_ix, h); pos; pos = dedup_next(&b->loc_ix, pos)) {
		const struct pp_location *o = &b->locs[pos - 1];

		if (o->mapping_id == loc.mapping_id && o->address == loc.address &&
		    o->nlines == loc.nlines &&
		    !memcmp(&b->lines[o->first_line], &b->lines[loc.first_line],
			    loc.nlines * sizeof(*b->lines))) {
			*id = pos;
			return 0;
		}
	}
	err = reserve(&b->locs, &b->locs_cap, b->nlocs + 1, sizeof(*b->locs));
	if (!err)
		err = dedup_add(&b->loc_ix, h, b->nlocs);
	if (err)
		return err;
	b->nlines += loc.nlines;
	b->locs[b->nlocs++] = loc;
	*id = b->nlocs;
	return 0;
}

struct pprof_builder *pprof_new(void)
{
	static const char *const types[PPROF_NR_VALUES][2] = {
		[PPROF_ALLOC_OBJECTS] = { "alloc_objects", "count" },
		[PPROF_ALLOC_SPACE] = { "alloc_space", "bytes" },
		[PPROF_INUSE_OBJECTS] = { "inuse_objects", "count" },
		[PPROF_INUSE_SPACE] = { "inuse_space", "bytes" },
	};
	struct pprof_builder *b = calloc(1, sizeof(*b));
	int err;

	if (!b)
		return NULL;
	/* intern() never stores "", so index 0 is set here once. */
	err = reserve(&b->strs, &b->strs_cap, 1, sizeof(*b->strs));
	if (err)
		goto fail;
	b->strs[0] = strdup("");
	if (!b->strs[0])
		goto fail;
	b->nstrs = 1;
	for (int i = 0; i < PPROF_NR_VALUES; i++) {
		err = intern(b, types[i][0], &b->s_type[i]);
		if (!err)
			err = intern(b, types[i][1], &b->s_unit[i]);
		if (err)
			goto fail;
	}
	err = intern(b, "space", &b->s_space);
	if (!err)
		err = intern(b, "bytes", &b->s_bytes);
	if (!err)
		err = intern(b, "pid", &b->s_pid);
	if (!err)
		err = intern(b, "comm", &b->s_comm);
	if (err)
		goto fail;
	return b;
fail:
	pprof_free(b);
	return NULL;
}

int pprof_add(struct pprof_builder *b, const struct pprof_frame *frames, size_t nframes,
	      const long long values[PPROF_NR_VALUES], int pid, const char *comm)
{
	size_t mark = b ? b->nloc_ids : 0;
	struct pp_sample s = { .first_loc = mark, .pid = pid < 0 ? -1 : pid };
	uint64_t h;
	int err;

	if (!b || !values || (nframes && !frames))
		return -EINVAL;
	/* Like the lines of a location, the stack's ids are appended first, dropped if known. */
	err = reserve(&b->loc_ids, &b->loc_ids_cap, b->nloc_ids + nframes, sizeof(*b->loc_ids));
	if (err)
		return err;
	for (size_t i = 0, n; i < nframes; i += n) {
		uint64_t id;

		/* Inlined frames and the one they are inlined into share an address. */
		for (n = 1; i + n < nframes && frames[i + n - 1].inlined &&
			    frames[i + n].address == frames[i].address;
		     n++)
			;
		err = location_of(b, &frames[i], n, &id);
		if (err)
			return err;
		b->loc_ids[mark + s.nlocs++] = id;
	}
	err = intern(b, comm, &s.comm);
	if (err)
		return err;

	h = hash_add(hash_add(0, (uint64_t)s.pid), s.comm);
	for (size_t i = 0; i < s.nlocs; i++)
		h = hash_add(h, b->loc_ids[mark + i]);
	for (size_t pos = dedup_first(&b->sample_ix, h); pos;
	     pos = dedup_next(&b->sample_ix, pos)) {
		struct pp_sample *o = &b->samples[pos - 1];

		/* no frames: loc_ids may still be NULL, which memcmp may not be given */
		if (o->pid != s.pid || o->comm != s.comm || o->nlocs != s.nlocs ||
		    (s.nlocs && memcmp(&b->loc_ids[o->first_loc], &b->loc_ids[mark],
				       s.nlocs * sizeof(*b->loc_ids))))
			continue;
		/* Unsigned, so that a sum past INT64_MAX wraps instead of being undefined. */
		for (int k = 0; k < PPROF_NR_VALUES; k++)
			o->values[k] = (int64_t)((uint64_t)o->values[k] + (uint64_t)values[k]);
		return 0;
	}
	for (int k = 0; k < PPROF_NR_VALUES; k++)
		s.values[k] = values[k];
	err = reserve(&b->samples, &b->samples_cap, b->nsamples + 1, sizeof(*b->samples));
	if (!err)
		err = dedup_add(&b->sample_ix, h, b->nsamples);
	if (err)
		return err;
	b->samples[b->nsamples++] = s;
	b->nloc_ids += s.nlocs;
	return 0;
}

/* ---------------------------------------------------------------------- */

/*
 * The protobuf-c messages of the profile. They point into the builder's
 * tables (strings, values, stacks) rather than copying them, so they live
 * only while the builder is not changed.
 */
struct pb {
	Perftools__Profiles__Profile profile;
	Perftools__Profiles__ValueType types[PPROF_NR_VALUES], *type_ptrs[PPROF_NR_VALUES];
	Perftools__Profiles__ValueType period_type;
	Perftools__Profiles__Sample *samples, **sample_ptrs;
	Perftools__Profiles__Label *labels, **label_ptrs; /* two per sample */
	Perftools__Profiles__Mapping *maps, **map_ptrs;
	Perftools__Profiles__Location *locs, **loc_ptrs;
	Perftools__Profiles__Line *lines, **line_ptrs;
	Perftools__Profiles__Function *funcs, **func_ptrs;
};

static void pb_free(struct pb *pb)
{
	free(pb->samples);
	free(pb->sample_ptrs);
	free(pb->labels);
	free(pb->label_ptrs);
	free(pb->maps);
	free(pb->map_ptrs);
	free(pb->locs);
	free(pb->loc_ptrs);
	free(pb->lines);
	free(pb->line_ptrs);
	free(pb->funcs);
	free(pb->func_ptrs);
}

/*
 * What a mapping's locations already tell, so that a reader does not try to
 * symbolize them again (pprof skips mappings with has_functions). Inlined
 * frames come from DWARF with the line numbers, so they are known wherever
 * the line numbers are.
 */
static void set_mapping_flags(const struct pprof_builder *b, struct pb *pb)
{
	for (size_t i = 0; i < b->nmaps; i++) {
		pb->maps[i].has_functions = pb->maps[i].has_filenames = true;
		pb->maps[i].has_line_numbers = true;
	}
	for (size_t i = 0; i < b->nlocs; i++) {
		const struct pp_location *loc = &b->locs[i];
		Perftools__Profiles__Mapping *m;

		if (!loc->mapping_id)
			continue;
		m = &pb->maps[loc->mapping_id - 1];
		if (!loc->nlines)
			m->has_functions = m->has_filenames = m->has_line_numbers = false;
		for (size_t k = 0; k < loc->nlines; k++) {
			const struct pp_line *l = &b->lines[loc->first_line + k];
			const struct pp_function *fn = &b->funcs[l->function_id - 1];

			m->has_functions &= fn->name != 0;
			m->has_filenames &= fn->file != 0;
			m->has_line_numbers &= l->line != 0;
		}
	}
	for (size_t i = 0; i < b->nmaps; i++)
		pb->maps[i].has_inline_frames = pb->maps[i].has_line_numbers;
}

static int pb_build(const struct pprof_builder *b, struct pb *pb, long long time_ns,
		    long long duration_ns)
{
	Perftools__Profiles__Profile *p = &pb->profile;

	pb->samples = calloc(b->nsamples, sizeof(*pb->samples));
	pb->sample_ptrs = calloc(b->nsamples, sizeof(*pb->sample_ptrs));
	pb->labels = calloc(b->nsamples, 2 * sizeof(*pb->labels));
	pb->label_ptrs = calloc(b->nsamples, 2 * sizeof(*pb->label_ptrs));
	pb->maps = calloc(b->nmaps, sizeof(*pb->maps));
	pb->map_ptrs = calloc(b->nmaps, sizeof(*pb->map_ptrs));
	pb->locs = calloc(b->nlocs, sizeof(*pb->locs));
	pb->loc_ptrs = calloc(b->nlocs, sizeof(*pb->loc_ptrs));
	pb->lines = calloc(b->nlines, sizeof(*pb->lines));
	pb->line_ptrs = calloc(b->nlines, sizeof(*pb->line_ptrs));
	pb->funcs = calloc(b->nfuncs, sizeof(*pb->funcs));
	pb->func_ptrs = calloc(b->nfuncs, sizeof(*pb->func_ptrs));
	/* calloc(0, ...) may return NULL: only a table with entries needs its arrays. */
	if ((b->nsamples && (!pb->samples || !pb->sample_ptrs || !pb->labels || !pb->label_ptrs)) ||
	    (b->nmaps && (!pb->maps || !pb->map_ptrs)) ||
	    (b->nlocs && (!pb->locs || !pb->loc_ptrs)) ||
	    (b->nlines && (!pb->lines || !pb->line_ptrs)) ||
	    (b->nfuncs && (!pb->funcs || !pb->func_ptrs)))
		return -ENOMEM;

	perftools__profiles__profile__init(p);
	for (int i = 0; i < PPROF_NR_VALUES; i++) {
		perftools__profiles__value_type__init(&pb->types[i]);
		pb->types[i].type = (int64_t)b->s_type[i];
		pb->types[i].unit = (int64_t)b->s_unit[i];
		pb->type_ptrs[i] = &pb->types[i];
	}
	p->n_sample_type = PPROF_NR_VALUES;
	p->sample_type = pb->type_ptrs;
	p->default_sample_type = (int64_t)b->s_type[PPROF_INUSE_SPACE];
	/* Every allocation is traced, none sampled: one byte per byte. */
	perftools__profiles__value_type__init(&pb->period_type);
	pb->period_type.type = (int64_t)b->s_space;
	pb->period_type.unit = (int64_t)b->s_bytes;
	p->period_type = &pb->period_type;
	p->period = 1;
	p->time_nanos = time_ns;
	p->duration_nanos = duration_ns;
	p->n_string_table = b->nstrs;
	p->string_table = b->strs;

	for (size_t i = 0; i < b->nsamples; i++) {
		const struct pp_sample *s = &b->samples[i];
		Perftools__Profiles__Sample *ps = &pb->samples[i];
		Perftools__Profiles__Label *l = &pb->labels[2 * i];

		perftools__profiles__sample__init(ps);
		ps->n_location_id = s->nlocs;
		ps->location_id = &b->loc_ids[s->first_loc];
		ps->n_value = PPROF_NR_VALUES;
		/* Cast away const: protobuf-c's messages have no const members to pack from. */
		ps->value = (int64_t *)s->values;
		ps->label = &pb->label_ptrs[2 * i];
		if (s->pid >= 0) {
			perftools__profiles__label__init(l);
			l->key = (int64_t)b->s_pid;
			l->num = s->pid;
			ps->label[ps->n_label++] = l++;
		}
		if (s->comm) {
			perftools__profiles__label__init(l);
			l->key = (int64_t)b->s_comm;
			l->str = (int64_t)s->comm;
			ps->label[ps->n_label++] = l;
		}
		pb->sample_ptrs[i] = ps;
	}
	p->n_sample = b->nsamples;
	p->sample = pb->sample_ptrs;

	for (size_t i = 0; i < b->nmaps; i++) {
		perftools__profiles__mapping__init(&pb->maps[i]);
		pb->maps[i].id = i + 1;
		pb->maps[i].filename = (int64_t)b->maps[i].file;
		pb->maps[i].build_id = (int64_t)b->maps[i].build_id;
		pb->maps[i].memory_start = b->maps[i].start;
		pb->maps[i].memory_limit = b->maps[i].limit;
		pb->maps[i].file_offset = b->maps[i].offset;
		pb->map_ptrs[i] = &pb->maps[i];
	}
	set_mapping_flags(b, pb);
	p->n_mapping = b->nmaps;
	p->mapping = pb->map_ptrs;

	for (size_t i = 0; i < b->nlines; i++) {
		perftools__profiles__line__init(&pb->lines[i]);
		pb->lines[i].function_id = b->lines[i].function_id;
		pb->lines[i].line = b->lines[i].line;
		pb->line_ptrs[i] = &pb->lines[i];
	}
	for (size_t i = 0; i < b->nlocs; i++) {
		const struct pp_location *loc = &b->locs[i];

		perftools__profiles__location__init(&pb->locs[i]);
		pb->locs[i].id = i + 1;
		pb->locs[i].mapping_id = loc->mapping_id;
		pb->locs[i].address = loc->address;
		pb->locs[i].n_line = loc->nlines;
		pb->locs[i].line = loc->nlines ? &pb->line_ptrs[loc->first_line] : NULL;
		pb->loc_ptrs[i] = &pb->locs[i];
	}
	p->n_location = b->nlocs;
	p->location = pb->loc_ptrs;

	for (size_t i = 0; i < b->nfuncs; i++) {
		perftools__profiles__function__init(&pb->funcs[i]);
		pb->funcs[i].id = i + 1;
		pb->funcs[i].name = (int64_t)b->funcs[i].name;
		/* No demangled/mangled distinction is kept: both are the symbolizer's name. */
		pb->funcs[i].system_name = (int64_t)b->funcs[i].name;
		pb->funcs[i].filename = (int64_t)b->funcs[i].file;
		pb->func_ptrs[i] = &pb->funcs[i];
	}
	p->n_function = b->nfuncs;
	p->function = pb->func_ptrs;
	return 0;
}

/* gzip (not zlib or raw deflate) framing, which pprof readers expect. */
static int gzip_buffer(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	z_stream zs = { 0 };
	uLong bound;
	int ret;

	/* One deflate() call takes at most a uInt of input. */
	if (len > UINT_MAX)
		return -EFBIG;
	ret = deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	if (ret != Z_OK)
		return ret == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
	bound = deflateBound(&zs, len);
	if (bound > UINT_MAX) {
		deflateEnd(&zs);
		return -EFBIG;
	}
	*out = malloc(bound);
	if (!*out) {
		deflateEnd(&zs);
		return -ENOMEM;
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = *out;
	zs.avail_out = (uInt)bound;
	/* deflateBound() is enough room for the whole stream in one call. */
	ret = deflate(&zs, Z_FINISH);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	if (ret != Z_STREAM_END) {
		free(*out);
		*out = NULL;
		return -EIO;
	}
	return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The profile to path ("-": standard output), taking its place only once
 * whole (memtrack_output_begin()): a failed write leaves what was there.
 */
static int write_file(const char *path, const uint8_t *buf, size_t len)
{
	struct memtrack_output o;
	int err = memtrack_output_begin(path, &o, NULL);

	if (err)
		return err;
	return memtrack_output_end(&o, write_all(o.fd, buf, len));
}

int pprof_write(struct pprof_builder *b, const char *path, long long time_ns, long long duration_ns)
{
	struct pb pb = { 0 };
	uint8_t *packed = NULL, *gz = NULL;
	size_t len, gz_len;
	int err;

	if (!b || !path)
		return -EINVAL;
	err = pb_build(b, &pb, time_ns, duration_ns);
	if (err)
		goto out;
	len = perftools__profiles__profile__get_packed_size(&pb.profile);
	/* malloc(0) may return NULL; an empty message still gets one byte of room. */
	packed = malloc(len ? len : 1);
	if (!packed) {
		err = -ENOMEM;
		goto out;
	}
	if (perftools__profiles__profile__pack(&pb.profile, packed) != len) {
		err = -EIO;
		goto out;
	}
	err = gzip_buffer(packed, len, &gz, &gz_len);
	if (err)
		goto out;
	err = write_file(path, gz, gz_len);
out:
	free(gz);
	free(packed);
	pb_free(&pb);
	return err;
}

void pprof_free(struct pprof_builder *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nstrs; i++)
		free(b->strs[i]);
	free(b->strs);
	dedup_free(&b->str_ix);
	free(b->funcs);
	dedup_free(&b->func_ix);
	free(b->maps);
	dedup_free(&b->map_ix);
	free(b->locs);
	dedup_free(&b->loc_ix);
	free(b->lines);
	free(b->samples);
	dedup_free(&b->sample_ix);
	free(b->loc_ids);
	free(b);
}
