#pragma once
// The one place tests include Catch2 from: Catch2 3 or Catch2 2.13, same macros.
#if defined(TASKMAP_CATCH2_V3)
#include <catch2/catch_approx.hpp>
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#else
#include <catch2/catch.hpp>
#endif
