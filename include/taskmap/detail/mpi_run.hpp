#pragma once
// One run of a graph on the ranks of an MpiExecutor. Every rank calls run() with the same
// graph (SPMD). They first agree that the graphs match and learn which values each rank
// holds. Rank 0 then schedules with ExecutorRun<T, Threads::one>: it sends each started task
// to a rank with a free task thread (itself included), with the inputs that rank lacks as
// Codec bytes, and ends the task with the reply. The other ranks serve requests until rank 0
// says the run is over. Last, rank 0 broadcasts the final state (statuses, values, errors,
// the summary), so every rank's graph ends the same.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <mpi.h>

#include "taskmap/codec.hpp"
#include "taskmap/detail/crash_notes.hpp"
#include "taskmap/detail/describe_exception.hpp"
#include "taskmap/detail/graph_state.hpp"
#include "taskmap/detail/mpi_transport.hpp"
#include "taskmap/detail/rank_threads.hpp"
#include "taskmap/detail/run_state.hpp"
#include "taskmap/detail/task_id.hpp"
#include "taskmap/detail/task_messages.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/executor.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/run_summary.hpp"

namespace taskmap::detail {

/// What an MpiExecutor hands each run.
struct MpiRunSettings {
  MPI_Comm comm = MPI_COMM_NULL;  // the executor's own duplicate of the user's communicator
  int rank = 0;
  int ranks = 1;
  std::size_t threads = 1;         // task threads per rank
  bool results_everywhere = true;  // false: only rank 0 keeps values after the run
};

/// How long a rank's MPI thread waits for something to do: it polls without sleeping for a
/// while after the last message (a reply usually follows soon), then sleeps in short waits
/// that a task ending on its own rank cuts short.
class IdleWait {
 public:
  void reset() noexcept { idle_rounds_ = 0; }
  std::chrono::microseconds next() noexcept {
    ++idle_rounds_;
    if (idle_rounds_ < kSpinRounds) return std::chrono::microseconds(0);
    const auto steps = static_cast<long>(idle_rounds_ - kSpinRounds + 1);
    return std::chrono::microseconds(std::min(10L * steps, 500L));
  }

