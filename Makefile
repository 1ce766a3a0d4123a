# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# memtrack: everything builds into $(BUILD); nothing generated is committed.
#
#   make            library, memtrack-load, examples, test programs
#   make demo       install what is missing, build, trace examples/allocs
#   make test       install what is missing, build, run every test
#   make install    PREFIX=/usr/local LIBDIR=$(PREFIX)/lib DESTDIR=
#   make uninstall  the same variables: removes what install put there
#   make V=1        show the commands
#   make SANITIZE=1 the library, both tools, the examples and the tests with
#                   AddressSanitizer and UBSan (the shim: UBSan only), in
#                   build-san/; `make test` runs the suite in both builds

VERSION := 0.2.0
SANITIZE ?= 0
BUILD ?= $(if $(filter 1,$(SANITIZE)),build-san,build)
SAN_BUILD := build-san
# BUILD=build-san (or a path ending so) alone means the sanitizer build
# too: test_install runs make so
ifeq ($(notdir $(abspath $(BUILD))),$(SAN_BUILD))
SANITIZE := 1
endif
PREFIX ?= /usr/local
# Where make install puts things (DESTDIR= before each, for staging). LIBDIR
# is also where memtrack-load looks for the shim and what memtrack.pc says.
LIBDIR ?= $(PREFIX)/lib
BINDIR ?= $(PREFIX)/bin
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
SCRIPTDIR ?= $(DATADIR)/memtrack/scripts
DOCDIR ?= $(DATADIR)/doc/memtrack

CC ?= gcc
OBJCOPY ?= objcopy
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

# Warnings are errors in CI, so that none lands.
WERROR := $(if $(CI),-Werror)
CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra $(WERROR) -MMD -MP \
	-D_GNU_SOURCE -Iinclude -Ibpf -Iusdt -DMEMTRACK_VERSION='"$(VERSION)"'
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -MMD -MP -D__TARGET_ARCH_$(ARCH) -Wall $(WERROR) \
	-I$(BUILD) -Ibpf -I/usr/include/$(MULTIARCH)
# SANITIZE=1: memtrack's own code is instrumented; the fixtures and the
# benchmarks are not, since they are what memtrack traces, and ASan's
# allocator would take the place of the one being traced. The shim sits
# inside the traced program's allocator, where ASan cannot: UBSan only,
# trapping, without a runtime (libubsan would bring libstdc++ and its
# allocations into every program the shim is preloaded in).
ifeq ($(SANITIZE),1)
SAN_CFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
SHIM_SAN_CFLAGS := -fsanitize=undefined -fsanitize-undefined-trap-on-error
endif
LIB_LDLIBS := -lbpf -ldw -lelf -lcapstone -ljson-c -lprotobuf-c -lz -ldl -lpthread
PROTOC_C ?= protoc-c

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# --------------------------------------------------------------------------
# What there is

# loader/ is split by role (loader/README.md). Each role's files see only
# the include paths its role allows, so that the direction
#   cli -> include/memtrack.h -> core -> sys, format, base
#   report (fed through the handler interface) -> sys, format, base
# is kept by the build: a file that includes across it does not compile.
ROLES := base sys format core report
ROLE_INCLUDES_base := -Iloader/base
ROLE_INCLUDES_sys := -Iloader/base -Iloader/sys
ROLE_INCLUDES_format := -Iloader/base -Iloader/format
ROLE_INCLUDES_core := -Iloader/base -Iloader/sys -Iloader/core -I$(BUILD)
ROLE_INCLUDES_report := -Iloader/base -Iloader/sys -Iloader/format -Iloader/report \
	-I$(BUILD)/proto
# memtrack-load and memtrack-report: the public API, and their own options
ROLE_INCLUDES_cli := -Iloader/cli
# the unit tests test the parts inside: every role's headers
ALL_ROLE_INCLUDES := $(foreach r,$(ROLES),-Iloader/$(r)) -I$(BUILD) -I$(BUILD)/proto

