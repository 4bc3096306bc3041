# certdock: the two set-up commands are `make demo` and `make test`; both install what they
# need (Debian packages, as root) first. Everything else here serves those two.

MAKEFLAGS  += --no-print-directory
JOBS       ?= $(shell nproc)
BUILD      ?= build
ASAN_BUILD ?= build-asan
CMAKE_ARGS ?=

.PHONY: all deps build build-asan demo test test-unit test-asan format format-check lint bench clean

all: build

deps:
	bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCERTDOCK_WERROR=ON $(CMAKE_ARGS)

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCERTDOCK_WERROR=ON \
	      -DCERTDOCK_SANITIZE=ON $(CMAKE_ARGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The main job end to end on the embedded default.
demo: build
	bash scripts/demo.sh $(BUILD)/apps/certdock/certdock

# The whole suite: formatting, a normal build, then the same tests under ASan + UBSan.
test: deps format-check
	$(MAKE) test-unit
	$(MAKE) test-asan

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# Figures next to the peers' (uacme, certbot, lego) against one Pebble, then hot update against
# HAProxy reloads under load, then the agent over 10,000 certificates; prints, never asserts.
bench: build
	CERTDOCK=$(BUILD)/apps/certdock/certdock bash bench/issue_bench.sh
	CERTDOCK=$(BUILD)/apps/certdock/certdock bash bench/hot_update_bench.sh
	CERTDOCK=$(BUILD)/apps/certdock/certdock BENCH_BIN=$(BUILD)/bench bash bench/agent_scale_bench.sh

SOURCES = $(shell git ls-files '*.cpp' '*.hpp' 2>/dev/null)

format:
	clang-format -i $(SOURCES)

format-check:
	@clang-format --dry-run --Werror $(SOURCES) && echo "format-check: $(words $(SOURCES)) files follow .clang-format"

lint: $(BUILD)/build.ninja
	clang-tidy -p $(BUILD) --quiet $(filter %.cpp,$(SOURCES))

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