 private:
  static constexpr std::size_t kSpinRounds = 2000;
  std::size_t idle_rounds_ = 0;
};

/// A fingerprint of the graph's shape (names and dependencies), to tell that every rank
/// built the same graph.
template <class T>
std::uint64_t graph_fingerprint(const GraphState<T>& g) noexcept {
  std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a
  const auto mix = [&](const void* data, std::size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 1099511628211ULL;
  };
  for (const std::string& name : g.names) mix(name.data(), name.size() + 1);
  mix(g.deps.data(), g.deps.size() * sizeof(g.deps[0]));
  mix(g.dep_offsets.data(), g.dep_offsets.size() * sizeof(g.dep_offsets[0]));
  return hash;
}

/// The first step of a run, on every rank (collective): checks that the ranks hold the same
/// graph and that none is running it, and gathers on rank 0 which done tasks' values each
/// rank holds (`held`, per rank then task; empty elsewhere). Throws: Error, on every rank,
/// naming the first rank whose graph differs or is running.
template <class T>
void mpi_agree_on_graph(const GraphState<T>& g, const MpiRunSettings& s,
                        std::vector<std::vector<std::uint8_t>>& held) {
  struct Shape {
    std::uint64_t fingerprint;
    std::uint64_t size;
    std::uint64_t running;
  };
  const Shape mine{graph_fingerprint(g), g.size(), g.running.is_set() ? 1U : 0U};
  std::vector<Shape> shapes(s.rank == 0 ? static_cast<std::size_t>(s.ranks) : 0);
  mpi_check(
      MPI_Gather(&mine, sizeof(Shape), MPI_BYTE, shapes.data(), sizeof(Shape), MPI_BYTE, 0, s.comm),
      "MPI_Gather");
  std::string verdict;  // empty: the ranks agree
  if (s.rank == 0) {
    for (int r = 0; r < s.ranks && verdict.empty(); ++r) {
      const Shape& shape = shapes[static_cast<std::size_t>(r)];
      if (shape.running != 0) {
        verdict = "graph '" + g.name + "' is already being run on MPI rank " + std::to_string(r);
      } else if (shape.size != mine.size || shape.fingerprint != mine.fingerprint) {
        verdict = "MpiExecutor: MPI rank " + std::to_string(r) + " built graph '" + g.name +
                  "' with other tasks or dependencies than rank 0 (" + std::to_string(shape.size) +
                  " tasks there, " + std::to_string(mine.size) +
                  " here): every rank must build the same graph";
      }
    }
  }
  mpi_broadcast(s.comm, 0, verdict);
  if (!verdict.empty()) throw Error(verdict);
  std::vector<std::uint8_t> mine_held(g.size());
  for (TaskId task = 0; task < g.size(); ++task) {
    mine_held[task] = g.status[task] == TaskStatus::done && g.results[task].has_value();
  }
  std::vector<std::uint8_t> all(s.rank == 0 ? g.size() * static_cast<std::size_t>(s.ranks) : 0);
  // One gather per run; a graph of more than 2^31 tasks cannot be built (TaskId is 32 bits).
  const int count = static_cast<int>(g.size());
  mpi_check(MPI_Gather(mine_held.data(), count, MPI_BYTE, all.data(), count, MPI_BYTE, 0, s.comm),
            "MPI_Gather");
  if (s.rank != 0) return;
  held.assign(static_cast<std::size_t>(s.ranks), {});
  for (int r = 0; r < s.ranks; ++r) {
    const auto at =
        all.begin() + static_cast<std::ptrdiff_t>(g.size() * static_cast<std::size_t>(r));
    held[static_cast<std::size_t>(r)].assign(at, at + static_cast<std::ptrdiff_t>(g.size()));
  }
}

/// How one task's error crosses in the final state.
enum class StateError : std::uint8_t { none = 0, ancestor = 1, remote = 2, skipped = 3 };

/// The final state rank 0 broadcasts: [u8 outcome] then, for outcome 0 (the run ran), the
/// summary, the task raise_errors raised for (or no_task), and per task [u8 status][u8 has
/// value][value bytes][error]; for outcome 1 (rank 0 could not run it), the message.
struct FinalState {
  static constexpr std::uint8_t kRan = 0;
  static constexpr std::uint8_t kNotRun = 1;
};

/// Rank 0's side of a run.
template <class T>
class MpiRoot {
 public:
  MpiRoot(TaskGraph<T>& graph, const RunOptions& options, const MpiRunSettings& settings)
      : graph_(graph),
        g_(GraphAccess::state(graph)),
        options_(options),
        s_(settings),
        outbox_(settings.comm) {}

  RunSummary go() {
    mpi_agree_on_graph(g_, s_, known_);
    std::optional<ExecutorRun<T, Threads::one>> run;
    try {
      run.emplace(graph_, options_, slots(), slots());
    } catch (...) {
      // Rank 0 cannot run the graph (a store that cannot open): every rank says why.
      std::string state;
      put_u8(state, FinalState::kNotRun);
      state += describe_current_exception();
      end_everywhere(state);
      throw;
    }
    std::exception_ptr finish_error;
    RunSummary summary;
    try {
      schedule(*run);
      try {
        summary = run->finish();
      } catch (...) {
        finish_error = std::current_exception();
      }
    } catch (const std::exception& e) {
      abort_job(e.what());
    } catch (...) {
      abort_job("an exception of unknown type");
    }
    std::string state = final_state(summary, finish_error);
    end_everywhere(state);
    if (finish_error) std::rethrow_exception(finish_error);
    return summary;
  }

 private:
  [[nodiscard]] std::size_t slots() const noexcept {
    return static_cast<std::size_t>(s_.ranks) * s_.threads;
  }

