// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * synth_trace: write a large JSONL trace in memtrack's format, for timing
 * the offline reports (bench/symbolize.sh). One process maps this
 * program's real objects (it links libdw, libelf and zlib, so there are
 * thousands of real functions to name); STACKS distinct stacks of 8 to 30
 * frames are made from return addresses inside those functions; EVENTS
 * events allocate from random stacks and free nine in ten blocks.
 *
 *	synth_trace EVENTS STACKS > trace.jsonl
 *
 * Deterministic: the same arguments give the same trace on one machine.
 */
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <elfutils/libdwelf.h>

#define MAX_MAPS 64
#define MAX_FUNCS (1 << 16)
#define PID 4242

struct map {
	uint64_t start, end, offset;
	char path[512];
	char build_id[41];
};

static struct map maps[MAX_MAPS];
static size_t nmaps;
static uint64_t funcs[MAX_FUNCS]; /* addresses inside functions, where a call returns */
static size_t nfuncs;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void read_build_id(struct map *m, Elf *elf)
{
	const void *id;
	ssize_t n = dwelf_elf_gnu_build_id(elf, &id);

	for (ssize_t i = 0; i < n && i < 20; i++)
		sprintf(m->build_id + 2 * i, "%02x", ((const unsigned char *)id)[i]);
}

/* The function symbols of m's file that its executable mapping holds, as run-time addresses. */
static void add_functions(struct map *m)
{
	int fd = open(m->path, O_RDONLY | O_CLOEXEC);
	Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
	Elf_Scn *scn = NULL;
	GElf_Phdr ph;
	size_t nph;
	uint64_t bias = 0;

	if (!elf)
		goto out;
	read_build_id(m, elf);
	/* the load bias: the mapping's start less the segment's address for its offset */
	if (elf_getphdrnum(elf, &nph) == 0)
		for (size_t i = 0; i < nph; i++)
			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
			    (ph.p_flags & PF_X) && m->offset >= (ph.p_offset & ~0xfffull))
				bias = m->start - (ph.p_vaddr - (ph.p_offset - m->offset));
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			uint64_t at;

			if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    sym.st_size < 8 || nfuncs == MAX_FUNCS)
				continue;
			at = bias + sym.st_value + 1 + next_random() % (sym.st_size - 1);
			if (at >= m->start && at < m->end)
				funcs[nfuncs++] = at;
		}
	}
out:
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
}

static void read_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[1024];

	if (!f) {
		perror("synth_trace: /proc/self/maps");
		exit(1);
	}
	elf_version(EV_CURRENT);
	while (fgets(line, sizeof(line), f) && nmaps < MAX_MAPS) {
		struct map *m = &maps[nmaps];
		char perms[8], path[512] = "";
		unsigned long long start, end, offset;

		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %511s", &start, &end, perms, &offset,
			   path) < 4 ||
		    perms[2] != 'x' || path[0] != '/')
			continue;
		*m = (struct map){ .start = start, .end = end, .offset = offset };
		snprintf(m->path, sizeof(m->path), "%s", path);
		add_functions(m);
		nmaps++;
	}
	fclose(f);
	if (!nfuncs) {
		fprintf(stderr, "synth_trace: no function symbols found in this program's objects\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	long events = argc > 1 ? atol(argv[1]) : 1000000;
	long nstacks = argc > 2 ? atol(argv[2]) : 10000;
	uint64_t t = 1000000000, *live;
	long nlive = 0;

	if (argc != 3 || events <= 0 || nstacks <= 0) {
		fprintf(stderr, "usage: synth_trace EVENTS STACKS > trace.jsonl\n");
		return 2;
	}
	live = calloc((size_t)events, sizeof(*live));
	if (!live) {
		perror("synth_trace");
		return 1;
	}
	read_maps();
	printf("{\"type\":\"Exec\",\"timestamp\":%llu,\"pid\":%d,\"tid\":%d,\"ppid\":1,"
	       "\"comm\":\"synth\",\"filename\":\"/synth\"}\n",
	       (unsigned long long)t, PID, PID);
	for (size_t i = 0; i < nmaps; i++)
		printf("{\"type\":\"Mapping\",\"timestamp\":%llu,\"pid\":%d,\"start\":%llu,\"end\":%llu,"
		       "\"offset\":%llu,\"path\":\"%s\",\"build_id\":\"%s\"}\n",
		       (unsigned long long)t, PID, (unsigned long long)maps[i].start,
		       (unsigned long long)maps[i].end, (unsigned long long)maps[i].offset,
		       maps[i].path, maps[i].build_id);
	/* stacks: ids 1..nstacks, each a random walk through the functions */
	for (long s = 1; s <= nstacks; s++) {
		int depth = 8 + (int)(next_random() % 23);

		printf("{\"type\":\"Stack\",\"id\":%ld,\"frames\":[", s);
		for (int d = 0; d < depth; d++)
			printf("%s%llu", d ? "," : "", (unsigned long long)funcs[next_random() % nfuncs]);
		printf("]}\n");
	}
	for (long e = 0; e < events; e++) {
		uint64_t addr;

		t += 1000;
		/* free a random live block nine times in twenty: most blocks die */
		if (nlive && next_random() % 20 < 9) {
			long i = (long)(next_random() % (uint64_t)nlive);

			addr = live[i];
			live[i] = live[--nlive];
			printf("{\"type\":\"Free\",\"timestamp\":%llu,\"pid\":%d,\"tid\":%d,\"addr\":%llu}\n",
			       (unsigned long long)t, PID, PID, (unsigned long long)addr);
			continue;
		}
		addr = 0x10000000ull + (uint64_t)e * 64;
		live[nlive++] = addr;
		printf("{\"type\":\"Malloc\",\"timestamp\":%llu,\"pid\":%d,\"tid\":%d,\"addr\":%llu,"
		       "\"size\":%llu,\"stack_id\":%llu}\n",
		       (unsigned long long)t, PID, PID, (unsigned long long)addr,
		       (unsigned long long)(16 + next_random() % 4096),
		       (unsigned long long)(1 + next_random() % (uint64_t)nstacks));
	}
	printf("{\"type\":\"Exit\",\"timestamp\":%llu,\"pid\":%d,\"tid\":%d,\"ppid\":1,"
	       "\"comm\":\"synth\",\"exit_code\":0,\"signal\":0}\n",
	       (unsigned long long)t + 1000, PID, PID);
	free(live);
	return fclose(stdout) ? 1 : 0;
}
