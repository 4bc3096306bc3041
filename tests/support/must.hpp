#pragma once

#include <stdexcept>
#include <string>

#include "base/result.hpp"

namespace certdock::test {

// Unwraps a Result in test set-up, where a failure means the test cannot run. Throws so that
// GoogleTest fails only the current test and prints where and why. (__builtin_FILE/LINE rather
// than std::source_location, which clang-tidy 14 cannot parse with libstdc++ 12.)
template <typename T>
T must(Result<T> result, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    if (!result) {
        throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " +
                                 result.error().describe());
    }
    return std::move(result).value();
}

}  // namespace certdock::test
