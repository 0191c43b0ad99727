#pragma once
/// @file mpi.hpp
/// MpiExecutor: one graph run by every rank of an MPI job. Optional: link the CMake target
/// taskmap::mpi (which finds MPI); not included by taskmap.hpp.

#include <algorithm>
#include <cstddef>
#include <thread>

#include <mpi.h>

#include "taskmap/codec.hpp"
#include "taskmap/detail/mpi_run.hpp"
#include "taskmap/detail/mpi_transport.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/executor.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/run_summary.hpp"

namespace taskmap {

/// Starts MPI for taskmap and ends it: MPI_Init_thread asking for MPI_THREAD_FUNNELED (an
/// MpiExecutor runs tasks on threads beside the one that talks MPI), MPI_Finalize in the
/// destructor. When MPI is already initialised it does neither.
class MpiSession {
 public:
  /// Throws: Error when MPI cannot give MPI_THREAD_FUNNELED.
  MpiSession(int& argc, char**& argv) {
    int initialised = 0;
    detail::mpi_check(MPI_Initialized(&initialised), "MPI_Initialized");
    if (initialised != 0) return;
    int provided = MPI_THREAD_SINGLE;
    detail::mpi_check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided),
                      "MPI_Init_thread");
    owner_ = true;
    if (provided < MPI_THREAD_FUNNELED) {
      MPI_Finalize();
      owner_ = false;
      throw Error("taskmap: this MPI library cannot give MPI_THREAD_FUNNELED");
    }
  }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  ~MpiSession() {
    if (owner_) MPI_Finalize();
  }

  /// This process's rank in MPI_COMM_WORLD.
  [[nodiscard]] static int rank() {
    int rank = 0;
    detail::mpi_check(MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
    return rank;
  }

  /// The number of ranks in MPI_COMM_WORLD.
  [[nodiscard]] static int ranks() {
    int size = 1;
    detail::mpi_check(MPI_Comm_size(MPI_COMM_WORLD, &size), "MPI_Comm_size");
    return size;
  }

 private:
  bool owner_ = false;
};

/// Which ranks keep the tasks' values after a run.
enum class MpiResults {
  everywhere,  ///< every rank's graph holds every value rank 0's does (the default)
  root_only,   ///< only rank 0's graph holds values; the others hold statuses and errors
};