  void schedule(ExecutorRun<T, Threads::one>& run) {
    run_ = &run;
    ReadyQueue ready = run.first_ready_queue();
    ready_ = &ready;
    bytes_.assign(g_.size(), std::string());
    ran_on_.assign(g_.size(), -1);
    worker_of_.assign(g_.size(), 0);
    free_.assign(static_cast<std::size_t>(s_.ranks), {});
    for (int r = 0; r < s_.ranks; ++r) {
      for (std::size_t t = s_.threads; t-- > 0;) {
        free_[static_cast<std::size_t>(r)].push_back(static_cast<std::size_t>(r) * s_.threads + t);
      }
    }
    free_count_ = slots();
    InFlightNotes notes(slots(), g_.name);
    notes_ = &notes;
    RankThreads<T> local(g_, options_, 0, s_.threads);
    std::vector<typename RankThreads<T>::Ended> ended;
    IdleWait idle;
    std::string message;
    bool stop_relayed = false;
    for (;;) {
      dispatch(local);
      if (run.finished()) break;
      if (!stop_relayed && options_.stop_token.stop_requested()) {
        // The tasks running on the other ranks see the stop too (their own rank's threads
        // see rank 0's token itself).
        for (int r = 1; r < s_.ranks; ++r) outbox_.send(std::string(), r, kMpiStop, "a stop");
        stop_relayed = true;
      }
      bool activity = outbox_.progress();
      int from = 0;
      int tag = 0;
      while (mpi_try_receive(s_.comm, MPI_ANY_SOURCE, kMpiReply, message, from, tag)) {
        take_reply(from, message);
        activity = true;
      }
      if (activity) idle.reset();
      const std::chrono::microseconds wait = activity ? std::chrono::microseconds(0) : idle.next();
      local.take_ended(ended, wait);
      for (auto& end : ended) finish_local(end.task, std::move(end.error));
      if (!ended.empty()) idle.reset();
      if (!activity && ended.empty() && wait.count() == 0) std::this_thread::yield();
    }
  }

  // Starts ready tasks while a task thread is free on some rank.
  void dispatch(RankThreads<T>& local) {
    while (free_count_ != 0 && !ready_->empty()) {
      const TaskId task = ready_->pop();
      const int rank = pick_rank(task);
      std::vector<std::size_t>& ids = free_[static_cast<std::size_t>(rank)];
      const std::size_t worker = ids.back();
      if (!run_->start(task, worker)) continue;
      if (run_->up_to_date(task)) {  // its value came from the store's record, here
        run_->end(task, worker, nullptr, *ready_);
        continue;
      }
      ids.pop_back();
      --free_count_;
      worker_of_[task] = worker;
      ran_on_[task] = rank;
      notes_->started(worker, g_.names[task], rank);
      if (rank == 0) {
        std::vector<const T*> inputs;
        if (g_.has_rule(task)) {
          gather_inputs_after_rule(g_, task, inputs);
        } else {
          gather_inputs(g_, task, inputs);
        }
        local.post(task, std::move(inputs), worker);
        continue;
      }
      if (std::exception_ptr error = send_request(task, rank, worker)) {
        finish_task(task, std::move(error));
      }
    }
  }

  // Sends `task` with the inputs `rank` lacks; what went wrong when it cannot be sent (a
  // codec that throws, a request too big for one message), and then `rank` holds nothing new.
  std::exception_ptr send_request(TaskId task, int rank, std::size_t worker) {
    std::vector<std::uint8_t>& known = known_[static_cast<std::size_t>(rank)];
    std::vector<std::pair<TaskId, std::uint8_t>> known_before;
    for (const TaskId dep : g_.deps_of(task)) known_before.emplace_back(dep, known[dep]);
    try {
      std::string request;
      put_u32(request, static_cast<std::uint32_t>(worker));  // the envelope: [u32 worker id]
      std::string frame;
      write_request(
          g_, task, known, [&](TaskId dep) -> const std::string& { return bytes_of(dep); }, frame);
      request += frame;
      outbox_.send(std::move(request), rank, kMpiRequest,
                   "task '" + g_.names[task] + "' with its inputs");
      return nullptr;
    } catch (...) {
      for (const auto& [dep, bit] : known_before) known[dep] = bit;
      return std::current_exception();
    }
  }

