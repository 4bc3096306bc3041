#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace certdock {

Result<std::string> read_file(const std::filesystem::path& path);

struct WriteOptions {
    unsigned mode = 0644;        // permissions of the new file, set before any byte is written
    bool overwrite = true;       // false: fail when the target already exists
    bool keep_previous = false;  // keep the replaced file as previous_file_of(path)
};

// Creates the directories above `file` that are missing; fails naming the directory.
Status create_parent_directories(const std::filesystem::path& file);

// "<dir>/.<name>.previous": hidden, because HAProxy loads every file of a `crt <directory>`
// except hidden ones, and an old certificate there would be served again after a restart.
std::filesystem::path previous_file_of(const std::filesystem::path& path);

// Writes `data` so that readers see either the old file or the whole new one: a temporary
// file in the same directory, fsync, rename over the target, fsync of the directory.
Status write_file_atomic(const std::filesystem::path& path, std::string_view data,
                         const WriteOptions& options = {});

}  // namespace certdock
