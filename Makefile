# Makefile - build doppel: a private Unbound, libdoppel, the module, the CLI.
#
#   make            build everything into build/
#   make test       all tests; ends with "N passed, N failed"
#   make asan       the same tests, built with -fsanitize=address,undefined
#   make demo       the .mil/.ml story in an offline lab
#   make run        the resolver with doppel on 127.0.0.1:5353, full recursion
#   make deps       install the Debian packages needed (root)
#   make deb        Debian packages: unbound with the dynlib module, doppel
#   make UNBOUND_SRC=DIR   build the module against your own configured,
#                   built Unbound tree (./configure --with-dynlibmodule);
#                   UNBOUND_OBJDIR=DIR if it was configured elsewhere (VPATH)

BUILD ?= build
CC ?= cc
JOBS ?= 2
CI ?=

WARN = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wformat=2 -Wvla
ifneq ($(CI),)
WARN += -Werror
endif
SAN ?=
OPT ?= -O2 -g
CFLAGS_ALL = -std=c11 -D_DEFAULT_SOURCE $(OPT) $(WARN) -fPIC \
	-fvisibility=hidden $(SAN) $(CFLAGS)
LIBS = -lpsl -lidn2 -llmdb -lmaxminddb -licui18n -licuuc -licudata

# The Unbound tree the module is compiled against.
ifeq ($(UNBOUND_SRC),)
UNBOUND_TREE = $(BUILD)/unbound-src
UNBOUND_DEP = $(BUILD)/unbound/.doppel-stamp
else
UNBOUND_TREE = $(UNBOUND_SRC)
UNBOUND_DEP =
endif
# Where that tree was configured (its config.h): the tree itself, or the
# build directory of a VPATH build such as Debian's (b/unbound).
UNBOUND_OBJDIR ?= $(UNBOUND_TREE)
# The country database the module uses when doppel.conf names none.
GEOIP_DEFAULT ?= $(abspath $(BUILD))/geo/country.mmdb

LIB_SRC = lib/audit.c lib/db.c lib/edit.c lib/engine.c lib/engine_build.c \
	lib/engine_edits.c lib/engine_concat.c lib/engine_tokens.c \
	lib/engine_affixes.c lib/engine_split.c lib/fold.c lib/geo.c lib/index.c lib/vcache.c \
	lib/lmdbfile.c lib/counters.c lib/writer.c lib/checker.c lib/dnstap.c \
	lib/name.c lib/parse.c lib/policy.c lib/settings.c lib/suffix.c lib/util.c
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB_HDR = lib/audit.h lib/doppel.h lib/internal.h lib/edit.h lib/fold.h lib/index.h lib/vcache.h \
	lib/counters.h lib/writer.h lib/checker.h lib/engine.h lib/dnstap.h
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all programs deps deps-check unbound test asan tsan fuzz bench demo run install \
	soak man deb \
	clean distclean

# libFuzzer targets: names and matching, the policy parser and compiler,
# the compiled-policy loader on whole files, the country range readers, the
# verdict cache decoder and the verdict cache on whole files, the audit
# summary, the audit review.
FUZZ_TARGETS = check policy dbfile geo vcache vcachefile audit review
FUZZ_BIN = $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_SECONDS ?= 60

# The programs; what the tests need besides (unit tests, fuzz targets,
# the country database) is built by `make test`.
all: deps-check unbound programs
programs: $(BUILD)/lib/libdoppel.a $(BUILD)/lib/doppel.so $(BUILD)/bin/doppel

# What the tests run besides the programs.
TEST_BIN = $(UNIT_BIN) $(BUILD)/tests/mkcache $(FUZZ_BIN) \
	$(BUILD)/geo/country.mmdb

# Install missing packages when root, otherwise say what to run.
deps-check:
	@tools/build/deps.sh --check || tools/build/deps.sh --install

deps:
	tools/build/deps.sh --install

ifeq ($(UNBOUND_SRC),)
unbound: deps-check
	@mkdir -p $(BUILD)
	@JOBS=$(JOBS) tools/build/unbound.sh $(BUILD)
$(BUILD)/unbound/.doppel-stamp: unbound
else
unbound:
	@test -f $(UNBOUND_OBJDIR)/config.h || { echo "$(UNBOUND_OBJDIR) is not a configured Unbound tree (no config.h)" >&2; exit 1; }
	@grep -q '^#define WITH_DYNLIBMODULE 1' $(UNBOUND_OBJDIR)/config.h || { echo "$(UNBOUND_OBJDIR) was configured without --with-dynlibmodule" >&2; exit 1; }
endif

# Each object depends on the headers it includes (-MMD: build/obj/*.d).
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_ALL) -MMD -MP -Ilib -c $< -o $@
-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/module/doppelmod.d \
	$(BUILD)/obj/module/watch.d

$(BUILD)/lib/libdoppel.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