  // The rank with a free task thread that holds most of the task's inputs; among equals the
  // one with most free threads, a rank other than 0 (whose MPI thread schedules) first.
  int pick_rank(TaskId task) const {
    int best = -1;
    std::size_t best_known = 0;
    for (int r = 0; r < s_.ranks; ++r) {
      const std::size_t free = free_[static_cast<std::size_t>(r)].size();
      if (free == 0) continue;
      std::size_t known = 0;
      for (const TaskId dep : g_.deps_of(task)) {
        known += r == 0 || known_[static_cast<std::size_t>(r)][dep] != 0;
      }
      if (best < 0) {
        best = r;
        best_known = known;
        continue;
      }
      const std::size_t best_free = free_[static_cast<std::size_t>(best)].size();
      const bool better = known != best_known ? known > best_known
                          : free != best_free ? free > best_free
                                              : best == 0;
      if (better) {
        best = r;
        best_known = known;
      }
    }
    return best;
  }

  // A reply from rank `from`: the task's value (kept as bytes too) or what it threw there.
  void take_reply(int from, std::string_view message) {
    const Reply reply = Reply::read(message.substr(std::min<std::size_t>(8, message.size())));
    if (reply.bad || reply.task >= g_.size() || ran_on_[reply.task] != from ||
        g_.status[reply.task] != TaskStatus::running) {
      throw Error("MpiExecutor: MPI rank " + std::to_string(from) + " sent a malformed reply");
    }
    const TaskId task = reply.task;
    std::exception_ptr error;
    if (reply.kind == ReplyKind::error) {
      error = std::make_exception_ptr(RemoteTaskError(g_.names[task], std::string(reply.type),
                                                      std::string(reply.bytes), where(from)));
      // The error may be an input that rank could not decode: it is sent again when needed.
      for (const TaskId dep : g_.deps_of(task)) known_[static_cast<std::size_t>(from)][dep] = 0;
    } else if (reply.kind == ReplyKind::cancelled) {
      error = std::make_exception_ptr(ContinuationCancelled{});  // run_->end cancels the task
    } else if (reply.kind == ReplyKind::value) {
      try {
        g_.results[task].emplace(decode_or_throw<T>(reply.bytes));
        bytes_[task].assign(reply.bytes);
        known_[static_cast<std::size_t>(from)][task] = 1;
      } catch (...) {
        error = std::current_exception();
      }
    } else {
      g_.results[task].reset();
    }
    finish_task(task, std::move(error));
  }

  // A task that ended on rank 0's own threads. Its value is encoded now, as on every other
  // rank: a value that cannot become bytes fails its task wherever it ran.
  void finish_local(TaskId task, std::exception_ptr error) {
    if (!error && g_.results[task].has_value()) {
      try {
        static_cast<void>(bytes_of(task));
      } catch (...) {
        error = std::current_exception();
        g_.results[task].reset();
      }
    }
    finish_task(task, std::move(error));
  }

  void finish_task(TaskId task, std::exception_ptr error) {
    const std::size_t worker = worker_of_[task];
    notes_->ended(worker);
    free_[static_cast<std::size_t>(ran_on_[task])].push_back(worker);
    ++free_count_;
    run_->end(task, worker, std::move(error), *ready_);
  }

  // A done task's value as Codec bytes: what its rank sent, or encoded here once.
  const std::string& bytes_of(TaskId task) {
    std::string& bytes = bytes_[task];
    if (bytes.empty()) bytes = encode(*g_.results[task]);
    return bytes;
  }

  static std::string where(int rank) { return "on MPI rank " + std::to_string(rank); }

