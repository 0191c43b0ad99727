#pragma once
/// @file taskmap.hpp
/// The umbrella header: everything public in taskmap.

#include "taskmap/dot.hpp"
#include "taskmap/errors.hpp"
#include "taskmap/executor.hpp"
#include "taskmap/executors/coroutine.hpp"
#include "taskmap/executors/coroutine_pool.hpp"
#include "taskmap/executors/sequential.hpp"
#include "taskmap/executors/thread_pool.hpp"
#include "taskmap/explain.hpp"
#include "taskmap/graph.hpp"
#include "taskmap/observer.hpp"
#include "taskmap/observers/log_observer.hpp"
#include "taskmap/observers/progress_observer.hpp"
#include "taskmap/observers/trace_observer.hpp"
#include "taskmap/reset.hpp"
#include "taskmap/run_options.hpp"
#include "taskmap/task.hpp"
#include "taskmap/task_fn.hpp"
#include "taskmap/task_status.hpp"
#include "taskmap/trigger.hpp"
#include "taskmap/version.hpp"
