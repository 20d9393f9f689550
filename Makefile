# Build for core-api, ingest-worker and their shared library.
#
#   make                 release build into build/
#   make SAN=1           ASan+UBSan build into build-san/
#   make WERROR=1        warnings are errors (CI)
#   make FAILPOINTS=0    release build: no failpoint compiled in (src/common/failpoint.h)
#   make unit            build and run the C unit tests (cmocka)
#   make test            unit tests + integration tests (needs scripts/install-deps.sh once)
#   make fuzz            libFuzzer targets (clang) into build-fuzz/
#   make compile_commands.json
#
# Sources are found by folder, so a new module is a new .c/.h pair and nothing else.

.DEFAULT_GOAL := all

CC      ?= cc
PKGS    := libmicrohttpd jansson libpq libcurl openssl libargon2 libxml-2.0 libzip uuid
# the e-mail extractor (src/worker/extract/eml.c)
PKGS    += gmime-3.0
WARN    := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wvla -Wwrite-strings -fno-common
DEFS    := -D_GNU_SOURCE
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -lpthread -lm
# the English Snowball stemmer of search snippets (src/api/handlers/snippet.c; no .pc file)
PKG_LIBS   += -lstemmer

ifeq ($(SAN),1)
  BUILD   ?= build-san
  OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
  LDSAN   := -fsanitize=address,undefined
else
  BUILD   ?= build
  OPT     := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
  LDSAN   :=
endif
ifeq ($(WERROR),1)
  WARN += -Werror
endif
# Failpoints (src/common/failpoint.h): compiled in by default for development and
# tests, off at run time unless FAILPOINTS names one; release builds use FAILPOINTS=0.
FAILPOINTS ?= 1
ifeq ($(FAILPOINTS),1)
  DEFS += -DFAILPOINTS
endif
# Quiet by default: one short line per step; V=1 shows the commands.
ifeq ($(V),1)
  Q :=
  say = @true
else
  Q := @
  say = @printf '  %-6s %s\n' $(1) $(2)
endif

CFLAGS_ALL  = $(WARN) $(DEFS) $(OPT) -Isrc $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(LDSAN) $(LDFLAGS)

