# `make fuzz`: libFuzzer targets (fuzz/fuzz_*.c) built with clang, ASan and
# UBSan, each run for FUZZ_SECONDS from its seeds in fuzz/corpus/<target>/.
# Bounded: the default 20 s per target keeps the whole run to a few minutes
# after the build. Not part of CI (`make asan` is; every crash found is kept
# as a regression input in tests/bad_input/fuzz, which `make test` runs).
# Needs clang with its runtime libraries (Debian: clang-14,
# libclang-rt-14-dev, libomp-14-dev).
#
#   make fuzz                       every target, 20 s each
#   make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS=fuzz_image
#   make fuzz-build                 only build $(FUZZ_DIR)/fuzz_*
#
# New inputs go to $(FUZZ_DIR)/corpus/<target>/ (the seeds stay as they are);
# any crash leaves $(FUZZ_DIR)/crash-<target>-* and fails the run
# (fuzz/run.sh). Replay an input with `$(FUZZ_DIR)/<target> FILE`; add it to
# tests/bad_input/fuzz once fixed.

FUZZ_DIR     ?= build-fuzz
FUZZ_CC      ?= $(firstword $(shell command -v clang clang-14 2>/dev/null))
FUZZ_SECONDS ?= 20
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  ?= -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link -Wno-pass-failed
FUZZ_TARGETS ?= $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_PKGS    := hdf5 lua5.4 libpng libjpeg openblas libcjson libcrypto snappy libprotobuf-c
FUZZ_LIB      = $(abspath $(FUZZ_DIR))/obj/libstrata.a
FUZZ_ENV      = ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:exitcode=86 \
                LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp:print_suppressions=0 \
                UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 STRATA_HOME=$(CURDIR)

.PHONY: fuzz fuzz-build fuzz-lib
fuzz-lib:
	@if [ -z "$(FUZZ_CC)" ]; then echo "fuzz: clang not found (Debian: apt-get install clang-14 libclang-rt-14-dev libomp-14-dev)"; exit 1; fi
	@env CC=$(FUZZ_CC) CFLAGS='$(FUZZ_CFLAGS)' $(MAKE) --no-print-directory BUILD=$(abspath $(FUZZ_DIR))/obj CUDA=0 $(FUZZ_LIB)

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c $(wildcard fuzz/*.h) fuzz-lib
	$(FUZZ_CC) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer -std=c11 -D_GNU_SOURCE -fopenmp -I. -Iengine \
	  $(shell pkg-config --cflags $(FUZZ_PKGS)) -o $@ $< $(FUZZ_LIB) $(shell pkg-config --libs $(FUZZ_PKGS)) \
	  $(if $(filter 1,$(DNNL)),-ldnnl) -lpthread -lm

fuzz-build: $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))

fuzz: fuzz-build
	@status=0; for t in $(FUZZ_TARGETS); do \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_ENV) fuzz/run.sh $(FUZZ_DIR) $$t $(FUZZ_SECONDS) || status=1; \
	done; exit $$status
