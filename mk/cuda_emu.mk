# `make test-cuda-emu`: the GPU tests (tests/gpu) and the emulator's own test
# against the CUDA backend built for the CPU emulator in tests/cuda_emu, so
# every kernel in kernels/cuda, the cuDNN/cuBLAS plumbing and the device code
# paths of the engine and the Lua library run, checked against the CPU
# reference, on machines without a GPU. The build is sanitized like
# `make asan` (exact-size allocations, so a kernel reading or writing past a
# tensor is an ASan report; use-after-return checks are off: they would map
# a fake stack for every emulated thread). It verifies logic (indexing, reductions,
# barriers, descriptors, which pointer lives where), not speed or the real
# libraries: on a GPU, run the same tests with the real build (docs/gpu.md).
#
# Like `make asan`, it builds in its own tree ($(EMU_DIR)/root, see
# tools/link_tree.sh) so that bin/strata there is the emulated one.

EMU_DIR  ?= build-emu
EMU_LOGS  = $(abspath $(EMU_DIR))/logs

.PHONY: test-cuda-emu
test-cuda-emu:
	@tools/link_tree.sh $(EMU_DIR) $(EMU_DIR) $(ASAN_DIR) $(FUZZ_DIR)
	@rm -rf $(EMU_LOGS) && mkdir -p $(EMU_LOGS)
	@env CFLAGS='$(ASAN_CFLAGS)' CXXFLAGS='$(ASAN_CFLAGS)' LDLIBS='$(ASAN_LDLIBS)' $(subst detect_stack_use_after_return=1,detect_stack_use_after_return=0,$(subst $(ASAN_LOGS),$(EMU_LOGS),$(ASAN_ENV))) \
	  $(MAKE) -C $(EMU_DIR)/root BUILD=$(abspath $(EMU_DIR))/obj CUDA=emu TESTS=gpu test; status=$$?; \
	if [ -n "$$(ls -A $(EMU_LOGS))" ]; then \
	  echo "test-cuda-emu: sanitizer reports ($(EMU_LOGS)):"; cat $(EMU_LOGS)/*; exit 1; fi; \
	[ $$status -eq 0 ] && echo "test-cuda-emu: the GPU tests pass on the emulator, clean under ASan, LSan and UBSan"; \
	exit $$status
