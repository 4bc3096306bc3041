#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace certdock {

// What kind of thing went wrong; decides exit codes and retry policy at the edges.
enum class ErrorCategory {
    kUsage,     // the caller asked for something that cannot be done (bad flag, bad name)
    kInput,     // a file or value the user supplied is malformed
    kCrypto,    // OpenSSL refused an operation
    kIo,        // filesystem or socket failure
    kNetwork,   // a peer could not be reached
    kProtocol,  // a peer answered something we did not expect
    kAcme,      // an ACME server answered with a problem document
    kStorage,   // database failure
    kInternal,  // a bug: should never reach a user
};

std::string_view to_string(ErrorCategory category);

// RFC 7807 / RFC 8555 §6.7 problem document, kept structured so callers can act on `type`.
struct AcmeProblem {
    std::string type;  // full URN, e.g. "urn:ietf:params:acme:error:badNonce"
    std::string detail;
    int status = 0;
    std::vector<AcmeProblem> subproblems{};
    std::string identifier{};               // subproblems: "dns:example.com" (RFC 8555 §6.7.1)
    std::vector<std::string> algorithms{};  // badSignatureAlgorithm: what the server accepts
};

class Error {
public:
    Error(ErrorCategory category, std::string message);

    ErrorCategory category() const { return category_; }
    const std::string& message() const { return message_; }
    const Error* cause() const { return cause_.get(); }
    const std::optional<AcmeProblem>& problem() const { return problem_; }

    // Returns a copy of this error that records `cause` as the reason underneath it.
    Error caused_by(Error cause) const&;
    Error caused_by(Error cause) &&;
    Error with_problem(AcmeProblem problem) &&;

    // "outer: inner: innermost", the form a user reads on one line.
    std::string describe() const;

private:
    ErrorCategory category_;
    std::string message_;
    std::shared_ptr<const Error> cause_;
    std::optional<AcmeProblem> problem_;
};

}  // namespace certdock