# Unbound's headers are not ours to warn about: -isystem.
# The module's default country database: the one `make` builds.
$(BUILD)/obj/module/%.o: module/%.c $(UNBOUND_DEP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_ALL) -MMD -MP -Wno-strict-prototypes -Ilib \
		-isystem $(UNBOUND_OBJDIR) -isystem $(UNBOUND_TREE) \
		-DDOPPEL_GEOIP_DEFAULT='"$(GEOIP_DEFAULT)"' \
		-c $< -o $@

MOD_OBJ = $(BUILD)/obj/module/doppelmod.o $(BUILD)/obj/module/watch.o

# With make -j, nothing compiles before the packages are in (their
# headers).  Not in a package build (UNBOUND_SRC): its build
# dependencies are the package's.
ifeq ($(UNBOUND_SRC),)
$(LIB_OBJ) $(MOD_OBJ) $(BUILD)/bin/doppel: | deps-check
endif
$(BUILD)/lib/doppel.so: $(MOD_OBJ) $(BUILD)/lib/libdoppel.a
	$(CC) $(SAN) -shared -o $@ $(MOD_OBJ) \
		$(BUILD)/lib/libdoppel.a $(LIBS) $(LDFLAGS)

CLI_SRC = tools/doppel.c tools/cli.c tools/ops.c tools/report.c tools/rpz.c \
	tools/audit_summary.c tools/review.c geo-data/mmdb_write.c
CLI_HDR = tools/cli.h tools/commands.h tools/rpz.h tools/audit_summary.h \
	tools/review.h geo-data/mmdb_write.h
$(BUILD)/bin/doppel: $(CLI_SRC) $(CLI_HDR) $(BUILD)/lib/libdoppel.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_ALL) -fvisibility=default -Ilib -Itools \
		-Igeo-data -o $@ \
		$(CLI_SRC) $(BUILD)/lib/libdoppel.a $(LIBS) -lldns -ljansson -lz \
		$(LDFLAGS)

# The country database, from Debian's tor-geoipdb, built at install time
# and never committed.
# (tor-geoipdb's ranges, unpacked into the build: the package itself
# would bring the Tor daemon with it)
TOR_DIR ?= $(BUILD)/tor-geoipdb
$(TOR_DIR)/geoip:
	tools/build/geodata.sh $(TOR_DIR)
$(BUILD)/geo/country.mmdb: $(BUILD)/bin/doppel $(TOR_DIR)/geoip
	@mkdir -p $(dir $@)
	$(BUILD)/bin/doppel geo build --tor4 $(TOR_DIR)/geoip \
		--tor6 $(TOR_DIR)/geoip6 -o $@

$(BUILD)/tests/mkcache: tests/cli/mkcache.c $(BUILD)/lib/libdoppel.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ilib -o $@ $< $(BUILD)/lib/libdoppel.a $(LIBS) \
		$(LDFLAGS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/test.h $(BUILD)/lib/libdoppel.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ilib -Itests/unit -o $@ $< \
		$(BUILD)/lib/libdoppel.a $(LIBS) -ljansson $(LDFLAGS)

# libFuzzer needs clang.  The library (and the CLI's range readers and
# audit summary) is compiled once, instrumented, and linked into each
# target.
FUZZ_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -g -O1 \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-Ilib -Itools -Igeo-data -Itests/fuzz
FUZZ_LIB_SRC = $(LIB_SRC) geo-data/mmdb_write.c tools/audit_summary.c \
	tools/review.c tools/cli.c
FUZZ_OBJ = $(FUZZ_LIB_SRC:%.c=$(BUILD)/fuzz/obj/%.o)
$(BUILD)/fuzz/obj/%.o: %.c $(LIB_HDR) geo-data/mmdb_write.h tools/audit_summary.h \
	tools/review.h tools/cli.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LIBS) \
		-ljansson -lz

# Longer fuzzing runs than the ones make test does: every target for
# FUZZ_SECONDS (default 60), two at a time; new inputs go to
# build/fuzz/corpus/TARGET, findings to build/fuzz/.
fuzz: $(FUZZ_BIN)
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_KEEP=1 FUZZ_JOBS=2 \
		tests/fuzz/run.sh

test: all $(TEST_BIN)
	@BUILD=$(BUILD) tests/run.sh

# The load soak (tests/soak/soak.py): the ASan build of the module under
# dnsperf for SOAK_SECONDS (default 120); not part of make test.
SOAK_SECONDS ?= 120
soak: all $(BUILD)/geo/country.mmdb
	@$(MAKE) --no-print-directory BUILD=build-asan UNBOUND_SRC=$(abspath $(BUILD)/unbound-src) \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" OPT="-O1 -g" \
		build-asan/lib/doppel.so
	/usr/bin/python3 tests/soak/soak.py --seconds $(SOAK_SECONDS)
	/usr/bin/python3 tests/soak/soak.py --seconds 30 --reload-every 3 \
		--out build-asan/soak-reload

# The resolver laid out to run chrooted as the user unbound (as root):
# see tools/install.sh and README.md, "Least privilege".  DESTDIR stages
# the files under it (paths in the configuration stay PREFIX's).
PREFIX ?= /opt/doppel
DESTDIR ?=
install: all $(BUILD)/geo/country.mmdb
	BUILD=$(BUILD) DESTDIR=$(DESTDIR) tools/install.sh $(PREFIX)


