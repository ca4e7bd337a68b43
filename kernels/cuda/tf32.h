/* TF32 tensor-core math for the CUDA kernels, switchable at run time (C
 * callable: engine/gpu_cuda.c forwards st_gpu_set_tf32 here). */
#ifndef STRATA_KERNELS_CUDA_TF32_H
#define STRATA_KERNELS_CUDA_TF32_H

#ifdef __cplusplus
extern "C" {
#endif

/* Allows (on != 0) or forbids TF32 for cuDNN convolutions and cuBLAS GEMMs
 * from now on: updates the cuBLAS handles and makes every convolution choose
 * its algorithm again. Returns 0, or -1 with an error. */
int st_cuda_set_tf32(int on);

#ifdef __cplusplus
}
#endif

#endif
