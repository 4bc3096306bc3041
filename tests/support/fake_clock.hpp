#pragma once

#include <vector>

#include "base/clock.hpp"

namespace certdock::test {

// A clock that only moves when slept on or advanced, and remembers every sleep.
class FakeClock final : public Clock {
public:
    explicit FakeClock(TimePoint start = std::chrono::system_clock::from_time_t(1'800'000'000))
        : now_(start) {}
    TimePoint now() const override { return now_; }
    void sleep_for(Duration duration) override {
        sleeps_.push_back(duration);
        now_ += duration;
    }
    void advance(Duration duration) { now_ += duration; }
    const std::vector<Duration>& sleeps() const { return sleeps_; }

private:
    TimePoint now_;
    std::vector<Duration> sleeps_;
};

}  // namespace certdock::test
