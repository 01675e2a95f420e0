# The two commands of the README:
#   make run    installs what is needed, fetches the default model, builds, completes a prompt
#   make test   the same set-up, then every test (unit, model goldens, sanitizers, a short fuzz run,
#               the server's fault tests under ASan/LSan)
BUILD ?= build
JOBS ?= $(shell nproc)
MODEL ?= models/SmolLM2-135M-Instruct.Q4_1.gguf
PROMPT ?= The three most important inventions of the twentieth century are
FUZZ_SECONDS ?= 60

.PHONY: run test deps models build build-asan build-fuzz unit-tests asan-tests fuzz clean

run: deps models build
	./$(BUILD)/apps/kestrel/kestrel run -m $(MODEL) -p "$(PROMPT)" -n 128

test: deps models build build-asan build-fuzz
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	ctest --test-dir $(BUILD)-asan --output-on-failure -j $(JOBS) -R '^(Gguf|Malformed)'
	bash scripts/run_fuzz.sh $(BUILD)-fuzz $(FUZZ_SECONDS)
	$(MAKE) cuda-test
	$(MAKE) neon-test
	$(MAKE) serve-asan-test

deps:
	bash scripts/install_deps.sh

models:
	bash scripts/fetch_models.sh

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

# AddressSanitizer + UBSan build of the parser tests (untrusted input).
build-asan:
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DKESTREL_SANITIZE=ON
	cmake --build $(BUILD)-asan -j $(JOBS) --target io_tests

# libFuzzer needs clang.
build-fuzz:
	CC=clang CXX=clang++ cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=Debug -DKESTREL_FUZZ=ON -DKESTREL_BUILD_TESTS=OFF
	cmake --build $(BUILD)-fuzz -j $(JOBS) --target fuzz_gguf

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz

# The CUDA backend in its own build directory: configure with -DKESTREL_CUDA=ON, build its tests and
# benchmarks (one GPU architecture), run its tests; they skip where no GPU is present. Needs the
# CUDA toolkit (nvcc on PATH or in /usr/local/cuda/bin).
CUDA_BUILD ?= build-cuda
.PHONY: cuda-test
cuda-test:
	@if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then \
	  export PATH="$$PATH:/usr/local/cuda/bin" && \
	  cmake -S . -B $(CUDA_BUILD) -DCMAKE_BUILD_TYPE=Release -DKESTREL_CUDA=ON && \
	  cmake --build $(CUDA_BUILD) -j $(JOBS) --target cuda_tests cuda_host_tests cuda_probe cuda_model_bench && \
	  ctest --test-dir $(CUDA_BUILD) --output-on-failure -j $(JOBS) -R Cuda; \
	else \
	  echo "cuda-test: no CUDA toolkit (nvcc) found: the CUDA backend was not built or tested"; \
	fi

# Arm: cross-built kernel tests under qemu-user (scripts/test_neon.sh).
.PHONY: neon-test
neon-test: deps
	JOBS=$(JOBS) bash scripts/test_neon.sh $(BUILD)-aarch64

# Benchmarks (BENCHMARKS.md): the side-by-side run against llama.cpp and the models it needs.
.PHONY: bench bench-models
BENCH_ARGS ?=
bench-models: models
	python3 bench/side_by_side.py --build-llama-only
	bash scripts/make_bench_models.sh

bench: deps build bench-models
	python3 bench/side_by_side.py --build $(BUILD) $(BENCH_ARGS)

# kestrel serve under AddressSanitizer + LeakSanitizer: the fault tests (disconnect, garbage,
# overload, SIGTERM under load) against an optimized sanitized build; a leak fails the exit code.
# Part of `make test` (about 11 minutes on 2 cores, most of it the sanitized build).
.PHONY: serve-asan-test
serve-asan-test:
	cmake -S . -B $(BUILD)-asan-serve -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKESTREL_SANITIZE=ON
	cmake --build $(BUILD)-asan-serve -j $(JOBS) --target kestrel
	ctest --test-dir $(BUILD)-asan-serve --output-on-failure -R '^ServerFaults$$'
