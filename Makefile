# jitevm build. `make` builds, `make test` runs every test, `make asan` runs
# them under AddressSanitizer + UndefinedBehaviorSanitizer, `make bench`
# runs the benchmarks, `make run` sets up and serves a demo database.

BUILD    ?= build
CC       ?= cc
OPT      ?= -O2 -g
SANITIZE ?=
# The project's flags are kept apart from OPT/SANITIZE so that overriding
# those (as `make asan` does) keeps the warnings and include paths.
CFLAGS   := $(OPT) $(SANITIZE) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -MMD -MP
LDFLAGS  := $(SANITIZE)

CORE_LIBS    := -lsecp256k1 -lgmp -lcrypto -lsodium -lm -lpthread
SERVICE_LIBS := -ljansson -lmicrohttpd -lsqlite3
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm -lpthread)

# Each part sees only the parts below it: core includes nothing of schema or
# service, schema nothing of service. Headers are named by their folder
# ("vm/evm.h", "rpc/rpc.h") so an include says which part it reaches into.
CORE_INC    := -Icore
SCHEMA_INC  := $(CORE_INC) -Ischema
SERVICE_INC := $(SCHEMA_INC) -Iservice
TEST_INC    := $(SERVICE_INC) -Itests

CORE_SRC    := $(wildcard core/*/*.c)
SCHEMA_SRC  := $(wildcard schema/*.c)
SERVICE_SRC := $(wildcard service/*.c service/*/*.c)
TEST_SRC    := $(wildcard tests/test_*.c)