  std::string final_state(const RunSummary& summary, const std::exception_ptr& finish_error) {
    std::string state;
    put_u8(state, FinalState::kRan);
    for (const std::size_t count : {summary.succeeded, summary.failed, summary.skipped,
                                    summary.cancelled, summary.up_to_date}) {
      put_u64(state, count);
    }
    put_u64(state, static_cast<std::uint64_t>(summary.elapsed.count()));
    TaskId raised = no_task;
    if (finish_error) {
      try {
        std::rethrow_exception(finish_error);
      } catch (const TaskError& e) {
        raised = g_.index.find(e.task(), g_.names);
      } catch (...) {
      }
    }
    put_u32(state, raised);
    for (TaskId task = 0; task < g_.size(); ++task) {
      put_u8(state, static_cast<std::uint8_t>(g_.status[task]));
      // A value set outside a run (mark_as_done) whose codec refuses it stays here only.
      const std::string* bytes = nullptr;
      if (s_.results_everywhere && g_.results[task].has_value()) {
        try {
          bytes = bytes_.empty() ? &encode_kept(task) : &bytes_of(task);
        } catch (...) {
          bytes = nullptr;
        }
      }
      put_u8(state, bytes != nullptr ? 1 : 0);
      if (bytes != nullptr) {
        put_u64(state, bytes->size());
        state += *bytes;
      }
      put_error(state, task);
    }
    return state;
  }

  // bytes_of before schedule() sized the cache (the run did not start).
  const std::string& encode_kept(TaskId task) {
    bytes_.assign(g_.size(), std::string());
    return bytes_of(task);
  }

  void put_error(std::string& state, TaskId task) {
    const std::exception_ptr& error = g_.errors[task];
    const TaskStatus status = g_.status[task];
    if (!error || (status != TaskStatus::failed && status != TaskStatus::skipped)) {
      put_u8(state, static_cast<std::uint8_t>(StateError::none));
      return;
    }
    try {
      std::rethrow_exception(error);
    } catch (const AncestorFailed& e) {
      put_u8(state, static_cast<std::uint8_t>(StateError::ancestor));
      put_u64(state, e.ancestor().size());
      state += e.ancestor();
      return;
    } catch (...) {
    }
    const ErrorText text = ErrorText::of(error);
    if (status == TaskStatus::skipped) {  // it never ran (a trigger rule that cannot be met)
      put_u8(state, static_cast<std::uint8_t>(StateError::skipped));
      put_u64(state, text.what.size());
      state += text.what;
      return;
    }
    put_u8(state, static_cast<std::uint8_t>(StateError::remote));
    put_u32(state, static_cast<std::uint32_t>(ran_on_.empty() ? -1 : ran_on_[task]));
    put_u64(state, text.type.size());
    state += text.type;
    put_u64(state, text.what.size());
    state += text.what;
  }

  // Tells every rank the run is over, then broadcasts the final state.
  void end_everywhere(std::string& state) {
    for (int r = 1; r < s_.ranks; ++r)
      outbox_.send(std::string(), r, kMpiEnd, "the end of the run");
    mpi_broadcast(s_.comm, 0, state);
    outbox_.wait_all();
  }

  // Rank 0 cannot go on (out of memory, a broken message): the other ranks wait for it, so
  // the job ends rather than hang.
  [[noreturn]] void abort_job(const char* what) noexcept {
    std::fprintf(stderr, "taskmap: MpiExecutor: rank 0 cannot go on running graph '%s': %s\n",
                 g_.name.c_str(), what);
    std::fflush(stderr);
    MPI_Abort(s_.comm, 1);
    std::abort();
  }

