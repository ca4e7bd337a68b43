# strata: `make` builds bin/strata; `make test` runs every TAP test through prove.
# CPU backend always; CUDA backend (the plugin lib/libstrata_cuda.so) when nvcc
# is found (CUDA=0 forces it off).

CC      ?= gcc
PKGS    := hdf5 lua5.4 libpng zlib libjpeg openblas libcjson libcrypto snappy libprotobuf-c
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -D_GNU_SOURCE -fopenmp -fPIC -I. -Iengine $(shell pkg-config --cflags $(PKGS))
# What the caller put in LDLIBS (make asan, test-cuda-emu: the sanitizers).
LDLIBS_IN := $(LDLIBS)
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
LDLIBS  += $(PKG_LIBS) -fopenmp -lpthread -lm

# bin/strata links these libraries' static archives (their Debian -dev
# packages ship them; libsz/libaec are HDF5's). Every shared library costs
# each start its mapping and symbol relocations: ~6 ms for these (HDF5 alone
# maps ~25 more: curl, TLS, Kerberos, LDAP), 3% of a 712x474 `strata
# stylize` (bench/README.md). STATIC=0 links them shared, as the test
# programs always do.
STATIC  ?= 1
STATIC_PKGS := hdf5 lua5.4 libpng zlib libjpeg openblas libcrypto snappy libprotobuf-c
ifeq ($(STATIC),1)
BIN_LIBS := -Wl,-Bstatic $(shell pkg-config --libs $(STATIC_PKGS)) -lsz -laec -Wl,-Bdynamic \
            $(shell pkg-config --libs $(filter-out $(STATIC_PKGS),$(PKGS))) -lgfortran -lstdc++
else
BIN_LIBS := $(PKG_LIBS)
endif

# oneDNN convolutions on the CPU (kernels/cpu/dnnl_conv.c); without it, im2col + BLAS.
DNNL ?= $(if $(wildcard /usr/include/oneapi/dnnl/dnnl.h),1,0)
ifeq ($(DNNL),1)
CFLAGS  += -DSTRATA_DNNL
LDLIBS  += -ldnnl
endif

NVCC    ?= $(firstword $(shell command -v nvcc 2>/dev/null) $(wildcard /usr/local/cuda/bin/nvcc))
ifeq ($(NVCC),)
CUDA    ?= 0
else
CUDA    ?= 1
endif
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))