/// Runs a graph on every rank of an MPI communicator (SPMD): every rank builds the same graph
/// from the same code and calls run() with it. Rank 0 schedules: it sends each ready task to
/// a rank with a free task thread (itself included), preferring the rank that holds most of
/// the task's inputs; io_bound and priority order, concurrency groups, trigger rules,
/// fail_fast, stop requests, observers and the store are handled on rank 0 as on any
/// executor. Values cross between ranks as Codec<T> bytes, each at most once per rank. After
/// the run every rank's graph holds the same statuses, errors and (by default) values, and
/// run() returns the same summary on every rank; with raise_errors every rank throws the same
/// TaskError. A task that threw on another rank is a RemoteTaskError there (its type name and
/// what()); the rank it threw on keeps the exception itself.
/// MPI must be initialised with at least MPI_THREAD_FUNNELED (MpiSession does it), and run()
/// called from the thread that initialised it, by every rank of the communicator, one run at a
/// time. Tasks that call MPI themselves need MPI_THREAD_MULTIPLE and a communicator of their
/// own (the executor works on a duplicate of `comm`).
class MpiExecutor {
 public:
  /// An executor over `comm` (collective: every rank constructs it), running up to
  /// `threads_per_rank` tasks at once on each rank (0 = the hardware concurrency); rank 0's
  /// count applies on every rank.
  /// Throws: Error when MPI is not initialised with MPI_THREAD_FUNNELED or more.
  explicit MpiExecutor(MPI_Comm comm = MPI_COMM_WORLD, std::size_t threads_per_rank = 1) {
    int initialised = 0;
    detail::mpi_check(MPI_Initialized(&initialised), "MPI_Initialized");
    if (initialised == 0) {
      throw Error(
          "taskmap: MpiExecutor needs MPI initialised (taskmap::MpiSession, or "
          "MPI_Init_thread with MPI_THREAD_FUNNELED)");
    }
    int provided = MPI_THREAD_SINGLE;
    detail::mpi_check(MPI_Query_thread(&provided), "MPI_Query_thread");
    if (provided < MPI_THREAD_FUNNELED) {
      throw Error(
          "taskmap: MpiExecutor runs tasks on threads beside the one that talks MPI, "
          "so MPI must be initialised with MPI_Init_thread and MPI_THREAD_FUNNELED or "
          "more (taskmap::MpiSession does it), not MPI_Init");
    }
    detail::mpi_check(MPI_Comm_dup(comm, &settings_.comm), "MPI_Comm_dup");
    detail::mpi_check(MPI_Comm_rank(settings_.comm, &settings_.rank), "MPI_Comm_rank");
    detail::mpi_check(MPI_Comm_size(settings_.comm, &settings_.ranks), "MPI_Comm_size");
    const unsigned cores = std::thread::hardware_concurrency();
    // Rank 0 schedules for every rank with its own count: every rank takes it.
    unsigned long long threads = std::clamp<std::size_t>(
        threads_per_rank != 0 ? threads_per_rank : (cores != 0 ? cores : 1), 1, 1024);
    detail::mpi_check(MPI_Bcast(&threads, 1, MPI_UNSIGNED_LONG_LONG, 0, settings_.comm),
                      "MPI_Bcast");
    settings_.threads = static_cast<std::size_t>(threads);
  }
  MpiExecutor(const MpiExecutor&) = delete;
  MpiExecutor& operator=(const MpiExecutor&) = delete;
  ~MpiExecutor() {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (finalised == 0) MPI_Comm_free(&settings_.comm);
  }

  /// Runs every pending (or cancelled) task of `graph` whose ancestors have not failed, on
  /// every rank (collective). The graph's value type needs a Codec (docs/codecs.md).
  /// `options` count on rank 0 (its observers, store, stop_token, fail_fast); the other ranks
  /// use only raise_errors and hand their stop_token to their tasks' Context.
  /// Throws, on every rank: Error when the ranks' graphs differ or one is running; TaskError
  /// with raise_errors. On rank 0 only: the first exception an observer threw, the store's.
  template <class T>
  RunSummary run(TaskGraph<T>& graph, const RunOptions& options = {}) {
    static_assert(Encodable<T>,
                  "taskmap: MpiExecutor moves values between ranks as bytes, so the graph's "
                  "value type needs a taskmap::Codec<T> (docs/codecs.md)");
    if constexpr (Encodable<T>) {
      if (settings_.rank == 0) return detail::MpiRoot<T>(graph, options, settings_).go();
      return detail::MpiServer<T>(graph, options, settings_).go();
    } else {
      return {};
    }
  }

  /// This process's rank in the executor's communicator; 0 schedules.
  [[nodiscard]] int rank() const noexcept { return settings_.rank; }
  /// The number of ranks.
  [[nodiscard]] int ranks() const noexcept { return settings_.ranks; }
  /// Task threads per rank.
  [[nodiscard]] std::size_t threads_per_rank() const noexcept { return settings_.threads; }
  /// How many tasks run at once at most: ranks() × threads_per_rank().
  [[nodiscard]] std::size_t max_workers() const noexcept {
    return static_cast<std::size_t>(settings_.ranks) * settings_.threads;
  }

  /// Chooses which ranks keep values after a run; rank 0's choice applies.
  void set_results(MpiResults results) noexcept {
    settings_.results_everywhere = results == MpiResults::everywhere;
  }
  /// Which ranks keep values after a run.
  [[nodiscard]] MpiResults results() const noexcept {
    return settings_.results_everywhere ? MpiResults::everywhere : MpiResults::root_only;
  }

 private:
  detail::MpiRunSettings settings_;
};

static_assert(Executor<MpiExecutor>);

}  // namespace taskmap
