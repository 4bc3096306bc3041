#pragma once

#include <filesystem>
#include <vector>

#include "challenge/solver.hpp"

namespace certdock::challenge {

// http-01 (RFC 8555 §8.3) answered by the web server already on port 80: present() writes
// <webroot>/.well-known/acme-challenge/<token> containing the key authorization (no trailing
// newline), mode 0644, creating the two directories with mode 0755 where missing — whatever
// the process umask, since the web server usually runs as another user. cleanup() removes
// the file and then those directories this solver created, once they are empty; directories
// that existed before are never removed.
//
// The webroot itself must exist: creating it would hide a typo in the configuration.
class Http01Webroot final : public Solver {
public:
    explicit Http01Webroot(std::filesystem::path webroot);

    ChallengeType type() const override { return ChallengeType::kHttp01; }
    // kIo naming the path when the webroot is missing or a file cannot be written; kUsage
    // for a task whose token is not base64url (it would name a path outside the directory).
    Status present(const ChallengeTask& task) override;
    // Removing a file that is already gone is not an error.
    Status cleanup(const ChallengeTask& task) override;

    const std::filesystem::path& challenge_dir() const { return challenge_dir_; }

private:
    Status make_directories();

    std::filesystem::path webroot_;
    std::filesystem::path challenge_dir_;
    std::vector<std::filesystem::path> created_dirs_;  // innermost last
};

}  // namespace certdock::challenge
