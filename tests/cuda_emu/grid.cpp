/* CUDA emulator: running a kernel's grid on the CPU.
 *
 * Blocks run one after another. Within a block every thread is a fiber (its
 * own stack; switches with GCC's __builtin_setjmp/__builtin_longjmp, which
 * unlike swapcontext make no system call and unlike longjmp are not
 * intercepted by ASan, whose handler makes one per jump), so a thread that
 * reaches __syncthreads or a warp shuffle waits there until the rest of its
 * block or warp arrives, as on a GPU.
 * Threads that never meet at a barrier they must all reach (a divergent
 * __syncthreads, a shuffle with a lane missing) stop the program with a
 * message instead of hanging.
 *
 * Speed: the first block to run always runs as fibers; when it used no
 * barrier or shuffle, the kernel's other blocks run their threads as plain
 * calls. A kernel whose later blocks then reach a barrier stops with a
 * message (none of ours do). */
#include <cuda_runtime.h>

#include <cstdlib>
#include <numeric>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include <string>
#include <vector>

/* Under AddressSanitizer every stack switch is announced, or ASan mistakes
 * the fiber stacks for overflows of the main one. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define SWITCH_START(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define SWITCH_FINISH(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define SWITCH_START(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define SWITCH_FINISH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;

extern "C" void st_emu_set_last_error(cudaError_t e);

namespace {

enum state { READY, WAIT_BLOCK, WAIT_WARP, DONE };

struct fiber {
  void *jb[5]; /* __builtin_setjmp's buffer */
  ucontext_t start;
  char *stack;
  state st;
  bool started;
  unsigned shuffles; /* how many shuffles this thread made: picks the exchange buffer */
  void *asan_fake_stack;
};

const size_t STACK_BYTES = 64 * 1024;

/* Fibers by thread index, made once and kept (never moved: a parked fiber's
 * context lives in it; never destroyed, so LSan sees them live at exit). */
std::vector<fiber *> &fibers = *new std::vector<fiber *>;
void *scheduler[5];
int cur = -1;          /* running fiber, -1 outside fiber mode */
int nthreads;
bool fiber_mode, used_sync;
int block_arrived, warp_arrived[32];
uint64_t exchange[32][2][32]; /* [warp][buffer][lane] */
const char *kernel_name;
void *sched_fake_stack;                 /* ASan bookkeeping of the scheduler's stack */
const void *main_bottom;
size_t main_size;
void (*body)(void *);
void *body_ctx;

/* A fiber stack with an inaccessible guard page below it, so an overflow
 * faults instead of overwriting a neighbour. Kept for the process's life. */
char *new_stack() {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  void *p = mmap(nullptr, STACK_BYTES + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED || mprotect(p, page, PROT_NONE) != 0) st_emu_fatal("cannot map a fiber stack");
  return (char *)p + page;
}

void set_thread(int t) {
  threadIdx.x = (unsigned)t % blockDim.x;
  threadIdx.y = (unsigned)t / blockDim.x % blockDim.y;
  threadIdx.z = (unsigned)t / (blockDim.x * blockDim.y);
}

void yield();

/* To the context saved in buf (never returns). Not inlined: GCC wants
 * __builtin_longjmp outside the function of the matching __builtin_setjmp.
 * Neither noreturn (declared or inferred: noipa) nor instrumented, or ASan
 * calls its handler for abandoned stacks (a system call) at every switch;
 * no stack is abandoned: each fiber is resumed where it left. */
__attribute__((noipa, no_sanitize_address)) void jump_to(void **buf) { __builtin_longjmp(buf, 1); }

/* A fiber's whole life: run one emulated thread, park, and when restarted
 * (st set to READY again by a later block) run the next. Creating a fiber
 * costs a system call (setcontext), so fibers are made once and reused. */
void fiber_entry() {
  SWITCH_FINISH(nullptr, &main_bottom, &main_size);
  for (;;) {
    body(body_ctx);
    fibers[cur]->st = DONE;
    yield();
  }
}

/* Back to the scheduler; returns when this fiber is resumed. */
void yield() {
  fiber *f = fibers[cur];
  if (__builtin_setjmp(f->jb) == 0) {
    SWITCH_START(&f->asan_fake_stack, main_bottom, main_size);
    jump_to(scheduler);
  }
  SWITCH_FINISH(f->asan_fake_stack, nullptr, nullptr);
}

/* Enters fiber t: starts it the first time, else continues it where it
 * yielded. Never returns; the fiber jumps back into resume(). */
__attribute__((noipa)) void enter(int t) {
  fiber *f = fibers[t];
  SWITCH_START(&sched_fake_stack, f->stack, STACK_BYTES);
  if (!f->started) {
    f->started = true;
    getcontext(&f->start);
    f->start.uc_stack.ss_sp = f->stack;
    f->start.uc_stack.ss_size = STACK_BYTES;
    f->start.uc_link = nullptr;
    makecontext(&f->start, fiber_entry, 0);
    setcontext(&f->start);
  }
  jump_to(f->jb);
}

/* Switches to fiber t; returns when it yields. */
void resume(int t) {
  if (__builtin_setjmp(scheduler) == 0) enter(t);
  SWITCH_FINISH(sched_fake_stack, nullptr, nullptr);
}

