#pragma once

#include <source_location>
#include <stdexcept>
#include <string>

#include "base/result.hpp"

namespace certdock::test {

// Unwraps a Result in test set-up, where a failure means the test cannot run. Throws so that
// GoogleTest fails only the current test and prints where and why.
template <typename T>
T must(Result<T> result, std::source_location where = std::source_location::current()) {
    if (!result) {
        throw std::runtime_error(std::string(where.file_name()) + ":" +
                                 std::to_string(where.line()) + ": " + result.error().describe());
    }
    return std::move(result).value();
}

}  // namespace certdock::test