COMMON_SRC := $(wildcard src/common/*.c)
API_SRC    := $(wildcard src/api/*.c src/api/*/*.c)
WORKER_SRC := $(wildcard src/worker/*.c src/worker/extract/*.c)

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
API_OBJ    := $(API_SRC:%.c=$(BUILD)/%.o)
WORKER_OBJ := $(WORKER_SRC:%.c=$(BUILD)/%.o)
# Everything but main.o, so unit tests can link a program's modules.
API_LIB_OBJ    := $(filter-out $(BUILD)/src/api/main.o,$(API_OBJ))
WORKER_LIB_OBJ := $(filter-out $(BUILD)/src/worker/main.o,$(WORKER_OBJ))

UNIT_COMMON := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/unit/common/test_*.c))
UNIT_API    := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/unit/api/test_*.c))
UNIT_WORKER := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/unit/worker/test_*.c))
# Layer tests: each links only the objects its layer may use, so a link error is a
# broken layer (docs/development.md): a handler with http/request.o and common, the
# subcommands with the account rules and common (never the HTTP server).
UNIT_HANDLERS := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/unit/api/handlers/test_*.c))
# ...plus the helpers every handler shares (handlers/params, handlers/rows); a handler
# that needs more names it below (search: rank, expand; users, session: the auth rules;
# versions: the upload store, for a version's original file).
HANDLER_SHARED_OBJ := $(BUILD)/src/api/handlers/params.o $(BUILD)/src/api/handlers/rows.o
API_AUTH_OBJ       := $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/api/auth/*.c))
$(BUILD)/tests/unit/api/handlers/test_search: $(BUILD)/src/api/handlers/rank.o $(BUILD)/src/api/handlers/expand.o \
                                              $(BUILD)/src/api/handlers/snippet.o
$(BUILD)/tests/unit/api/handlers/test_users: $(BUILD)/src/api/auth/account.o $(BUILD)/src/api/auth/password.o
$(BUILD)/tests/unit/api/handlers/test_session: $(API_AUTH_OBJ)
$(BUILD)/tests/unit/api/handlers/test_versions: $(BUILD)/src/api/upload_store.o $(BUILD)/src/api/upload_store_s3.o
UNIT_CMD      := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/unit/api/cmd/test_*.c))
API_CMD_OBJ   := $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/api/cmd/*.c)) \
                 $(BUILD)/src/api/auth/account.o $(BUILD)/src/api/auth/password.o \
                 $(BUILD)/src/api/source_sync.o $(BUILD)/src/api/publish.o \
                 $(BUILD)/src/api/upload_orphans_s3.o
UNIT_BINS   := $(UNIT_COMMON) $(UNIT_API) $(UNIT_WORKER) $(UNIT_HANDLERS) $(UNIT_CMD)
# C programs driven by the node integration tests (they need PostgreSQL or the queue).
INTEG_BINS  := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/integration/c/test_*.c))
# Helpers shared by the C tests (tests/support/*.c), linked into the tests of common/ and integration/c.
TEST_SUPPORT := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/support/*.c))

.PHONY: all unit test integration e2e fuzz clean check check-layers check-headers check-functions
all: $(BUILD)/core-api $(BUILD)/ingest-worker $(BUILD)/ingest-extract $(INTEG_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/libcommon.a: $(COMMON_OBJ)
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(BUILD)/core-api: $(API_OBJ) $(BUILD)/libcommon.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

$(BUILD)/ingest-worker: $(WORKER_OBJ) $(BUILD)/libcommon.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

# The extraction helper the worker posix_spawn()s per job (src/worker/extract/README.md):
# its own main, extract/'s modules (nothing else of the worker is reached from it) and common,
# linked --as-needed: the libraries it does not call (libpq, libcurl, libmicrohttpd, their TLS
# and Kerberos) are not loaded and relocated at every job's start (~7 ms of CPU a job).
HELPER_OBJ := $(filter $(BUILD)/src/worker/extract/%,$(WORKER_LIB_OBJ))
$(BUILD)/ingest-extract: $(BUILD)/src/worker/extract/helper/main.o $(HELPER_OBJ) $(BUILD)/libcommon.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ -Wl,--as-needed $(PKG_LIBS)

$(UNIT_COMMON) $(INTEG_BINS): $(TEST_SUPPORT)
$(UNIT_COMMON): $(BUILD)/tests/%: tests/%.c $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(call say,TEST,$@)
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(TEST_SUPPORT) $(BUILD)/libcommon.a $(PKG_LIBS) -lcmocka
$(UNIT_API): $(BUILD)/tests/%: tests/%.c $(API_LIB_OBJ) $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(call say,TEST,$@)
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(API_LIB_OBJ) $(BUILD)/libcommon.a $(PKG_LIBS) -lcmocka
$(UNIT_HANDLERS): $(BUILD)/tests/unit/api/handlers/test_%: tests/unit/api/handlers/test_%.c \
                  $(BUILD)/src/api/handlers/%.o $(HANDLER_SHARED_OBJ) $(BUILD)/src/api/http/request.o \
                  $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(call say,TEST,$@)
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(filter %.c %.o,$^) $(filter %.a,$^) $(PKG_LIBS) -lcmocka
$(UNIT_CMD): $(BUILD)/tests/%: tests/%.c $(API_CMD_OBJ) $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(call say,TEST,$@)
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(API_CMD_OBJ) $(BUILD)/libcommon.a $(PKG_LIBS) -lcmocka
$(UNIT_WORKER): $(BUILD)/tests/%: tests/%.c $(WORKER_LIB_OBJ) $(BUILD)/libcommon.a | $(BUILD)/ingest-extract
	@mkdir -p $(dir $@)
	$(call say,TEST,$@)
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(WORKER_LIB_OBJ) $(BUILD)/libcommon.a $(PKG_LIBS) -lcmocka

$(INTEG_BINS): $(BUILD)/tests/%: tests/%.c $(WORKER_LIB_OBJ) $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(call say,TEST,$@)
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(TEST_SUPPORT) $(WORKER_LIB_OBJ) $(BUILD)/libcommon.a $(PKG_LIBS) -lcmocka

# The HTTP layer names no handler, auth rule or subcommand (h2o style): they are passed in;
# and it alone speaks libmicrohttpd, so handlers see only struct req.
check-layers:
	@if grep -n '#include "api/\(handlers\|auth\|cmd\)/\|#include "api/upload_store.h"' src/api/http/*.[ch]; then \
	  echo "check-layers: src/api/http/ must not include a handler, auth or cmd header"; exit 1; fi
	@if grep -ln '#include <microhttpd.h>' src/api/handlers/* src/api/auth/* src/api/cmd/* src/common/*; then \
	  echo "check-layers: only src/api/http/ speaks libmicrohttpd"; exit 1; fi
	@echo "check-layers: src/api/http/ includes no handler header; only http/ speaks libmicrohttpd"

# Every source file opens with a comment that says what it is for.
check-headers:
	@bad=$$(for f in $$(find src -name '*.[ch]'); do head -c2 "$$f" | grep -q '/\*' || echo "$$f"; done); \
	if [ -n "$$bad" ]; then echo "check-headers: no header comment in:"; echo "$$bad"; exit 1; fi
	@echo "check-headers: every file under src/ opens with a header comment"

# No function in src/ over 99 lines or 8 exits (return + goto).
check-functions:
	@node scripts/check-functions.mjs src

check: check-layers check-headers check-functions

# Each test binary runs in its own process; scripts/run-unit.sh prints one summary line.
unit: all check $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

# The one command that runs everything (README): unit tests, then integration and
# browser tests against a throwaway PostgreSQL and SQS emulator.
test: unit
	@scripts/run-tests.sh $(BUILD)

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
# Every module but the two main.c (they define only main), so a target may call
# api parsers (multipart, jwt) as well as worker ones; no symbol is defined twice.
build-fuzz/%: tests/fuzz/%.c $(COMMON_SRC) $(API_SRC) $(WORKER_SRC)
	@mkdir -p build-fuzz
	$(call say,FUZZ,$@)
	$(Q)clang $(WARN) $(DEFS) -g -O1 -fsanitize=fuzzer,address,undefined -Isrc $(PKG_CFLAGS) -DFUZZING \
	  -o $@ $< $(COMMON_SRC) $(filter-out src/api/main.c,$(API_SRC)) \
	  $(filter-out src/worker/main.c,$(WORKER_SRC)) $(PKG_LIBS)
fuzz: $(FUZZ_BIN)

compile_commands.json:
	bear -- $(MAKE) -B all

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