BUILD   ?= build
ENGINE_SRC  := $(filter-out engine/main.c engine/omp_env.c engine/gpu_cuda.c engine/gpu_none.c engine/gpu_plugin.c, \
                 $(wildcard engine/*.c engine/ops/*.c engine/io/*.c engine/lua/*.c))
KERNEL_SRC  := $(wildcard kernels/cpu/*.c)

# The CUDA backend is a plugin, lib/libstrata_cuda.so (engine/gpu_backend.h):
# engine/gpu_cuda.c, kernels/cuda (the .cu kernels and the C table that lists
# them, kernels/kernels.h) and what they link (cuDNN, cuBLAS, the CUDA
# runtime). bin/strata does not link them: engine/gpu_plugin.c dlopen()s the
# plugin the first time a CUDA device is asked for, from <bin>/../lib, so CPU
# runs start without mapping ~230 MB of CUDA libraries. The executables
# export to it the core functions it calls (engine/gpu_exports.list).
PLUGIN      :=
PLUGIN_SRC  := engine/gpu_cuda.c $(wildcard kernels/cuda/*.c)
PLUGIN_CU   := $(wildcard kernels/cuda/*.cu)

ifeq ($(CUDA),1)
PLUGIN      := lib/libstrata_cuda.so
CFLAGS      += -DSTRATA_CUDA -I$(CUDA_HOME)/include
PLUGIN_LIBS := -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudnn -lcublas -lcudart -lstdc++
NVCCFLAGS   ?= -O3 -std=c++17 -arch=sm_90 -Xcompiler -fPIC -Iengine -I.
else ifeq ($(CUDA),emu)
# The CUDA backend on the CPU emulator in tests/cuda_emu (make test-cuda-emu):
# the same kernels/cuda sources, compiled as C++ against stand-in CUDA,
# cuDNN and cuBLAS headers, in the same plugin (the emulator stands in for
# the CUDA libraries inside it). For testing only.
PLUGIN      := lib/libstrata_cuda.so
EMU_SRC     := $(wildcard tests/cuda_emu/*.cpp)
CFLAGS      += -DSTRATA_CUDA -DSTRATA_CUDA_EMU -DSTRATA_MEM_EXACT -Itests/cuda_emu/include
CXXFLAGS    ?= -O2 -g
CXXFLAGS_EMU = $(CXXFLAGS) -std=c++17 -Wall -Wextra -fPIC -fopenmp -DSTRATA_CUDA_EMU -I. -Iengine -Itests -Itests/cuda_emu/include \
               $(shell pkg-config --cflags openblas)
PLUGIN_LIBS := $(shell pkg-config --libs openblas) -fopenmp -lstdc++ -lm
EMU_TEST_BIN := $(patsubst %.cu,$(BUILD)/%,$(wildcard tests/cuda_emu/test_*.cu))
endif

ifneq ($(PLUGIN),)
ENGINE_SRC  += engine/gpu_plugin.c
PLUGIN_OBJ  := $(PLUGIN_SRC:%.c=$(BUILD)/%.o) $(PLUGIN_CU:%.cu=$(BUILD)/%.o) $(EMU_SRC:%.cpp=$(BUILD)/%.o)
EXPORTS     := -Wl,--dynamic-list=engine/gpu_exports.list
LDLIBS      += -ldl
else
ENGINE_SRC  += engine/gpu_none.c
endif

# Sources generated at build time: the ONNX protobuf encoder from engine/io/onnx.proto.
GEN     := $(BUILD)/gen
PROTOC_C ?= protoc-c
CFLAGS  += -I$(GEN)

OBJ := $(GEN)/engine/io/onnx.pb-c.o $(ENGINE_SRC:%.c=$(BUILD)/%.o) $(KERNEL_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libstrata.a

# C unit tests: tests/<kind>/test_*.c, each its own TAP program.
# TESTS picks the kinds (a glob: `make test TESTS=gpu`).
TESTS    ?= *
TEST_C   := $(wildcard tests/$(TESTS)/test_*.c)
TEST_BIN := $(TEST_C:%.c=$(BUILD)/%)
# Everything prove runs: C test programs, Lua tests (*.lua), shell tests (*.sh).
# tests/slurm starts Slurm daemons: its own target, test-slurm.
TEST_RUN  = $(TEST_BIN) $(EMU_TEST_BIN) $(filter-out tests/slurm/%,$(sort $(wildcard tests/$(TESTS)/*.t.lua tests/$(TESTS)/*.t.sh)))

.PHONY: all test test-slurm clean bench bench-gpu demo weights web-deps
all: bin/strata $(PLUGIN)

# lib/libstrata_omp_env.so sets libgomp's spin count before libgomp's own
# constructor reads it (engine/omp_env.c): it must stay last among
# bin/strata's needed libraries, found next to the binary.
OMP_ENV := lib/libstrata_omp_env.so
$(OMP_ENV): engine/omp_env.c
	@mkdir -p lib
	$(CC) -O2 -Wall -Wextra -fPIC -shared -o $@ $< $(LDLIBS_IN)

bin/strata: $(BUILD)/engine/main.o $(LIB) $(OMP_ENV)
	@mkdir -p bin
	$(CC) $(EXPORTS) -o $@ $(BUILD)/engine/main.o $(LIB) $(BIN_LIBS) $(filter-out $(PKG_LIBS),$(LDLIBS)) \
	  -lgomp -Llib -Wl,--no-as-needed -lstrata_omp_env -Wl,-rpath,'$$ORIGIN/../lib'

ifneq ($(PLUGIN),)
$(PLUGIN): $(PLUGIN_OBJ) kernels/cuda/plugin.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,--version-script=kernels/cuda/plugin.map -o $@ $(PLUGIN_OBJ) $(LDLIBS_IN) $(PLUGIN_LIBS)

# The test programs under $(BUILD) find the plugin where this build wrote it.
$(BUILD)/engine/gpu_plugin.o: CFLAGS += -DST_CUDA_PLUGIN_BUILT='"$(abspath $(PLUGIN))"'
endif

$(LIB): $(OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(GEN)/engine/io/onnx.pb-c.c $(GEN)/engine/io/onnx.pb-c.h &: engine/io/onnx.proto
	@mkdir -p $(GEN)
	$(PROTOC_C) --c_out=$(GEN) $<

$(GEN)/engine/io/onnx.pb-c.o: $(GEN)/engine/io/onnx.pb-c.c
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# The writer includes the generated header, which must exist before its first compile.
$(BUILD)/engine/io/onnx.o: $(GEN)/engine/io/onnx.pb-c.h

ifeq ($(CUDA),emu)
# Kernel launches `k<<<grid, block>>>(args)` become `st_emu_launch(k, grid, block)(args)`;
# #line keeps __FILE__ and compiler messages pointing at the .cu file.
$(BUILD)/%.o: %.cu
	@mkdir -p $(dir $@)
	{ echo '#line 1 "$<"'; sed -E 's/([A-Za-z_][A-Za-z0-9_]*)<<<(.*)>>>\(/st_emu_launch(\1, \2)(/' $<; } >$(BUILD)/$*.emu.cpp
	$(CXX) $(CXXFLAGS_EMU) -MMD -MP -MT $@ -MF $(BUILD)/$*.d -include cuda_runtime.h -c -o $@ $(BUILD)/$*.emu.cpp

$(BUILD)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_EMU) -MMD -MP -c -o $@ $<

$(BUILD)/tests/cuda_emu/%: $(BUILD)/tests/cuda_emu/%.o $(EMU_SRC:%.cpp=$(BUILD)/%.o) $(LIB)
	$(CXX) -o $@ $^ $(LDLIBS) $(PLUGIN_LIBS)
else
$(BUILD)/%.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -MMD -MP -c -o $@ $<
endif

$(BUILD)/tests/%: tests/%.c tests/tap.h tests/testutil.h $(LIB) | $(PLUGIN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests $(EXPORTS) -o $@ $< $(LIB) $(LDLIBS)

test: bin/strata $(PLUGIN) $(TEST_BIN) $(EMU_TEST_BIN)
	prove -j2 --exec tests/run-one $(TEST_RUN)

# A sweep through a one-node Slurm on localhost (Debian slurm-wlm, munge):
# tests/slurm starts munged, slurmctld and slurmd with a config of its own.
test-slurm: bin/strata
	prove --exec tests/run-one $(sort $(wildcard tests/slurm/*.t.sh))

bench: bin/strata
	bench/run.sh

# Training it/s on a GPU, strata vs PyTorch (says so and exits 0 without one).
bench-gpu: bin/strata
	bash bench/gpu_run.sh

# The main job on the embedded default: a short baseline and depth-aware
# training on sample photos, then the depth-map L2 evaluation (demo/run.sh).
demo: bin/strata
	bash demo/run.sh

# onnxruntime-web, pinned in web/package-lock.json, for `strata export web`;
# --ignore-scripts: the package needs no install step.
web-deps:
	npm ci --ignore-scripts --no-audit --no-fund --prefix web

# On a networked machine: download the published weights, verify, convert.
weights: bin/strata
	bash weights/fetch.sh

clean:
	rm -rf $(BUILD) bin lib

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

-include mk/*.mk