  TaskGraph<T>& graph_;
  GraphState<T>& g_;
  const RunOptions& options_;
  const MpiRunSettings& s_;
  MpiOutbox outbox_;
  ExecutorRun<T, Threads::one>* run_ = nullptr;
  InFlightNotes* notes_ = nullptr;  // what rank 0 writes if the job is ended under it
  ReadyQueue* ready_ = nullptr;
  std::vector<std::vector<std::uint8_t>> known_;  // per rank, per task: it holds the value
  std::vector<std::string> bytes_;                // per task: its value's Codec bytes, once made
  std::vector<int> ran_on_;                       // per task: the rank it ran on this run, or -1
  std::vector<std::size_t> worker_of_;            // per task in flight: its worker id
  std::vector<std::vector<std::size_t>> free_;    // per rank: its free worker ids
  std::size_t free_count_ = 0;
};

/// The side of a run on every rank but 0: runs the tasks rank 0 sends until it ends the run,
/// then takes the final state.
template <class T>
class MpiServer {
 public:
  MpiServer(TaskGraph<T>& graph, const RunOptions& options, const MpiRunSettings& settings)
      : g_(GraphAccess::state(graph)), options_(options), s_(settings), outbox_(settings.comm) {}

  RunSummary go() {
    std::vector<std::vector<std::uint8_t>> unused;
    mpi_agree_on_graph(g_, s_, unused);
    const RunGuard<T> guard(g_);
    // The values held when the run starts are the ones rank 0 counts on this rank holding.
    fresh_.assign(g_.size(), 0);
    for (TaskId task = 0; task < g_.size(); ++task) {
      fresh_[task] = g_.status[task] == TaskStatus::done && g_.results[task].has_value();
    }
    own_errors_.assign(g_.size(), nullptr);
    serve();
    std::string state;
    mpi_broadcast(s_.comm, 0, state);
    return apply(state);
  }

 private:
  void serve() {
    // The tasks here see a stop rank 0 relays, or one this rank's own token asks for.
    std::stop_source relayed;
    const std::stop_callback own_stop(options_.stop_token, [&relayed] { relayed.request_stop(); });
    RunOptions options = options_;
    options.stop_token = relayed.get_token();
    RankThreads<T> threads(g_, options, s_.rank, s_.threads);
    std::vector<typename RankThreads<T>::Ended> ended;
    std::vector<const T*> inputs;
    std::string message;
    std::string reply;
    IdleWait idle;
    for (;;) {
      bool activity = outbox_.progress();
      int from = 0;
      int tag = 0;
      while (mpi_try_receive(s_.comm, 0, MPI_ANY_TAG, message, from, tag)) {
        activity = true;
        if (tag == kMpiEnd) {
          outbox_.wait_all();
          return;  // rank 0 ends a run only when no task is in flight
        }
        if (tag == kMpiStop) {
          relayed.request_stop();
          continue;
        }
        // [u32 worker id][request frame]: the task's Context sees the worker id observers see.
        FrameReader envelope{message};
        const std::size_t worker = envelope.number<std::uint32_t>();
        TaskId task = no_task;
        try {
          read_request(g_, envelope.rest.substr(std::min<std::size_t>(8, envelope.rest.size())),
                       task, inputs, [&](TaskId dep) {
                         const bool holds = fresh_[dep] != 0;
                         fresh_[dep] = 1;
                         return holds;
                       });
        } catch (...) {
          write_error_reply(reply, task, std::current_exception());
          outbox_.send(std::move(reply), 0, kMpiReply, "a reply");
          continue;
        }
        threads.post(task, inputs, worker);
      }
      if (activity) idle.reset();
      const std::chrono::microseconds wait = activity ? std::chrono::microseconds(0) : idle.next();
      threads.take_ended(ended, wait);
      for (auto& end : ended) {
        fresh_[end.task] = 1;
        own_errors_[end.task] = end.error;
        send_reply(end.task, end.error, reply);
      }
      if (!ended.empty()) idle.reset();
      if (!activity && ended.empty() && wait.count() == 0) std::this_thread::yield();
    }
  }

