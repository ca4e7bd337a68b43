/* The four elementwise arithmetic operations of tensor arithmetic
 * (engine/ops/tensor_ops.h), shared by the ops and the CPU and CUDA kernels
 * (device-neutral). Each is one float operation, rounded once. */
#ifndef STRATA_KERNELS_ARITH_OP_H
#define STRATA_KERNELS_ARITH_OP_H

typedef enum { ST_ARITH_ADD = 0, ST_ARITH_SUB = 1, ST_ARITH_MUL = 2, ST_ARITH_DIV = 3 } st_arith_op;

#endif
