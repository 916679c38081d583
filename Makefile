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
SERVICE_LIBS := -ljansson -lmicrohttpd -lsqlite3 -lcurl
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
CEILING     := $(BUILD)/tests/loopback-ceiling

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
# Intel's JCC-erratum microcode (Skylake-derived cores, this machine's Xeon
# among them) keeps a jump that crosses or ends on a 32-byte boundary out of
# the decoded-uop cache, so the engine's speed depended on where the linker
# placed it: a one-field change to an unrelated struct ran the interpreter's
# JUMPDEST loops 1.8x slower with identical instructions. The assembler pads
# the interpreter's jumps away from those boundaries (only there: padding the
# whole core measured slower on snailtracer).
$(BUILD)/core/vm/interp.o: CFLAGS += -Wa,-mbranches-within-32B-boundaries
# The interpreter's objects start every function on a 64-byte line, so that
# where the linker puts them (which moves with any change to the code linked
# before them) does not move their hot paths across cache-line and fetch
# boundaries: memory_grow_mstore/by16 ran 21 to 31 us between builds that
# changed nothing in core/vm, 20.5 us in each with this.
$(patsubst core/vm/%.c,$(BUILD)/core/vm/%.o,$(wildcard core/vm/*.c)): CFLAGS += -falign-functions=64

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

unit: $(TEST_BIN) $(CEILING)
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
	@sh tests/fork-e2e.sh $(JITEVM)
	@sh tests/clients-e2e.sh $(JITEVM)
	@sh tests/clients-live-e2e.sh $(JITEVM)
	@sh tests/hardening-e2e.sh $(JITEVM)
	@sh tests/state-methods-e2e.sh $(JITEVM)
	@sh tests/simulate-e2e.sh $(JITEVM)
	@sh tests/trace-e2e.sh $(JITEVM)
	@sh tests/snapshot-e2e.sh $(JITEVM)
	@sh tests/text-results-e2e.sh $(JITEVM)

# Check's per-test time limits are hang guards; the sanitizers make every
# test 2-5x slower, so they are stretched here (CK_TIMEOUT_MULTIPLIER).
asan:
	@CK_TIMEOUT_MULTIPLIER=5 $(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g" \
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

# The deployment end to end (tests/deploy/, loopback only, a few minutes):
# the image built and run with podman, the manifests against their schemas,
# three replicas behind nginx and HAProxy under load with faults.
.PHONY: test-deploy
test-deploy: $(JITEVM)
	@sh tests/deploy/test-deploy.sh $(JITEVM)

# eth_call throughput through nginx with 1, 2 and 3 replicas (wrk, loopback).
.PHONY: bench-scale
bench-scale: $(JITEVM)
	@sh tests/deploy/bench-scale.sh $(JITEVM)

# The official state tests (the EEST release of ../shared/fixtures) into
# build/fixtures/state_tests, for a clone without ../shared; needs the internet.
.PHONY: fixtures
fixtures:
	@sh deploy/fetch-fixtures.sh

bench: $(JITEVM)
	$(JITEVM) bench $(BENCHMARKS)
	$(JITEVM) bench --compare $(BENCHMARKS)  # the compiler against the interpreter, same run
	$(JITEVM) bench-store  # state database: import speed, read latency

# The JSON-RPC service against anvil (npm @foundry-rs/anvil, installed under
# build/) with wrk: requests/s and latency, side by side.
bench-rpc: $(JITEVM)
	@sh tests/bench-rpc.sh $(JITEVM)

# Live mode against anvil --fork-url, both in front of the same loopback
# upstream: cold first call, warm req/s (wrk), first call after a restart.
# The do-nothing HTTP server bench-fork measures beside the others: the
# most any server answers on this machine under the same load (built with
# the unit tests, so that it keeps compiling).
$(CEILING): tests/loopback_ceiling.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -pthread -o $@
.PHONY: bench-fork
bench-fork: $(JITEVM) $(CEILING)
	@CEILING=$(CEILING) sh tests/bench-fork.sh $(JITEVM)

# Coverage-guided fuzzing (clang's libFuzzer, with ASan and UBSan) of every parser
# and of the two tiers against each other, in tests/fuzz/ (each harness says what it
# checks). make fuzz [FUZZ_TIME=seconds] runs each fuzzer that long, from its seed
# corpus (tests/fuzz/corpus/NAME, committed) and its working corpus (build-fuzz/corpus/NAME);
# crashes are written to build-fuzz/crashes/ and fail the target.
# (BLS12_381_PORTABLE: clang 14 cannot test for ADX at run time.)
FUZZ_TIME ?= 60
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -DBLS12_381_PORTABLE -O1 -g -fsanitize=address,undefined \
    -fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined
FUZZ_CORE_OBJ    := $(CORE_SRC:%.c=build-fuzz/obj/%.o)
FUZZ_SERVICE_OBJ := $(filter-out build-fuzz/obj/service/main.o,$(SERVICE_SRC:%.c=build-fuzz/obj/%.o)) \
    $(SCHEMA_SRC:%.c=build-fuzz/obj/%.o) build-fuzz/obj/schema/migrations_sql.o
FUZZ_CORE_ONLY   := fuzz_hex fuzz_rlp fuzz_precompile fuzz_program_blob fuzz_u256
FUZZ_WITH_SERVICE := fuzz_rpc fuzz_loaders fuzz_http_gate
FUZZERS := fuzz_interp $(FUZZ_CORE_ONLY) $(FUZZ_WITH_SERVICE)

# -MMD: an object is rebuilt when a header it includes changes (without it a
# struct grown in a header left stale objects of the old layout linked in).
build-fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP $(SERVICE_INC) -Itests -c $< -o $@
build-fuzz/obj/schema/migrations_sql.o: $(BUILD)/schema/migrations_sql.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(SERVICE_INC) -c $< -o $@
build-fuzz/fuzz_interp: tests/fuzz/fuzz_interp.c build-fuzz/obj/tests/testlib_evm.o $(FUZZ_CORE_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $(CORE_INC) -Itests $^ $(CORE_LIBS) -o $@
$(FUZZ_CORE_ONLY:%=build-fuzz/%): build-fuzz/%: tests/fuzz/%.c $(FUZZ_CORE_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $(CORE_INC) $^ $(CORE_LIBS) -o $@
$(FUZZ_WITH_SERVICE:%=build-fuzz/%): build-fuzz/%: tests/fuzz/%.c $(FUZZ_SERVICE_OBJ) $(FUZZ_CORE_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $(SERVICE_INC) $^ $(SERVICE_LIBS) $(CORE_LIBS) -o $@

fuzz: fuzz-deps
	@$(MAKE) --no-print-directory fuzz-run
fuzz-deps:
	@sh deploy/install-deps.sh fuzz
.PHONY: fuzz fuzz-deps fuzz-run
fuzz-run: $(FUZZERS:%=build-fuzz/%)
	@mkdir -p build-fuzz/crashes
	@for f in $(FUZZERS); do \
	    mkdir -p build-fuzz/corpus/$$f tests/fuzz/corpus/$$f; \
	    echo "== $$f ($(FUZZ_TIME)s)"; \
	    build-fuzz/$$f -max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
	        -artifact_prefix=build-fuzz/crashes/$$f- -print_final_stats=1 \
	        build-fuzz/corpus/$$f tests/fuzz/corpus/$$f 2> build-fuzz/$$f.log || { tail -40 build-fuzz/$$f.log; exit 1; }; \
	    grep -E 'stat::number_of_executed_units|stat::new_units_added' build-fuzz/$$f.log | tr '\n' ' '; echo; \
	done

# A soak of the real server: mixed calls, batches, malformed and timeout-bound
# requests at 16 clients; errors by class, p50/p99/max and RSS every 5 s; fails on
# an unexpected error class or RSS growth after the warm-up.
SOAK_SECONDS ?= 60
.PHONY: soak
soak: $(JITEVM)
	@sh tests/soak.sh $(JITEVM) $(SOAK_SECONDS)
# The same for live mode: `serve --follow` in front of an anvil that mines
# transfers all along and reorgs, answers compared with it at the same head
# (tests/soak_live.py says what fails it).
.PHONY: soak-live
soak-live: $(JITEVM)
	@sh tests/soak-live.sh $(JITEVM) $(SOAK_SECONDS)

clean:
	rm -rf build build-asan build-fuzz

-include $(CORE_OBJ:.o=.d) $(SCHEMA_OBJ:.o=.d) $(SERVICE_OBJ:.o=.d) $(TESTLIB_OBJ:.o=.d)
-include $(FUZZ_CORE_OBJ:.o=.d) $(FUZZ_SERVICE_OBJ:.o=.d) build-fuzz/obj/tests/testlib_evm.d