LIB_SRCS := $(foreach r,$(ROLES),$(wildcard loader/$(r)/*.c))
CLI_SRCS := loader/cli/memtrack-load.c loader/cli/cli_options.c loader/cli/report_options.c \
	loader/cli/status_line.c loader/cli/human_bytes.c
# pprof's profile.proto, compiled by protoc-c into $(BUILD)/proto/
PROTO_C := $(BUILD)/proto/profile.pb-c.c
LIB_OBJS := $(LIB_SRCS:loader/%.c=$(BUILD)/lib/%.o) $(BUILD)/lib/proto/profile.pb-c.o
CLI_OBJS := $(CLI_SRCS:loader/cli/%.c=$(BUILD)/cli/%.o)
# the option parsing both tools share (and the unit tests test)
CLI_COMMON_OBJS := $(BUILD)/cli/cli_options.o $(BUILD)/cli/report_options.o
REPORT_CLI := $(BUILD)/memtrack-report
# memtrack-plot: a trace's live heap over time as a picture; its drawing in
# loader/cli/plot/ (PNG with cairo), which sees only the cli role's headers
PLOT_CLI := $(BUILD)/memtrack-plot
PLOT_OBJS := $(patsubst loader/cli/%.c,$(BUILD)/cli/%.o,\
	loader/cli/memtrack-plot.c loader/cli/human_bytes.c $(wildcard loader/cli/plot/*.c))
ROLE_INCLUDES_plot := $(ROLE_INCLUDES_cli) -Iloader/cli/plot

SONAME := libmemtrack.so.1
LIB_A := $(BUILD)/libmemtrack.a
# Every object, every name: what memtrack's own tools and unit tests link
# (they use the parts inside). What is installed is LIB_A: memtrack_* only.
LIB_INTERNAL_A := $(BUILD)/libmemtrack-internal.a
LIB_SO := $(BUILD)/$(SONAME)
CLI := $(BUILD)/memtrack-load

# The USDT shim. USDT=libbpf builds the probes with libbpf/usdt's usdt.h
# (USDT_INCLUDE: the directory holding it) instead of systemtap's <sys/sdt.h>.
SHIM := $(BUILD)/libmemtrack-usdt.so
SHIM_COMMON := $(addprefix $(BUILD)/shim/, usdt_shim.o real_allocator.o probe_sites.o)
USDT ?= sdt
ifeq ($(USDT),libbpf)
USDT_CFLAGS := -DMEMTRACK_USDT_LIBBPF $(if $(USDT_INCLUDE),-I$(USDT_INCLUDE))
endif
SHIM_CFLAGS := -fPIC -fvisibility=hidden -Iusdt -Ishim $(USDT_CFLAGS) $(SHIM_SAN_CFLAGS)
# fire.c holds the probes. Frame pointers: a stack walked from a probe must get
# through the shim to the caller. On a 5-byte nop, no red zone: the kernel's
# optimized probe is a call, which writes below the stack pointer.
FIRE_CFLAGS := -fno-omit-frame-pointer
SHIM_NOP5 := -DMEMTRACK_USDT_NOP5 -mno-red-zone

EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
FIXTURES := $(patsubst tests/fixtures/%.c,$(BUILD)/tests/fixtures/%,$(wildcard tests/fixtures/*.c)) \
	$(patsubst tests/fixtures/%.cc,$(BUILD)/tests/fixtures/%,$(wildcard tests/fixtures/*.cc)) \
	$(addprefix $(BUILD)/tests/fixtures/alloc_with_,glibc jemalloc tcmalloc mimalloc)
FIXTURE_LIBS := $(patsubst tests/fixtures/lib/%.c,$(BUILD)/tests/fixtures/lib%.so,$(wildcard tests/fixtures/lib/*.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_*.c))
INTEGRATION_TESTS := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,\
	$(wildcard tests/integration/test_*.c))
TEST_LIB_OBJS := $(patsubst tests/lib/%.c,$(BUILD)/tests/lib/%.o,$(wildcard tests/lib/*.c))

# A failed step leaves no half-made file behind to look up to date.
.DELETE_ON_ERROR:

.PHONY: all lib cli shim examples tests bench demo test deps install uninstall clean format FORCE
all: lib cli shim examples tests

lib: $(LIB_A) $(LIB_INTERNAL_A) $(LIB_SO) $(BUILD)/libmemtrack.so $(BUILD)/memtrack.pc
cli: $(CLI) $(REPORT_CLI) $(PLOT_CLI)
shim: $(SHIM) $(BUILD)/bench/libmemtrack-usdt-nop1.so
examples: $(EXAMPLES)
tests: $(FIXTURES) $(FIXTURE_LIBS) $(UNIT_TESTS) $(INTEGRATION_TESTS) \
	$(BUILD)/tests/fixtures/leak_sites.nodebug $(BUILD)/tests/fixtures/leak_sites.stripped \
	$(BUILD)/tests/fixtures/leak_sites.linked $(BUILD)/tests/fixtures/leak_sites.minidebug \
	$(BUILD)/tests/fixtures/no_fde.so

# --------------------------------------------------------------------------
# BPF: vmlinux.h from the running kernel's BTF, the object, its skeleton

$(BUILD)/vmlinux.h:
	$(Q)mkdir -p $(@D)
	$(call msg,GEN,$@)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp
	$(Q)mv $@.tmp $@

$(BUILD)/memtrack.bpf.o: bpf/memtrack.bpf.c bpf/memtrack_events.h $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/memtrack.skel.h: $(BUILD)/memtrack.bpf.o
	$(call msg,GEN-SKEL,$@)$(BPFTOOL) gen skeleton $< name memtrack_bpf > $@.tmp
	$(Q)mv $@.tmp $@

# --------------------------------------------------------------------------
# libmemtrack: static and shared (only the memtrack_* API exported)

# $(2) of loader/$(1)/x.c: the role's include paths
define ROLE_RULE
$$(BUILD)/lib/$(1)/%.o: loader/$(1)/%.c $$(BUILD)/memtrack.skel.h
	$$(Q)mkdir -p $$(@D)
	$$(call msg,CC,$$@)$$(CC) $$(CFLAGS) $$(SAN_CFLAGS) $$(ROLE_INCLUDES_$(1)) -fPIC -c $$< -o $$@
endef
$(foreach r,$(ROLES),$(eval $(call ROLE_RULE,$(r))))

$(PROTO_C) $(PROTO_C:.c=.h) &: loader/report/profile.proto
	$(Q)mkdir -p $(@D)
	$(call msg,PROTOC,$@)$(PROTOC_C) --proto_path=loader/report --c_out=$(@D) $<

$(BUILD)/lib/proto/profile.pb-c.o: $(PROTO_C)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(SAN_CFLAGS) -I$(BUILD)/proto -fPIC -c $< -o $@

$(BUILD)/lib/report/pprof.o: $(PROTO_C:.c=.h)

$(LIB_INTERNAL_A): $(LIB_OBJS)
	$(call msg,AR,$@)$(AR) rcs $@ $^

# The static library as a guest in its host: its objects linked into one,
# whose names but memtrack_* are made local, so that none can clash with an
# application's own (the shared library's version script does the same).
$(LIB_A): $(LIB_OBJS)
	$(call msg,LD,$@)$(LD) -r -o $(BUILD)/lib/libmemtrack-all.o $^
	$(Q)$(OBJCOPY) -w --keep-global-symbol='memtrack_*' $(BUILD)/lib/libmemtrack-all.o \
		$(BUILD)/lib/libmemtrack-public.o
	$(Q)rm -f $@ && $(AR) rcs $@ $(BUILD)/lib/libmemtrack-public.o

$(LIB_SO): $(LIB_OBJS) loader/libmemtrack.map
	$(call msg,LD,$@)$(CC) $(SAN_CFLAGS) -shared -Wl,-soname,$(SONAME) \
		-Wl,--version-script=loader/libmemtrack.map -o $@ $(LIB_OBJS) $(LDFLAGS) $(LIB_LDLIBS)

$(BUILD)/libmemtrack.so: $(LIB_SO)
	$(Q)ln -sf $(SONAME) $@

# The install directories memtrack.pc and memtrack-load were made for: both
# are made again when PREFIX or LIBDIR change, not only when a file does.
$(BUILD)/install-dirs: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)echo '$(PREFIX) $(LIBDIR) $(INCLUDEDIR)' | cmp -s - $@ || \
		echo '$(PREFIX) $(LIBDIR) $(INCLUDEDIR)' > $@

$(BUILD)/memtrack.pc: loader/memtrack.pc.in $(BUILD)/install-dirs
	$(call msg,GEN,$@)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

# --------------------------------------------------------------------------
# memtrack-load: a client of the static library

$(BUILD)/cli/%.o: loader/cli/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(SAN_CFLAGS) $(ROLE_INCLUDES_cli) $(PLOT_CFLAGS) \
		-DMEMTRACK_LIBDIR='"$(LIBDIR)"' -c $< -o $@

$(BUILD)/cli/memtrack-load.o: $(BUILD)/install-dirs

# Both tools link the installed library, memtrack_* only: they are its clients.
$(CLI): $(CLI_OBJS) $(LIB_A)
	$(call msg,LD,$@)$(CC) $(SAN_CFLAGS) -o $@ $(CLI_OBJS) $(LIB_A) $(LDFLAGS) $(LIB_LDLIBS) -lm

$(REPORT_CLI): $(BUILD)/cli/memtrack-report.o $(CLI_COMMON_OBJS) $(LIB_A)
	$(call msg,LD,$@)$(CC) $(SAN_CFLAGS) -o $@ $< $(CLI_COMMON_OBJS) $(LIB_A) $(LDFLAGS) \
		$(LIB_LDLIBS) -lm

$(PLOT_OBJS): PLOT_CFLAGS = -Iloader/cli/plot $$($(PKG_CONFIG) --cflags cairo)

$(PLOT_CLI): $(PLOT_OBJS) $(LIB_A)
	$(call msg,LD,$@)$(CC) $(SAN_CFLAGS) -o $@ $(PLOT_OBJS) $(LIB_A) $(LDFLAGS) $(LIB_LDLIBS) \
		$$($(PKG_CONFIG) --libs cairo) -lm

# --------------------------------------------------------------------------
# libmemtrack-usdt.so: probes on 5-byte nops; the 1-byte nop build is for bench/

$(BUILD)/shim/%.o: shim/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(SHIM_CFLAGS) -c $< -o $@

$(BUILD)/shim/fire.o: shim/fire.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(SHIM_CFLAGS) $(FIRE_CFLAGS) $(SHIM_NOP5) -c $< -o $@

$(BUILD)/shim/fire-nop1.o: shim/fire.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(SHIM_CFLAGS) $(FIRE_CFLAGS) -c $< -o $@

$(SHIM): $(SHIM_COMMON) $(BUILD)/shim/fire.o
	$(call msg,LD,$@)$(CC) -shared -o $@ $(filter %.o,$^) -ldl

$(BUILD)/bench/libmemtrack-usdt-nop1.so: $(SHIM_COMMON) $(BUILD)/shim/fire-nop1.o
	$(Q)mkdir -p $(@D)
	$(call msg,LD,$@)$(CC) -shared -o $@ $(filter %.o,$^) -ldl

# --------------------------------------------------------------------------
# Examples that are libmemtrack's clients use the shared library, as an
# application would; the others are programs to trace (never sanitized:
# ASan's allocator would stand in for the one traced).

EXAMPLE_CLIENTS := $(BUILD)/examples/library_usage $(BUILD)/examples/track_multiple
$(EXAMPLE_CLIENTS): $(BUILD)/examples/%: examples/%.c $(BUILD)/libmemtrack.so
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(SAN_CFLAGS) -o $@ $< -L$(BUILD) -Wl,-rpath,'$$ORIGIN/..' \
		-lmemtrack -lpthread

$(BUILD)/examples/%: examples/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -o $@ $< -lpthread

# --------------------------------------------------------------------------
# Tests: fixtures are plain programs; unit tests link the objects they test

$(BUILD)/tests/fixtures/%: tests/fixtures/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -O0 -fno-builtin -o $@ $< -lpthread

# C++ fixtures: operator new and delete
CXX ?= g++
# --unwind dwarf's fixtures: built as distributions build, -O2 without frame pointers
$(BUILD)/tests/fixtures/unwind_c: tests/fixtures/unwind_c.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) -O2 -g -fomit-frame-pointer -Wall -Wextra $(WERROR) -o $@ $<

$(BUILD)/tests/fixtures/unwind_cxx: tests/fixtures/unwind_cxx.cc
	$(Q)mkdir -p $(@D)
	$(call msg,CXX,$@)$(CXX) -O2 -g -fomit-frame-pointer -std=c++17 -Wall -Wextra $(WERROR) \
		-o $@ $<

$(BUILD)/tests/fixtures/%: tests/fixtures/%.cc
	$(Q)mkdir -p $(@D)
	$(call msg,CXX,$@)$(CXX) -O0 -g -std=c++17 -Wall -Wextra $(WERROR) -o $@ $<

# alloc_with_*: linked with Debian's other allocators (their runtime packages
# suffice); alloc_with_glibc, the same program with nothing but libc's
ALLOCATOR_LIB_jemalloc := -l:libjemalloc.so.2
ALLOCATOR_LIB_tcmalloc := -l:libtcmalloc_minimal.so.4
ALLOCATOR_LIB_mimalloc := -l:libmimalloc.so.2
$(BUILD)/tests/fixtures/alloc_with_%: tests/fixtures/allocators/alloc_with.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -O0 -fno-builtin -DUSE_$(shell echo $* | tr a-z A-Z) \
		-o $@ $< $(ALLOCATOR_LIB_$*)

# static_*: linked statically, so that their malloc is their own
$(BUILD)/tests/fixtures/static_%: tests/fixtures/static_%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -O0 -fno-builtin -static -o $@ $<

# leak_sites for symbolization: without DWARF (names from the symbol table
# only); and stripped of everything, its DWARF in a separate file that only
# its build-id finds, under $(BUILD)/tests/debug/.build-id/
$(BUILD)/tests/fixtures/leak_sites.nodebug: tests/fixtures/leak_sites.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(filter-out -g,$(CFLAGS)) -g0 -o $@ $<

$(BUILD)/tests/fixtures/leak_sites.stripped: $(BUILD)/tests/fixtures/leak_sites
	$(call msg,STRIP,$@)id=$$(readelf -n $< | sed -n 's/.*Build ID: *//p'); \
	test -n "$$id" || { echo "$<: no build-id" >&2; exit 1; }; \
	dir=$(BUILD)/tests/debug/.build-id/$$(echo $$id | cut -c1-2); mkdir -p $$dir && \
	objcopy --only-keep-debug $< $$dir/$$(echo $$id | cut -c3-).debug && \
	strip --strip-all -o $@ $<

# stripped, naming its debug file (beside it) in .gnu_debuglink
$(BUILD)/tests/fixtures/leak_sites.linked: $(BUILD)/tests/fixtures/leak_sites
	$(call msg,STRIP,$@)objcopy --only-keep-debug $< $@.debug && \
	objcopy --strip-all --add-gnu-debuglink=$@.debug $< $@

# stripped, with MiniDebugInfo as Fedora makes it: the symbols of its own
# functions that .dynsym lacks, in an xz'd ELF file in .gnu_debugdata
$(BUILD)/tests/fixtures/leak_sites.minidebug: $(BUILD)/tests/fixtures/leak_sites
	$(call msg,STRIP,$@)nm $< --format=posix --defined-only | \
		awk '$$2 == "T" || $$2 == "t" { print $$1 }' | sort > $@.funcs && \
	nm -D $< --format=posix --defined-only | awk '{ print $$1 }' | sort > $@.dyn && \
	comm -13 $@.dyn $@.funcs > $@.keep && \
	objcopy --only-keep-debug $< $@.mini && \
	objcopy -S --remove-section .gdb_index --remove-section .comment \
		--keep-symbols=$@.keep $@.mini && \
	xz -f $@.mini && \
	objcopy --strip-all --add-section .gnu_debugdata=$@.mini.xz $< $@ && \
	rm -f $@.funcs $@.dyn $@.keep $@.mini.xz

# an object whose .eh_frame holds no FDE, only its terminator: a table of no rows
$(BUILD)/tests/fixtures/no_fde.so:
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)echo 'int answer(void) { return 42; }' | \
		$(CC) -shared -fPIC -nostdlib -fno-asynchronous-unwind-tables -x c - -o $@.tmp && \
	head -c 4 /dev/zero > $@.end && objcopy --update-section .eh_frame=$@.end $@.tmp $@ && \
	rm -f $@.tmp $@.end

$(BUILD)/tests/fixtures/lib%.so: tests/fixtures/lib/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -fno-builtin -shared -fPIC -o $@ $<

$(BUILD)/tests/lib/%.o: tests/lib/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(SAN_CFLAGS) -Itests/lib -c $< -o $@

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB_INTERNAL_A) $(CLI_COMMON_OBJS) $(TEST_LIB_OBJS)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(SAN_CFLAGS) $(ALL_ROLE_INCLUDES) -Iloader/cli -Itests/lib \
		-o $@ $< \
		$(CLI_COMMON_OBJS) $(TEST_LIB_OBJS) \
		$(LIB_INTERNAL_A) $(LIB_LDLIBS) -lcmocka -lm

