#include "agent/key_rotation.hpp"

#include <fcntl.h>

#include <chrono>
#include <system_error>
#include <utility>

#include "agent/config_values.hpp"
#include "agent/key_policy.hpp"
#include "base/file.hpp"
#include "base/unique_fd.hpp"

namespace certdock::agent {
namespace {

SystemTime whole_seconds(SystemTime time) {
    return std::chrono::time_point_cast<std::chrono::seconds>(time);
}

// A key as it lies on disk: its text (copied verbatim to .previous), the key, its age.
struct StoredKey {
    std::string pem;
    crypto::PrivateKey key;
    SystemTime created;
};

// Nothing when `file` does not exist; fails when it exists but holds no usable key.
Result<std::optional<StoredKey>> load_key(const std::filesystem::path& file) {
    std::error_code error;
    if (!std::filesystem::exists(file, error)) return std::optional<StoredKey>{};
    CERTDOCK_TRY(std::string pem, read_file(file));
    auto key = crypto::PrivateKey::from_pem(pem);
    if (!key) {
        return Unexpected(Error(ErrorCategory::kInput, file.string() + " holds no usable key")
                              .caused_by(std::move(key).error()));
    }
    const auto modified = std::filesystem::last_write_time(file, error);
    if (error) {
        return fail(ErrorCategory::kIo,
                    "cannot read the time of " + file.string() + ": " + error.message());
    }
    const SystemTime created = whole_seconds(std::chrono::file_clock::to_sys(modified));
    return std::optional<StoredKey>{StoredKey{std::move(pem), std::move(*key), created}};
}

// A new key of `spec` in `file` (0600), its age counted from `now`.
Result<StoredKey> make_key(const std::filesystem::path& file, const crypto::KeySpec& spec,
                           SystemTime now, bool overwrite) {
    CERTDOCK_TRY(crypto::PrivateKey key, crypto::PrivateKey::generate(spec));
    CERTDOCK_TRY(std::string pem, key.to_pem());
    CERTDOCK_TRY_STATUS(create_parent_directories(file));
    CERTDOCK_TRY_STATUS(write_file_atomic(file, pem, {.mode = 0600, .overwrite = overwrite}));
    std::error_code error;
    std::filesystem::last_write_time(file, std::chrono::file_clock::from_sys(now), error);
    if (error) {
        return fail(ErrorCategory::kIo,
                    "cannot set the time of " + file.string() + ": " + error.message());
    }
    return StoredKey{std::move(pem), std::move(key), whole_seconds(now)};
}

// Renames are durable only once their directory is flushed.
void sync_directory(const std::filesystem::path& file) {
    const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : ".";
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.valid()) ::fsync(fd.get());
}

std::string describe_pins(const crypto::PublicKey& key) {
    return "pin-sha256 " + key.pin_sha256() + ", TLSA 3 1 1 " + key.tlsa_311();
}

// The next key, made or replaced when missing, unreadable or of another type than `spec`.
Result<StoredKey> ensure_next_key(const KeyPolicy& policy, const crypto::KeySpec& spec,
                                  SystemTime now, std::vector<std::string>& events) {
    const std::filesystem::path file = next_key_file(policy);
    auto stored = load_key(file);
    std::string replaced;
    if (!stored) {
        replaced = "next key in " + file.string() + " was unusable (" + stored.error().describe() +
                   "); replaced by a new ";
    } else if (*stored && (*stored)->key.spec() != spec) {
        replaced = "next key in " + file.string() + " was " + (*stored)->key.describe() +
                   " but the policy asks for " + spec.describe() + "; replaced by a new ";
    } else if (*stored) {
        return std::move(**stored);
    }
    const bool exists = !replaced.empty();
    CERTDOCK_TRY(StoredKey made, make_key(file, spec, now, exists));
    const std::string what =
        exists ? replaced + spec.describe() + " key"
               : "next key created in " + file.string() + " (" + spec.describe() + ")";
    events.push_back(what + "; publish its pins: " + describe_pins(made.key.public_key()) +
                     "; used from " + format_rfc3339(made.created + policy.rotate_ahead));
    return made;
}

// The type new keys get: the configured one, else the current key's (see detect_key_policy).
Result<crypto::KeySpec> policy_spec(const KeyPolicy& policy) {
    CERTDOCK_TRY(DetectedKeySpec detected, detect_key_policy(policy));
    return detected.spec;
}

KeyPins pins_of(const std::filesystem::path& file, const StoredKey& stored) {
    const crypto::PublicKey key = stored.key.public_key();
    return KeyPins{.file = file,
                   .type = key.describe(),
                   .pin_sha256 = key.pin_sha256(),
                   .tlsa_311 = key.tlsa_311(),
                   .created = stored.created};
}

}  // namespace

std::filesystem::path next_key_file(const KeyPolicy& policy) {
    return policy.key_file.string() + ".next";
}

std::filesystem::path previous_key_file(const KeyPolicy& policy) {
    return policy.key_file.string() + ".previous";
}

