#!/usr/bin/env bash
# tests/e2e/train_resume.t.sh on the GPU: a tiny run trained on CUDA lowers
# its loss, and one killed with SIGKILL and rerun ends with exactly the
# weights and losses of an uninterrupted CUDA run (deterministic cuDNN
# algorithms, reductions in a fixed order, device state checkpointed and
# restored). Skips without a CUDA device.
set -u
. tests/gpu/have_cuda.sh
STRATA_TEST_DEVICE=cuda exec bash tests/e2e/train_resume.t.sh
