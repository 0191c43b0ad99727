#pragma once
// Inlining hints for the per-task path of a run: the cheap checks every task makes stay in
// the executor's loop, and the rarely taken work behind them (observers, failures) stays out
// of it, so the loop fits the compiler's inlining budget.

#if defined(__GNUC__) || defined(__clang__)
#define TASKMAP_DETAIL_NOINLINE __attribute__((noinline))
#define TASKMAP_DETAIL_ALWAYS_INLINE __attribute__((always_inline)) inline
#elif defined(_MSC_VER)
#define TASKMAP_DETAIL_NOINLINE __declspec(noinline)
#define TASKMAP_DETAIL_ALWAYS_INLINE __forceinline
#else
#define TASKMAP_DETAIL_NOINLINE
#define TASKMAP_DETAIL_ALWAYS_INLINE inline
#endif
