// The conformance scenarios (conformance_scenarios.hpp) on ProcessPoolExecutor: every task
// runs in a worker process, values cross as bytes.

#include <taskmap/executors/process_pool.hpp>

#define TASKMAP_SCENARIO_EXECUTORS taskmap::ProcessPoolExecutor
#include "conformance_scenarios.hpp"
