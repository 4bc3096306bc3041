#pragma once

#include <chrono>
#include <memory>

namespace certdock {

// Time as the code sees it. Everything that waits or schedules takes a Clock, so tests can
// run months of renewals or a minute of polling in microseconds.
class Clock {
public:
    using TimePoint = std::chrono::system_clock::time_point;
    using Duration = std::chrono::system_clock::duration;

    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
    virtual void sleep_for(Duration duration) = 0;
};

// The real wall clock.
class SystemClock final : public Clock {
public:
    TimePoint now() const override { return std::chrono::system_clock::now(); }
    void sleep_for(Duration duration) override;
};

// The process-wide real clock, for callers that are not given one.
Clock& system_clock();

}  // namespace certdock