  // Replies how `task` ended. A value that cannot be sent (its codec throws, it is too big
  // for one message) fails the task instead: rank 0 waits for every reply.
  void send_reply(TaskId task, std::exception_ptr error, std::string& reply) {
    if (!error) {
      try {
        write_value_reply(reply, task, g_.results[task]);
        outbox_.send(std::move(reply), 0, kMpiReply, "the value of task '" + g_.names[task] + "'");
        return;
      } catch (...) {
        error = std::current_exception();
        fresh_[task] = 0;
      }
    }
    own_errors_[task] = error;
    write_error_reply(reply, task, error);
    outbox_.send(std::move(reply), 0, kMpiReply, "the error of task '" + g_.names[task] + "'");
  }

  RunSummary apply(std::string_view state) {
    FrameReader in{state};
    if (in.number<std::uint8_t>() == FinalState::kNotRun) {
      throw Error("MpiExecutor: rank 0 could not run graph '" + g_.name +
                  "': " + std::string(in.rest));
    }
    RunSummary summary;
    summary.succeeded = in.number<std::uint64_t>();
    summary.failed = in.number<std::uint64_t>();
    summary.skipped = in.number<std::uint64_t>();
    summary.cancelled = in.number<std::uint64_t>();
    summary.up_to_date = in.number<std::uint64_t>();
    summary.elapsed =
        std::chrono::nanoseconds(static_cast<std::int64_t>(in.number<std::uint64_t>()));
    const TaskId raised = in.number<std::uint32_t>();
    // A value this rank cannot decode is left out, and said once the state is all applied,
    // so the graph is whole either way.
    std::string undecodable;
    for (TaskId task = 0; task < g_.size() && !in.bad; ++task) {
      g_.status[task] = static_cast<TaskStatus>(in.number<std::uint8_t>());
      if (in.number<std::uint8_t>() != 0) {
        const std::string_view bytes = in.sized();
        if (fresh_[task] == 0 || !g_.results[task]) {
          try {
            g_.results[task].emplace(decode_or_throw<T>(bytes));
          } catch (const std::exception& e) {
            g_.results[task].reset();
            if (undecodable.empty()) undecodable = "task '" + g_.names[task] + "': " + e.what();
          }
        }
      } else {
        g_.results[task].reset();
      }
      g_.errors[task] = take_error(in, task);
    }
    if (in.bad) {
      throw Error("MpiExecutor: the final state of graph '" + g_.name +
                  "' from rank 0 was malformed");
    }
    if (!undecodable.empty()) {
      throw Error("MpiExecutor: MPI rank " + std::to_string(s_.rank) +
                  " cannot decode a value of graph '" + g_.name + "' that rank 0 holds (" +
                  undecodable + "); this rank's graph holds no value for it");
    }
    if (options_.raise_errors && raised != no_task && raised < g_.size())
      raise_task_error(g_, raised);
    return summary;
  }

  std::exception_ptr take_error(FrameReader& in, TaskId task) {
    const auto kind = static_cast<StateError>(in.number<std::uint8_t>());
    if (kind == StateError::ancestor) {
      return std::make_exception_ptr(AncestorFailed(std::string(in.sized())));
    }
    if (kind == StateError::skipped) return std::make_exception_ptr(Error(std::string(in.sized())));
    if (kind != StateError::remote) return nullptr;
    const auto rank = static_cast<std::int32_t>(in.number<std::uint32_t>());
    const std::string_view type = in.sized();
    const std::string_view what = in.sized();
    if (own_errors_[task]) return own_errors_[task];  // it failed here: the exception itself
    return std::make_exception_ptr(RemoteTaskError(
        g_.names[task], std::string(type), std::string(what),
        rank >= 0 ? "on MPI rank " + std::to_string(rank) : std::string("on another MPI rank")));
  }

  GraphState<T>& g_;
  const RunOptions& options_;
  const MpiRunSettings& s_;
  MpiOutbox outbox_;
  std::vector<std::uint8_t> fresh_;             // per task: its value here is rank 0's
  std::vector<std::exception_ptr> own_errors_;  // per task that failed on this rank this run
};

}  // namespace taskmap::detail