# test_library and test_event_path drive libmemtrack itself; test_trace_format asks it the
# names of the record types
$(BUILD)/tests/integration/test_library $(BUILD)/tests/integration/test_event_path \
$(BUILD)/tests/integration/test_trace_format: \
		$(BUILD)/tests/integration/%: tests/integration/%.c $(TEST_LIB_OBJS) $(LIB_A)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(SAN_CFLAGS) -Itests/lib -o $@ $< $(TEST_LIB_OBJS) $(LIB_A) \
		$(LIB_LDLIBS) -lcmocka -ljson-c

$(BUILD)/tests/integration/%: tests/integration/%.c $(TEST_LIB_OBJS)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(SAN_CFLAGS) -Itests/lib -o $@ $< $(TEST_LIB_OBJS) \
		-lcmocka -ljson-c

# --------------------------------------------------------------------------
# Fuzzing (tests/fuzz/README.md): a libFuzzer harness for each parser of
# outside input. clang builds the code under test again, instrumented and
# with ASan and UBSan, under $(BUILD)/fuzz/ (each role with its own include
# paths, as above); core/ (the tracker) reads no outside input and is left
# out. A UB report stops the run as a crash does.

FUZZ_CC ?= clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := $(CFLAGS) -O1 -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_ROLES := base sys format report
FUZZ_LIB_OBJS := $(patsubst loader/%.c,$(BUILD)/fuzz/lib/%.o,\
	$(foreach r,$(FUZZ_ROLES),$(wildcard loader/$(r)/*.c))) \
	$(BUILD)/fuzz/lib/proto/profile.pb-c.o $(BUILD)/fuzz/cli/cli_options.o \
	$(BUILD)/fuzz/cli/report_options.o
FUZZ_LIB_A := $(BUILD)/fuzz/libmemtrack-fuzz.a
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SUPPORT := $(BUILD)/fuzz/tests/input_file.o

.PHONY: fuzz
fuzz: $(FUZZERS)
# make (and so make test) builds them. Not again in the sanitizer build: they
# carry their own sanitizers, and its test_fuzz skips.
ifneq ($(SANITIZE),1)
tests: fuzz
endif
# the harnesses' own helper, kept: make would otherwise delete it as an intermediate
.SECONDARY: $(FUZZ_SUPPORT)

define FUZZ_ROLE_RULE
$$(BUILD)/fuzz/lib/$(1)/%.o: loader/$(1)/%.c
	$$(Q)mkdir -p $$(@D)
	$$(call msg,FUZZ-CC,$$@)$$(FUZZ_CC) $$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
		$$(ROLE_INCLUDES_$(1)) -c $$< -o $$@
endef
$(foreach r,$(FUZZ_ROLES),$(eval $(call FUZZ_ROLE_RULE,$(r))))

$(BUILD)/fuzz/lib/report/pprof.o: $(PROTO_C:.c=.h)

$(BUILD)/fuzz/lib/proto/profile.pb-c.o: $(PROTO_C)
	$(Q)mkdir -p $(@D)
	$(call msg,FUZZ-CC,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
		-I$(BUILD)/proto -c $< -o $@

$(BUILD)/fuzz/cli/%.o: loader/cli/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,FUZZ-CC,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
		$(ROLE_INCLUDES_cli) -c $< -o $@

$(FUZZ_LIB_A): $(FUZZ_LIB_OBJS)
	$(call msg,AR,$@)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/fuzz/tests/%.o: tests/fuzz/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,FUZZ-CC,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -Itests/fuzz -c $< -o $@

# harnesses see every role's headers, as the unit tests do
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SUPPORT) $(FUZZ_LIB_A)
	$(Q)mkdir -p $(@D)
	$(call msg,FUZZ-LD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(ALL_ROLE_INCLUDES) \
		-Iloader/cli -Itests/fuzz -o $@ $< $(FUZZ_SUPPORT) $(FUZZ_LIB_A) $(LIB_LDLIBS) -lm

# --------------------------------------------------------------------------
# bench/: side-by-side cost ratios, not a test

# alloc_loop runs threads (THREADS); -lpthread is harmless for the others
$(BUILD)/bench/%: bench/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -o $@ $< -lpthread

# alloc_loop with frame pointers: --unwind fp then walks as far as dwarf does
$(BUILD)/bench/alloc_loop_fp: bench/alloc_loop.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -fno-omit-frame-pointer -o $@ $< -lpthread

# cfi_build times loader/sys/cfi_table.c, from the library's inside
$(BUILD)/bench/cfi_build: bench/cfi_build.c $(LIB_INTERNAL_A)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(ALL_ROLE_INCLUDES) -o $@ $< $(LIB_INTERNAL_A) $(LIB_LDLIBS)

# links libdw and libelf for their symbols, which its trace's stacks point into
$(BUILD)/bench/synth_trace: bench/synth_trace.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -o $@ $< -ldw -lelf -lz

# attach_many is a libmemtrack client, linked as the examples are
$(BUILD)/bench/attach_many: bench/attach_many.c $(BUILD)/libmemtrack.so
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -o $@ $< -L$(BUILD) -Wl,-rpath,'$$ORIGIN/..' -lmemtrack -ldl

# peers.sh: memtrack side by side with bpftrace, heaptrack and valgrind
bench: deps
	$(Q)$(MAKE) --no-print-directory lib cli shim $(BUILD)/bench/alloc_loop \
		$(BUILD)/bench/alloc_loop_fp $(BUILD)/bench/cfi_build \
		$(BUILD)/bench/synth_trace $(BUILD)/bench/attach_many \
		$(BUILD)/bench/stamp $(BUILD)/bench/live_million $(BUILD)/bench/soak
	$(Q)BUILD=$(BUILD) bench/run.sh
	$(Q)BUILD=$(BUILD) bench/symbolize.sh
	$(Q)$(BUILD)/bench/attach_many 50 5
	$(Q)BUILD=$(BUILD) bench/peers.sh

# --------------------------------------------------------------------------
# The README's two commands

deps:
	$(Q)tools/deps.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory lib cli examples
	$(BUILD)/memtrack-load -- $(BUILD)/examples/allocs

# tests/integration/test_layout: the include paths a role is given
role-includes-%:
	@echo $(filter-out -MMD -MP,$(CFLAGS)) $(ROLE_INCLUDES_$*)

# The suite runs twice: as built, and built with the sanitizers (run.sh
# fails the run on any sanitizer report).
test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 BUILD=$(SAN_BUILD) all
	$(Q)BUILD=$(BUILD) SAN_BUILD=$(SAN_BUILD) tests/run.sh

# --------------------------------------------------------------------------

# What make install puts where; make uninstall removes the same files.
INSTALL_BIN := $(CLI) $(REPORT_CLI) $(PLOT_CLI)
INSTALL_LIB := $(LIB_A) $(LIB_SO) $(SHIM)
INSTALL_HEADERS := include/memtrack.h bpf/memtrack_events.h usdt/memtrack_usdt.h
# every man page, by its section
INSTALL_MAN1 := $(wildcard docs/*.1)
INSTALL_MAN5 := $(wildcard docs/*.5)
INSTALL_SCRIPTS := $(wildcard scripts/*.bt)
INSTALL_USDT_SCRIPTS := $(wildcard scripts/usdt/*.bt)
INSTALL_DOCS := LICENSE LICENSE.LGPL-2.1 LICENSE.BSD-2-Clause
# bash-completion finds a command's completion by its name
COMPLETED := memtrack-load memtrack-report memtrack-plot

install: lib cli shim
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(SCRIPTDIR)/usdt \
		$(DESTDIR)$(DOCDIR) $(if $(INSTALL_MAN5),$(DESTDIR)$(MANDIR)/man5)
	install -m 755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(LIB_SO) $(SHIM) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libmemtrack.so
	install -m 644 $(INSTALL_HEADERS) $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(BUILD)/memtrack.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 644 $(INSTALL_MAN1) $(DESTDIR)$(MANDIR)/man1/
	$(if $(INSTALL_MAN5),install -m 644 $(INSTALL_MAN5) $(DESTDIR)$(MANDIR)/man5/)
	install -m 755 $(INSTALL_SCRIPTS) $(DESTDIR)$(SCRIPTDIR)/
	install -m 755 $(INSTALL_USDT_SCRIPTS) $(DESTDIR)$(SCRIPTDIR)/usdt/
	install -m 644 completions/memtrack.bash $(DESTDIR)$(BASHCOMPDIR)/memtrack-load
	ln -sf memtrack-load $(DESTDIR)$(BASHCOMPDIR)/memtrack-report
	ln -sf memtrack-load $(DESTDIR)$(BASHCOMPDIR)/memtrack-plot
	install -m 644 $(INSTALL_DOCS) $(DESTDIR)$(DOCDIR)/

# Only what install put there: the directories of others (bin, lib, man1)
# stay, memtrack's own go if nothing else is left in them.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(INSTALL_BIN))) \
		$(addprefix $(DESTDIR)$(LIBDIR)/,$(notdir $(INSTALL_LIB)) libmemtrack.so) \
		$(addprefix $(DESTDIR)$(INCLUDEDIR)/,$(notdir $(INSTALL_HEADERS))) \
		$(DESTDIR)$(LIBDIR)/pkgconfig/memtrack.pc \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(INSTALL_MAN1))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(INSTALL_MAN5))) \
		$(addprefix $(DESTDIR)$(SCRIPTDIR)/,$(notdir $(INSTALL_SCRIPTS))) \
		$(addprefix $(DESTDIR)$(SCRIPTDIR)/usdt/,$(notdir $(INSTALL_USDT_SCRIPTS))) \
		$(addprefix $(DESTDIR)$(BASHCOMPDIR)/,$(COMPLETED)) \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(INSTALL_DOCS))
	for d in $(DESTDIR)$(SCRIPTDIR)/usdt $(DESTDIR)$(SCRIPTDIR) $(DESTDIR)$(dir $(SCRIPTDIR)) \
		$(DESTDIR)$(DOCDIR); do \
		[ ! -d "$$d" ] || rmdir --ignore-fail-on-non-empty "$$d" || exit 1; \
	done

format:
	clang-format -i $(wildcard bpf/*.[ch] loader/*/*.[ch] loader/cli/plot/*.[ch] include/*.h \
		shim/*.[ch] usdt/*.h examples/*.c \
		tests/*/*.[ch] tests/fixtures/lib/*.c)

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/*.d $(BUILD)/*/*.d $(BUILD)/lib/*/*.d $(BUILD)/cli/plot/*.d \
	$(BUILD)/tests/*/*.d \
	$(BUILD)/fuzz/*/*.d $(BUILD)/fuzz/lib/*/*.d)
