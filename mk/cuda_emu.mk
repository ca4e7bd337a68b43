# `make test-cuda-emu`: the GPU tests (tests/gpu) against the CUDA backend
# built for the CPU emulator in tests/cuda_emu, so every kernel in
# kernels/cuda, the cuDNN/cuBLAS plumbing and the device code paths of the
# engine and the Lua library run and are checked against the CPU reference on
# machines without a GPU. It verifies logic (indexing, reductions, barriers,
# descriptors, which pointer lives where), not speed or the real libraries:
# on a GPU, run the same tests with the real build (docs/gpu.md).
#
# Like `make asan`, it builds in its own tree ($(EMU_DIR)/root, see
# tools/link_tree.sh) so bin/strata there is the emulated one.

EMU_DIR ?= build-emu

.PHONY: test-cuda-emu
test-cuda-emu:
	@tools/link_tree.sh $(EMU_DIR) $(EMU_DIR) $(ASAN_DIR) $(FUZZ_DIR)
	@$(MAKE) -C $(EMU_DIR)/root BUILD=$(abspath $(EMU_DIR))/obj CUDA=emu TESTS=gpu test
