#include "base/error.hpp"

#include <utility>

namespace certdock {

std::string_view to_string(ErrorCategory category) {
    switch (category) {
        case ErrorCategory::kUsage:
            return "usage";
        case ErrorCategory::kInput:
            return "input";
        case ErrorCategory::kCrypto:
            return "crypto";
        case ErrorCategory::kIo:
            return "io";
        case ErrorCategory::kNetwork:
            return "network";
        case ErrorCategory::kProtocol:
            return "protocol";
        case ErrorCategory::kAcme:
            return "acme";
        case ErrorCategory::kStorage:
            return "storage";
        case ErrorCategory::kInternal:
            return "internal";
    }
    return "unknown";
}

Error::Error(ErrorCategory category, std::string message)
    : category_(category), message_(std::move(message)) {}

Error Error::caused_by(Error cause) const& {
    Error copy = *this;
    return std::move(copy).caused_by(std::move(cause));
}

Error Error::caused_by(Error cause) && {
    cause_ = std::make_shared<const Error>(std::move(cause));
    return std::move(*this);
}

Error Error::with_problem(AcmeProblem problem) && {
    problem_ = std::move(problem);
    return std::move(*this);
}

std::string Error::describe() const {
    std::string text = message_;
    if (problem_ && !problem_->detail.empty() && text.find(problem_->detail) == std::string::npos) {
        text += " (" + problem_->type + ": " + problem_->detail + ")";
    }
    for (const Error* inner = cause(); inner != nullptr; inner = inner->cause()) {
        text += ": " + inner->message_;
    }
    return text;
}

}  // namespace certdock
