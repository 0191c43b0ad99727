// The conformance scenarios (conformance_scenarios.hpp) on every in-process executor, and on
// an executor written with the public executor API (examples/batch_executor.hpp).

#include "executors.hpp"

#define TASKMAP_SCENARIO_EXECUTORS TASKMAP_CONFORMANCE_EXECUTORS
#include "conformance_scenarios.hpp"
