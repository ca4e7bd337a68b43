# `make asan`: the whole test suite against a build with AddressSanitizer,
# LeakSanitizer and UndefinedBehaviorSanitizer (CPU backend only), with the
# caching allocator in its exact-size, poison-when-cached mode (engine/memory.c).
#
# Tests call bin/strata by that name, so the suite runs in $(ASAN_DIR)/root, a
# tree of links to this checkout (tools/link_tree.sh) with its own bin/ (the
# sanitized strata). Objects go to $(ASAN_DIR)/obj. CFLAGS and LDLIBS reach the
# inner make through the environment, so the Makefile's own `+=` still apply.
# Suppressions (fuzz/lsan.supp) cover third-party libraries only.

ASAN_DIR     ?= build-asan
ASAN_CFLAGS  ?= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -DSTRATA_MEM_EXACT
ASAN_LDLIBS  ?= -fsanitize=address,undefined
# Reports go to $(ASAN_DIR)/logs (also from processes whose output a test
# swallows) and exit with status 86, never 1 (strata's own error status).
ASAN_LOGS     = $(abspath $(ASAN_DIR))/logs
ASAN_ENV      = ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:exitcode=86:log_path=$(ASAN_LOGS)/report \
                LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp:print_suppressions=0 \
                UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=86:log_path=$(ASAN_LOGS)/report
# Top-level entries not linked into the test tree (tools/link_tree.sh).
ASAN_SKIP     = $(ASAN_DIR) $(FUZZ_DIR)

.PHONY: asan asan-tree
asan-tree:
	@tools/link_tree.sh $(ASAN_DIR) $(ASAN_SKIP)

asan: asan-tree
	@rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS)
	@env CFLAGS='$(ASAN_CFLAGS)' LDLIBS='$(ASAN_LDLIBS)' $(ASAN_ENV) \
	  $(MAKE) -C $(ASAN_DIR)/root BUILD=$(abspath $(ASAN_DIR))/obj CUDA=0 test; status=$$?; \
	if [ -n "$$(ls -A $(ASAN_LOGS))" ]; then \
	  echo "asan: sanitizer reports ($(ASAN_LOGS)):"; cat $(ASAN_LOGS)/*; exit 1; fi; \
	[ $$status -eq 0 ] && echo "asan: the test suite is clean under ASan, LSan and UBSan"; exit $$status
