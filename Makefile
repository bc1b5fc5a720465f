# sipwarden build. `make` builds build/sipwarden; `make run` and `make test`
# are the two commands of the README; `make check-slow` holds the long checks.

ifeq ($(origin CC),default)
CC      := gcc
endif
CLANG   ?= clang
PKGS    := openssl sqlite3 libsodium inih jansson libnftables
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lzxcvbn

WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wvla -Wformat=2 -Werror
BASE    := -std=c17 -D_GNU_SOURCE -Isrc -Ibuild/gen $(WARN) $(PKG_CFLAGS)
HARDEN  := -O2 -g -D_FORTIFY_SOURCE=3 -fstack-protector-strong \
           -fstack-clash-protection -fPIE
HARDEN_LD := -pie -Wl,-z,relro,-z,now
SAN     := -O1 -g -DSW_SANITIZE -fsanitize=address,undefined -fno-sanitize-recover=all \
           -fno-omit-frame-pointer
FUZZ    := -O1 -g -DSW_SANITIZE -fsanitize=fuzzer-no-link,address,undefined \
           -fno-sanitize-recover=all -fno-omit-frame-pointer

LIB_SRC := $(sort $(filter-out src/main.c,$(wildcard src/*/*.c)))
MIGRATIONS := $(sort $(wildcard src/store/migrations/*.sql))
GEN_SRC := build/gen/migrations.c
HDRS    := $(wildcard src/*.h src/*/*.h)
UNIT_SRC := $(sort $(wildcard tests/unit/*_test.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 10

# $(1): build flavour directory, $(2): compiler, $(3): flags
define flavour
$(1)/obj/%.o: %.c $(HDRS) | build/gen/migrations.c
	@mkdir -p $$(dir $$@)
	@echo "  CC $(1) $$<"
	@$(2) $(BASE) $(3) -c $$< -o $$@
$(1)/libsipwarden.a: $(patsubst %.c,$(1)/obj/%.o,$(LIB_SRC) $(GEN_SRC))
	@rm -f $$@
	@ar rcs $$@ $$^
endef

$(eval $(call flavour,build/rel,$(CC),$(HARDEN)))
$(eval $(call flavour,build/asan,$(CC),$(SAN)))
$(eval $(call flavour,build/clang,$(CLANG),$(HARDEN)))
$(eval $(call flavour,build/fuzz,$(CLANG),$(FUZZ)))

.PHONY: all deps test-deps run test unit integration fuzz clang-build \
        format format-check check-slow clean
all: build/sipwarden

build/gen/migrations.c: $(MIGRATIONS) scripts/embed-sql.sh
	@mkdir -p build/gen
	scripts/embed-sql.sh $@ $(MIGRATIONS)

build/sipwarden: build/rel/obj/src/main.o build/rel/libsipwarden.a
	$(CC) $(HARDEN_LD) -o $@ $^ $(PKG_LIBS)

build/asan/sipwarden: build/asan/obj/src/main.o build/asan/libsipwarden.a
	$(CC) -fsanitize=address,undefined -o $@ $^ $(PKG_LIBS)

build/clang/sipwarden: build/clang/obj/src/main.o build/clang/libsipwarden.a
	$(CLANG) $(HARDEN_LD) -o $@ $^ $(PKG_LIBS)

build/asan/tests/%_test: build/asan/obj/tests/unit/%_test.o build/asan/libsipwarden.a
	@mkdir -p $(dir $@)
	$(CC) -fsanitize=address,undefined -o $@ $^ $(PKG_LIBS) -lcmocka -lsrtp2

# Test tools (not part of the product): independent checkers.
build/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g -o $@ $< -lsrtp2

build/fuzz/%: build/fuzz/obj/tests/fuzz/%.o build/fuzz/libsipwarden.a
	$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS)

UNIT_BINS := $(patsubst tests/unit/%_test.c,build/asan/tests/%_test,$(UNIT_SRC))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

deps:
	@scripts/deps.sh run

test-deps:
	@scripts/deps.sh test

# The daemon on ./var with a demo tenant (scripts/run.sh says what it does).
run: deps
	@$(MAKE) --no-print-directory build/sipwarden
	@scripts/run.sh

unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

integration: build/sipwarden build/asan/sipwarden build/tools/srtpcheck
	@python3 tests/integration/run.py

fuzz: $(FUZZ_BINS)
	@scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

clang-build: build/clang/sipwarden

test: test-deps
	@scripts/ensure-user.sh sipwarden
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory -j2 build/sipwarden build/asan/sipwarden \
	    clang-build $(UNIT_BINS) $(FUZZ_BINS)
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory fuzz

# Long fuzzing and the static analyser report (it never fails the build).
check-slow: test-deps $(FUZZ_BINS)
	@scripts/run-fuzz.sh 300 $(FUZZ_BINS)
	@mkdir -p build/analyzer
	@for f in $(LIB_SRC) src/main.c; do \
	    $(CC) $(BASE) -Wno-error -fanalyzer -c $$f -o /dev/null \
	    2>>build/analyzer/report.txt || true; done
	@echo "analyzer report: build/analyzer/report.txt ($$(grep -c 'warning:' build/analyzer/report.txt) warnings)"

format:
	clang-format -i $(wildcard src/*/*.c src/*/*.h src/*.c tests/*/*.c tests/*/*.h)

format-check:
	@clang-format --dry-run --Werror $(wildcard src/*/*.c src/*/*.h src/*.c tests/*/*.c tests/*/*.h)

clean:
	rm -rf build
