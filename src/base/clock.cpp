#include "base/clock.hpp"

#include <thread>

namespace certdock {

void SystemClock::sleep_for(Duration duration) {
    if (duration > Duration::zero()) std::this_thread::sleep_for(duration);
}

Clock& system_clock() {
    static SystemClock clock;
    return clock;
}

}  // namespace certdock