Result<RotationPlan> plan_rotation(const KeyPolicy& policy, SystemTime now) {
    now = whole_seconds(now);
    CERTDOCK_TRY(crypto::KeySpec spec, policy_spec(policy));
    std::vector<std::string> events;
    CERTDOCK_TRY(std::optional<StoredKey> current, load_key(policy.key_file));
    if (!current) {
        CERTDOCK_TRY(current, make_key(policy.key_file, spec, now, false));
        events.push_back("key created in " + policy.key_file.string() + " (" + spec.describe() +
                         ")");
    }
    CERTDOCK_TRY(StoredKey next, ensure_next_key(policy, spec, now, events));

    const std::string next_file = next_key_file(policy).string();
    const SystemTime usable = next.created + policy.rotate_ahead;
    const std::string ahead = "rotate-ahead " + format_duration(policy.rotate_ahead);
    if (now >= usable) {
        return RotationPlan{.key = std::move(next.key),
                            .uses_next = true,
                            .reason = "using the next key " + next_file + " (made " +
                                      format_rfc3339(next.created) + ", " + ahead +
                                      " has passed); it becomes the current key once delivered",
                            .events = std::move(events)};
    }
    return RotationPlan{.key = std::move(current->key),
                        .uses_next = false,
                        .reason = "keeping the current key: the next key " + next_file +
                                  " was made " + format_rfc3339(next.created) +
                                  " and is used from " + format_rfc3339(usable) + " (" + ahead +
                                  "), its pins may not be published long enough yet",
                        .events = std::move(events)};
}

Result<std::vector<std::string>> complete_rotation(const KeyPolicy& policy,
                                                   const crypto::PublicKey& delivered,
                                                   SystemTime now) {
    now = whole_seconds(now);
    const std::filesystem::path next_file = next_key_file(policy);
    std::vector<std::string> events;
    CERTDOCK_TRY(std::optional<StoredKey> current, load_key(policy.key_file));
    // An unusable next key cannot be the delivered one; ensure_next_key replaces it below.
    auto next = load_key(next_file);
    const bool delivered_next = next && *next && (*next)->key.public_key().same_key(delivered);
    const bool delivered_current = current && current->key.public_key().same_key(delivered);

    if (delivered_next && !delivered_current) {
        if (current) {
            const std::filesystem::path previous = previous_key_file(policy);
            CERTDOCK_TRY_STATUS(write_file_atomic(previous, current->pem, {.mode = 0600}));
        }
        std::error_code error;
        std::filesystem::rename(next_file, policy.key_file, error);
        if (error) {
            return fail(ErrorCategory::kIo, "cannot rename " + next_file.string() + " to " +
                                                policy.key_file.string() + ": " + error.message());
        }
        sync_directory(policy.key_file);
        events.push_back("rotated: the next key (" + describe_pins(delivered) + ") is now " +
                         policy.key_file.string() +
                         (current ? "; the old key is kept in " + previous_key_file(policy).string()
                                  : std::string()));
    } else if (!delivered_current) {
        return fail(ErrorCategory::kInput,
                    "the delivered key (" + delivered.identify() + ") is neither the key in " +
                        policy.key_file.string() + " nor the one in " + next_file.string() +
                        "; put the delivered key back in " + policy.key_file.string() +
                        " or move both files away to start a new pair");
    }
    CERTDOCK_TRY(crypto::KeySpec spec, policy_spec(policy));
    CERTDOCK_TRY_STATUS(ensure_next_key(policy, spec, now, events));
    return events;
}

Result<RotationPins> rotation_pins(const KeyPolicy& policy) {
    RotationPins pins;
    CERTDOCK_TRY(std::optional<StoredKey> current, load_key(policy.key_file));
    if (current) pins.current = pins_of(policy.key_file, *current);
    CERTDOCK_TRY(std::optional<StoredKey> next, load_key(next_key_file(policy)));
    if (next) {
        pins.next = pins_of(next_key_file(policy), *next);
        pins.next_usable_after = next->created + policy.rotate_ahead;
    }
    return pins;
}

std::vector<std::string> rotation_hook_environment(const RotationPins& pins) {
    std::vector<std::string> env;
    if (pins.current) {
        env.push_back("CERTDOCK_KEY_PIN_SHA256=" + pins.current->pin_sha256);
        env.push_back("CERTDOCK_KEY_TLSA=3 1 1 " + pins.current->tlsa_311);
    }
    if (pins.next) {
        env.push_back("CERTDOCK_NEXT_KEY_PIN_SHA256=" + pins.next->pin_sha256);
        env.push_back("CERTDOCK_NEXT_KEY_TLSA=3 1 1 " + pins.next->tlsa_311);
        env.push_back("CERTDOCK_NEXT_KEY_USABLE_AFTER=" + format_rfc3339(pins.next_usable_after));
    }
    return env;
}

}  // namespace certdock::agent
