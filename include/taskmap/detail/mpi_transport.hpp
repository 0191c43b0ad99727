#pragma once
// Byte messages between the ranks of an MpiExecutor: the tags, sends that never block (a rank
// blocked sending a big reply while rank 0 is blocked sending it a big request would be a
// deadlock), receives that only take what has arrived, and a broadcast of any size. Every
// call is made by the one thread of a rank that talks MPI (MPI_THREAD_FUNNELED is enough).

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>

#include <mpi.h>

#include "taskmap/errors.hpp"

namespace taskmap::detail {

/// The tags of an MpiExecutor's messages, on its own duplicate of the user's communicator.
enum MpiTag : int {
  kMpiRequest = 1,  // rank 0 -> a rank: run this task (task_messages.hpp's request)
  kMpiReply = 2,    // a rank -> rank 0: how the task ended (task_messages.hpp's reply)
  kMpiEnd = 3,      // rank 0 -> a rank: the run is over, the final state is broadcast next
  kMpiStop = 4,     // rank 0 -> a rank: the run's stop was requested (no payload)
};

/// Throws Error naming `call` when an MPI call did not return MPI_SUCCESS (only reached when
/// the communicator's error handler returns errors instead of aborting the job).
inline void mpi_check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) length = 0;
  throw Error(std::string("taskmap: ") + call +
              " failed: " + std::string(text, static_cast<std::size_t>(std::max(length, 0))));
}

/// The size of one message as MPI counts it. Throws: Error past INT_MAX bytes.
inline int mpi_count(std::size_t bytes, const std::string& what) {
  if (bytes > static_cast<std::size_t>(INT_MAX)) {
    throw Error("taskmap: MpiExecutor cannot send " + what + ": its " + std::to_string(bytes) +
                " bytes are more than one MPI message holds (2 GiB)");
  }
  return static_cast<int>(bytes);
}

/// Messages sent without blocking, each kept until MPI is done with its bytes.
class MpiOutbox {
 public:
  explicit MpiOutbox(MPI_Comm comm) noexcept : comm_(comm) {}
  MpiOutbox(const MpiOutbox&) = delete;
  MpiOutbox& operator=(const MpiOutbox&) = delete;
  ~MpiOutbox() { wait_all(); }

  /// Sends `bytes` (taken) to `rank` with `tag`. `what` names the message in errors.
  void send(std::string bytes, int rank, int tag, const std::string& what) {
    const int count = mpi_count(bytes.size(), what);
    Pending& pending = pending_.emplace_back();
    pending.bytes = std::move(bytes);
    const int code =
        MPI_Isend(pending.bytes.data(), count, MPI_BYTE, rank, tag, comm_, &pending.request);
    if (code != MPI_SUCCESS) {
      pending_.pop_back();
      mpi_check(code, "MPI_Isend");
    }
  }

  /// Frees the buffers of sends MPI has finished with; true when any had.
  bool progress() {
    bool any = false;
    while (!pending_.empty()) {
      int done = 0;
      mpi_check(MPI_Test(&pending_.front().request, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (done == 0) break;
      pending_.pop_front();
      any = true;
    }
    return any;
  }

  /// Waits until every send is done (the receiver takes every message it is sent).
  void wait_all() noexcept {
    for (Pending& pending : pending_) MPI_Wait(&pending.request, MPI_STATUS_IGNORE);
    pending_.clear();
  }

 private:
  struct Pending {
    std::string bytes;
    MPI_Request request = MPI_REQUEST_NULL;
  };

  MPI_Comm comm_;
  std::deque<Pending> pending_;  // in sending order; a deque keeps each buffer in place
};

/// Receives a message from `source` (or MPI_ANY_SOURCE) with `tag` (or MPI_ANY_TAG) into
/// `bytes` if one has arrived; false if none has. `from` and `got_tag` say what it was.
inline bool mpi_try_receive(MPI_Comm comm, int source, int tag, std::string& bytes, int& from,
                            int& got_tag) {
  int flag = 0;
  MPI_Status status;
  mpi_check(MPI_Iprobe(source, tag, comm, &flag, &status), "MPI_Iprobe");
  if (flag == 0) return false;
  int count = 0;
  mpi_check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  bytes.resize(static_cast<std::size_t>(count));
  mpi_check(MPI_Recv(bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, comm,
                     MPI_STATUS_IGNORE),
            "MPI_Recv");
  from = status.MPI_SOURCE;
  got_tag = status.MPI_TAG;
  return true;
}

/// Broadcasts `bytes` from `root` to every rank of `comm` (collective), in pieces of at most
/// 1 GiB, so a final state of any size crosses.
inline void mpi_broadcast(MPI_Comm comm, int root, std::string& bytes) {
  std::uint64_t size = bytes.size();
  mpi_check(MPI_Bcast(&size, 1, MPI_UINT64_T, root, comm), "MPI_Bcast");
  bytes.resize(static_cast<std::size_t>(size));
  constexpr std::size_t kPiece = std::size_t{1} << 30;
  for (std::size_t at = 0; at < bytes.size(); at += kPiece) {
    const int count = static_cast<int>(std::min(kPiece, bytes.size() - at));
    mpi_check(MPI_Bcast(bytes.data() + at, count, MPI_BYTE, root, comm), "MPI_Bcast");
  }
}

}  // namespace taskmap::detail