$(BUILD)/bench/bench_dnstap: tests/bench/bench_dnstap.c $(BUILD)/lib/libdoppel.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ilib -o $@ $< $(BUILD)/lib/libdoppel.a $(LIBS) \
		-lpthread $(LDFLAGS)

$(BUILD)/bench/bench_engine: tests/bench/bench_engine.c $(BUILD)/lib/libdoppel.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ilib -o $@ $< $(BUILD)/lib/libdoppel.a $(LIBS) \
		$(LDFLAGS)

$(BUILD)/bench/bench_vcache: tests/bench/bench_vcache.c $(BUILD)/lib/libdoppel.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ilib -o $@ $< $(BUILD)/lib/libdoppel.a $(LIBS) \
		$(LDFLAGS)

$(BUILD)/bench/memlat: tests/bench/memlat.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LDFLAGS)

bench: all $(BUILD)/geo/country.mmdb $(BUILD)/bench/bench_engine $(BUILD)/bench/bench_vcache \
	$(BUILD)/bench/memlat $(BUILD)/bench/bench_dnstap
	@BUILD=$(BUILD) tests/bench/run.sh

# The sanitised build goes to its own directory and reuses the Unbound
# built for the plain one.  Unbound itself is not instrumented, so the
# ASan runtime is preloaded into it by the test scripts (SAN_PRELOAD).
asan: all $(TEST_BIN)
	@$(MAKE) --no-print-directory BUILD=build-asan UNBOUND_SRC=$(abspath $(BUILD)/unbound-src) \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" OPT="-O1 -g" \
		build-asan/lib/doppel.so build-asan/bin/doppel \
		$(UNIT_BIN:$(BUILD)/%=build-asan/%) build-asan/tests/mkcache
	@BUILD=build-asan UNBOUND_DIR=$(abspath $(BUILD)/unbound) \
		SUITES="unit symbols cli policies geo recall testbound e2e" \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" \
		SAN_PRELOAD=$$($(CC) -print-file-name=libasan.so) \
		ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 tests/run.sh

# ThreadSanitizer: Unbound itself must be instrumented too, so it gets a
# build of its own (build-tsan/unbound, ~2 minutes once); then the module
# runs the end-to-end tests with four worker threads (the fault matrix's
# one-thread half, about files at start-up, is left to the other runs; its
# four-thread half takes ~7 minutes under TSan, hence the longer limit).
tsan: deps-check
	@mkdir -p build-tsan
	@UNBOUND_CFLAGS=-fsanitize=thread JOBS=$(JOBS) tools/build/unbound.sh build-tsan
	@$(MAKE) --no-print-directory BUILD=build-tsan UNBOUND_SRC=$(abspath build-tsan/unbound-src) \
		SAN="-fsanitize=thread" OPT="-O1 -g" \
		build-tsan/lib/doppel.so build-tsan/bin/doppel
	@rm -rf build-tsan/reports && mkdir -p build-tsan/reports
	@BUILD=build-tsan UNBOUND_DIR=$(abspath build-tsan/unbound) LAB_THREADS=4 \
		E2E_SKIP="faults-matrix-1.sh" E2E_FILE_TIMEOUT=600 \
		TSAN_OPTIONS="halt_on_error=0 log_path=$(abspath build-tsan/reports)/tsan" \
		SUITES="e2e" tests/run.sh; rc=$$?; \
		tests/tsan-check.sh build-tsan/reports || rc=1; exit $$rc

# The man pages (doc/*.pod): `make man`, then man -l build/man/doppel.1.
MAN_PAGES = $(BUILD)/man/doppel.1 $(BUILD)/man/doppel.conf.5 \
	$(BUILD)/man/doppel-policy.5
$(BUILD)/man/%: doc/%.pod
	@mkdir -p $(dir $@)
	pod2man --section=$(subst .,,$(suffix $@)) --center=doppel \
		--release="doppel" \
		--name=$$(echo $(basename $(notdir $@)) | tr a-z A-Z) $< >$@
man: $(MAN_PAGES)

# Debian packages of unbound (with the dynlib module) and doppel, built
# with Debian's tools into $(BUILD)/deb (tools/build/deb.sh).
deb:
	@JOBS=$(JOBS) tools/build/deb.sh $(BUILD)

demo: all $(BUILD)/geo/country.mmdb
	@tests/lab/demo.sh

run: all $(BUILD)/geo/country.mmdb
	@tools/run-resolver.sh

# Everything doppel built; the Unbound trees stay (distclean removes them).
clean:
	rm -rf $(BUILD)/obj $(BUILD)/lib $(BUILD)/bin $(BUILD)/tests \
		$(BUILD)/fuzz $(BUILD)/geo $(BUILD)/bench $(BUILD)/report.png \
		$(BUILD)/man $(BUILD)/tor-geoipdb \
		$(BUILD)/doppel-stats.prom $(BUILD)/doppel-stats.prom.tmp \
		build-asan build-tsan

distclean:
	rm -rf $(BUILD) build-asan build-tsan