CORE_OBJ    := $(CORE_SRC:%.c=$(BUILD)/%.o)
SCHEMA_OBJ  := $(SCHEMA_SRC:%.c=$(BUILD)/%.o)
# The schema migrations (schema/migrations/NNN_name.sql, the source) are
# compiled in through a C file generated from them (rules below).
MIGRATIONS  := $(sort $(wildcard schema/migrations/*.sql))
SCHEMA_OBJ  += $(BUILD)/schema/migrations_sql.o
SERVICE_OBJ := $(SERVICE_SRC:%.c=$(BUILD)/%.o)
TEST_BIN    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

CORE_LIB    := $(BUILD)/libjitevm-core.a
SCHEMA_LIB  := $(BUILD)/libjitevm-schema.a
SERVICE_LIB := $(BUILD)/libjitevm-service.a
JITEVM      := $(BUILD)/jitevm

FIXTURES ?= ../shared/fixtures/state_tests
BENCHMARKS ?= ../shared/benchmarks

.PHONY: all test unit conformance asan asan-conformance bench run deps clean fuzz e2e bench-rpc
all: $(JITEVM)

# Both tiers write stack items as four 64-bit words; 16-byte SSE copies of
# them right after (DUP, SWAP, the compiler's helpers returning a word)
# miss store forwarding and stall (measured: ~20% of the loop benchmark's
# time, 2.7x on SIGNEXTEND through a helper): these files use no SSE.
$(BUILD)/core/vm/interp.o $(BUILD)/core/vm/opcode_functions.o $(BUILD)/core/jit/jit_ops.o: CFLAGS += -fno-tree-slp-vectorize

$(BUILD)/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CORE_INC) -c $< -o $@
$(BUILD)/schema/%.o: schema/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SCHEMA_INC) -c $< -o $@
$(BUILD)/service/%.o: service/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SERVICE_INC) -c $< -o $@

$(BUILD)/schema/migrations_sql.c: $(MIGRATIONS) schema/embed-migrations.sh
	@mkdir -p $(dir $@)
	sh schema/embed-migrations.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@
$(BUILD)/schema/migrations_sql.o: $(BUILD)/schema/migrations_sql.c
	$(CC) $(CFLAGS) $(SCHEMA_INC) -c $< -o $@

$(CORE_LIB): $(CORE_OBJ)
	@rm -f $@; ar rcs $@ $^
$(SCHEMA_LIB): $(SCHEMA_OBJ)
	@rm -f $@; ar rcs $@ $^
# Everything in service/ but the command's main goes into a library, so the
# end-to-end and runner tests can link it.
$(SERVICE_LIB): $(filter-out $(BUILD)/service/main.o,$(SERVICE_OBJ))
	@rm -f $@; ar rcs $@ $^

$(JITEVM): $(BUILD)/service/main.o $(SERVICE_LIB) $(SCHEMA_LIB) $(CORE_LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(SERVICE_LIBS) $(CORE_LIBS) -o $@

# The tests' shared helpers (tests/testlib*.c) are linked into every test.
TESTLIB_OBJ := $(BUILD)/tests/testlib.o $(BUILD)/tests/testlib_evm.o
$(TESTLIB_OBJ): $(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_INC) -c $< -o $@
$(BUILD)/tests/%: tests/%.c $(TESTLIB_OBJ) $(SERVICE_LIB) $(SCHEMA_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_INC) $(LDFLAGS) $^ $(SERVICE_LIBS) $(CORE_LIBS) $(CHECK_LIBS) -o $@

deps:
	@sh deploy/install-deps.sh

unit: $(TEST_BIN)
	@sh tests/check-symbols.sh $(CORE_LIB) $(SCHEMA_LIB) $(SERVICE_LIB) -- \
	    jansson microhttpd sqlite3 secp256k1 gmp crypto sodium check
	@JITEVM_FIXTURES=$(FIXTURES) sh tests/run-unit.sh $(TEST_BIN)

conformance: $(JITEVM)
	@sh tests/run-conformance.sh $(JITEVM) $(FIXTURES)

test: deps
	@$(MAKE) --no-print-directory unit e2e conformance

# `jitevm serve` end to end: the real server on a free loopback port, over HTTP.
e2e: $(JITEVM)
	@sh tests/rpc-e2e.sh $(JITEVM)
	@sh tests/hardening-e2e.sh $(JITEVM)

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g" \
	    SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	    unit asan-conformance

asan-conformance: $(JITEVM)
	@sh tests/run-conformance.sh $(JITEVM) $(FIXTURES)

# The demo: a dev-chain database (every fork through Osaka active, a funded
# dev account) with a small storage-reading contract at 0x...0d3e30 (its
# slot 0 holds 42), served on loopback.
DEMO_DB ?= build/demo.db
run: deps
	@$(MAKE) --no-print-directory $(JITEVM)
	@[ -f $(DEMO_DB) ] || { $(JITEVM) init --db $(DEMO_DB) --chain dev && \
	    $(JITEVM) import --db $(DEMO_DB) --quiet deploy/demo-alloc.json; }
	$(JITEVM) serve --db $(DEMO_DB) --listen 127.0.0.1:8545

bench: $(JITEVM)
	$(JITEVM) bench $(BENCHMARKS)
	$(JITEVM) bench --compare $(BENCHMARKS)  # the compiler against the interpreter, same run
	$(JITEVM) bench-store  # state database: import speed, read latency

# The JSON-RPC service against anvil (npm @foundry-rs/anvil, installed under
# build/) with wrk: requests/s and latency, side by side.
bench-rpc: $(JITEVM)
	@sh tests/bench-rpc.sh $(JITEVM)

# Coverage-guided differential fuzzing of the two tiers (clang's libFuzzer, with ASan
# and UBSan): make fuzz [FUZZ_TIME=seconds]. The corpus stays in build-fuzz/.
# (BLS12_381_PORTABLE: clang 14 cannot test for ADX at run time.)
FUZZ_TIME ?= 60
fuzz:
	@mkdir -p build-fuzz/corpus
	clang -std=c11 -D_GNU_SOURCE -DBLS12_381_PORTABLE -O1 -g $(CORE_INC) -Itests -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined tests/fuzz_interp.c tests/testlib_evm.c $(CORE_SRC) $(CORE_LIBS) -o build-fuzz/fuzz_interp
	build-fuzz/fuzz_interp -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 build-fuzz/corpus

clean:
	rm -rf build build-asan build-fuzz

-include $(CORE_OBJ:.o=.d) $(SCHEMA_OBJ:.o=.d) $(SERVICE_OBJ:.o=.d) $(TESTLIB_OBJ:.o=.d)
