# `make asan`: the whole test suite against a build with AddressSanitizer,
# LeakSanitizer and UndefinedBehaviorSanitizer (CPU backend only).
#
# Tests call bin/strata by that name, so the suite runs in $(ASAN_DIR)/root: a
# tree of links to this checkout's files (sources, tests, lua/, ...) with its
# own bin/ (the sanitized strata) and results/, and ../shared beside it
# linked to ours. Objects go to $(ASAN_DIR)/obj. CFLAGS and LDLIBS reach the
# inner make through the environment, so the Makefile's own `+=` still apply.
# Suppressions (fuzz/lsan.supp) cover third-party libraries only.

ASAN_DIR     ?= build-asan
ASAN_CFLAGS  ?= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
ASAN_LDLIBS  ?= -fsanitize=address,undefined
# Reports go to $(ASAN_DIR)/logs (also from processes whose output a test
# swallows) and exit with status 86, never 1 (strata's own error status).
ASAN_LOGS     = $(abspath $(ASAN_DIR))/logs
ASAN_ENV      = ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:exitcode=86:log_path=$(ASAN_LOGS)/report \
                LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp:print_suppressions=0 \
                UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=86:log_path=$(ASAN_LOGS)/report
# Top-level entries not linked into the test tree: its own bin/ and results/,
# build folders and git's.
ASAN_SKIP     = bin results .git build $(ASAN_DIR) $(FUZZ_DIR)

.PHONY: asan asan-tree
asan-tree:
	@rm -rf $(ASAN_DIR)/root && mkdir -p $(ASAN_DIR)/root/bin $(ASAN_DIR)/root/results $(ASAN_DIR)/obj
	@for f in $$(ls -A); do \
	  case " $(ASAN_SKIP) " in *" $$f "*) continue ;; esac; \
	  case "$$f" in build*) continue ;; esac; \
	  ln -s "$(CURDIR)/$$f" "$(ASAN_DIR)/root/$$f"; \
	done
	@rm -f $(ASAN_DIR)/shared; if [ -d ../shared ]; then ln -s "$(abspath ../shared)" $(ASAN_DIR)/shared; fi

asan: asan-tree
	@rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS)
	@env CFLAGS='$(ASAN_CFLAGS)' LDLIBS='$(ASAN_LDLIBS)' $(ASAN_ENV) \
	  $(MAKE) -C $(ASAN_DIR)/root BUILD=$(abspath $(ASAN_DIR))/obj CUDA=0 test; status=$$?; \
	if [ -n "$$(ls -A $(ASAN_LOGS))" ]; then \
	  echo "asan: sanitizer reports ($(ASAN_LOGS)):"; cat $(ASAN_LOGS)/*; exit 1; fi; \
	[ $$status -eq 0 ] && echo "asan: the test suite is clean under ASan, LSan and UBSan"; exit $$status