void run_block_fibers() {
  while ((int)fibers.size() < nthreads) {
    fiber *f = new fiber();
    f->stack = new_stack();
    fibers.push_back(f);
  }
  for (int t = 0; t < nthreads; t++) {
    fibers[t]->st = READY;
    fibers[t]->shuffles = 0;
  }
  block_arrived = 0;
  for (int &w : warp_arrived) w = 0;
  for (;;) {
    bool ran = false, all_done = true;
    for (int t = nthreads - 1; t >= 0; t--) { /* last thread first: see run_block_plain */
      if (fibers[t]->st != DONE) all_done = false;
      if (fibers[t]->st != READY) continue;
      ran = true;
      cur = t;
      set_thread(t);
      resume(t);
    }
    if (all_done) break;
    if (!ran) {
      int waiting = 0, done = 0;
      for (int t = 0; t < nthreads; t++) waiting += fibers[t]->st != DONE, done += fibers[t]->st == DONE;
      st_emu_fatal("kernel %s, block (%u,%u,%u): %d threads wait at a barrier or shuffle that %d finished threads "
                   "never reached (divergent __syncthreads or shuffle)",
                   kernel_name, blockIdx.x, blockIdx.y, blockIdx.z, waiting, done);
    }
  }
  cur = -1;
}

/* Threads run last first and blocks in a scrambled order (st_emu_run_grid):
 * a GPU promises no order, so a kernel whose result depends on one (a thread
 * reading what another writes without a barrier, a block reading another
 * block's output) should fail here rather than pass by luck. */
void run_block_plain() {
  for (int t = nthreads - 1; t >= 0; t--) {
    set_thread(t);
    body(body_ctx);
  }
}

void need_fiber(const char *what) {
  if (!fiber_mode)
    st_emu_fatal("kernel %s, block (%u,%u,%u) reached %s although the first block run reached none (the "
                 "emulator runs such blocks without fibers)",
                 kernel_name, blockIdx.x, blockIdx.y, blockIdx.z, what);
  used_sync = true;
}

bool bad_config(dim3 g, dim3 b) {
  const unsigned long long threads = (unsigned long long)b.x * b.y * b.z;
  return g.x == 0 || g.y == 0 || g.z == 0 || g.x > 2147483647u || g.y > 65535 || g.z > 65535 || threads == 0 ||
         threads > 1024 || b.x > 1024 || b.y > 1024 || b.z > 64;
}

}  // namespace

void __syncthreads(void) {
  need_fiber("__syncthreads");
  if (++block_arrived == nthreads) {
    block_arrived = 0;
    for (int t = 0; t < nthreads; t++)
      if (fibers[t]->st == WAIT_BLOCK) fibers[t]->st = READY;
    return;
  }
  fibers[cur]->st = WAIT_BLOCK;
  yield();
}

uint64_t st_emu_warp_exchange(uint64_t mine, int from_lane, unsigned mask) {
  need_fiber("a warp shuffle");
  const int warp = cur / 32, lane = cur % 32;
  const int width = nthreads - warp * 32 < 32 ? nthreads - warp * 32 : 32;
  const unsigned full = width == 32 ? 0xffffffffu : (1u << width) - 1u;
  if (mask != full)
    st_emu_fatal("kernel %s: shuffle with mask %#x in a warp of %d threads (expected %#x)", kernel_name, mask, width,
                 full);
  /* Two buffers, alternating: a lane can only write a buffer again after the
   * whole warp has passed the next exchange, i.e. after every read of it. */
  const int buf = (int)(fibers[cur]->shuffles++ & 1u);
  exchange[warp][buf][lane] = mine;
  if (++warp_arrived[warp] == width) {
    warp_arrived[warp] = 0;
    for (int t = warp * 32; t < warp * 32 + width; t++)
      if (fibers[t]->st == WAIT_WARP) fibers[t]->st = READY;
  } else {
    fibers[cur]->st = WAIT_WARP;
    yield();
  }
  return from_lane >= 0 && from_lane < width ? exchange[warp][buf][from_lane] : mine;
}

void st_emu_run_grid(const char *kernel, dim3 grid, dim3 block, void (*fn)(void *), void *ctx) {
  if (bad_config(grid, block)) {
    st_emu_set_last_error(cudaErrorInvalidConfiguration);
    return;
  }
  if (cur >= 0) st_emu_fatal("kernel %s launched from inside a kernel", kernel);
  st_emu_count("launches", 1);
  st_emu_count((std::string("launch.") + kernel).c_str(), 1);
  kernel_name = kernel;
  body = fn;
  body_ctx = ctx;
  gridDim = grid;
  blockDim = block;
  nthreads = (int)(block.x * block.y * block.z);
  bool plain = false;
  /* Block k runs (a * k + c) mod total: a permutation when gcd(a, total) = 1. */
  const uint64_t total = (uint64_t)grid.x * grid.y * grid.z;
  uint64_t a = 7919;
  while (std::gcd(a, total) != 1) a += 2;
  const uint64_t c = total / 3;
  for (uint64_t k = 0; k < total; k++) {
    const uint64_t b = (uint64_t)(((unsigned __int128)a * k + c) % total);
    blockIdx.x = (unsigned)(b % grid.x);
    blockIdx.y = (unsigned)(b / grid.x % grid.y);
    blockIdx.z = (unsigned)(b / ((uint64_t)grid.x * grid.y));
    fiber_mode = !plain;
    used_sync = false;
    if (plain)
      run_block_plain();
    else
      run_block_fibers();
    if (!used_sync) plain = true;
  }
  fiber_mode = false;
}
