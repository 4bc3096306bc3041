#include "haproxy/hot_update.hpp"

#include "crypto/certificate.hpp"
#include "crypto/pem.hpp"

namespace certdock::haproxy {
namespace {

struct SplitBundle {
    std::string chain;  // every non-key block, in order (certificates, DH parameters)
    std::string key;
};

Result<SplitBundle> split_bundle(const std::string& bundle_pem) {
    CERTDOCK_TRY(std::vector<crypto::PemBlock> blocks, crypto::split_pem(bundle_pem));
    SplitBundle split;
    int keys = 0;
    for (const crypto::PemBlock& block : blocks) {
        if (crypto::is_private_key_label(block.label)) {
            split.key += block.text;
            ++keys;
        } else {
            split.chain += block.text;
        }
    }
    if (keys != 1) {
        return fail(ErrorCategory::kInput,
                    "the bundle must hold exactly one private key, found " + std::to_string(keys));
    }
    return split;
}

// The same error with `note` added to its message, its cause chain kept.
Error with_note(const Error& error, const std::string& note) {
    Error noted(error.category(), error.message() + " (" + note + ")");
    if (error.cause() != nullptr) return std::move(noted).caused_by(*error.cause());
    return noted;
}

// Drops our transaction after a failure, keeping the original error first. There may be
// none: HAProxy opens nothing when it drops an oversized payload.
Error abort_after(RuntimeApi& api, const std::string& cert_name, Error error) {
    auto open = api.open_transaction();
    Status aborted;
    if (!open) {
        aborted = Unexpected(std::move(open).error());
    } else if (*open && **open == cert_name) {
        aborted = api.abort_ssl_cert(cert_name);
    } else if (*open) {
        return with_note(error, "a transaction for " + **open +
                                    " is open; it is not ours, so it was left alone");
    }
    if (aborted) return error;
    return with_note(
        error, "and `abort ssl cert " + cert_name + "` failed too: " + aborted.error().describe());
}

}  // namespace

Result<HotUpdateResult> hot_update(RuntimeApi& api, const std::string& cert_name,
                                   const std::string& bundle_pem, size_t max_payload) {
    HotUpdateResult result;
    const std::string context = "cannot hot-update " + cert_name + " in HAProxy";
    auto within = [&](Error cause) {
        ErrorCategory category = cause.category();
        return Unexpected(Error(category, context).caused_by(std::move(cause)));
    };

    // Everything that can be checked offline is checked before HAProxy is touched.
    auto clean = sanitize_payload(bundle_pem);
    if (!clean) return within(std::move(clean).error());
    auto leaf = crypto::Certificate::from_pem(*clean);
    if (!leaf) return within(std::move(leaf).error());
    auto split = split_bundle(*clean);
    if (!split) return within(std::move(split).error());

    auto open = api.open_transaction();
    if (!open) return within(std::move(open).error());
    if (*open && **open != cert_name) {
        return within(Error(ErrorCategory::kUsage,
                            "HAProxy has an open transaction for another certificate, " + **open +
                                "; HAProxy 2.6 would put our payload into it. Finish or abort it "
                                "(`abort ssl cert " +
                                **open + "`) and retry"));
    }
    if (*open) {
        if (Status aborted = api.abort_ssl_cert(cert_name); !aborted) {
            return within(std::move(aborted).error());
        }
        result.aborted_stale_transaction = true;
    }

    result.split = clean->size() > max_payload;
    if (result.split) {
        auto sent = api.set_ssl_cert_split(cert_name, split->chain, split->key);
        if (!sent) return within(abort_after(api, cert_name, std::move(sent).error()));
        result.bytes_sent = *sent;
    } else {
        if (Status set = api.set_ssl_cert(cert_name, *clean); !set) {
            return within(abort_after(api, cert_name, std::move(set).error()));
        }
        result.bytes_sent = clean->size();
    }
    if (Status committed = api.commit_ssl_cert(cert_name); !committed) {
        return within(abort_after(api, cert_name, std::move(committed).error()));
    }

    // The commit is final; this only reports whether HAProxy now holds what we sent.
    auto served = api.show_ssl_cert(cert_name);
    if (!served) return within(std::move(served).error());
    result.serial = served->serial;
    if (!same_serial(served->serial, leaf->serial_hex())) {
        return within(Error(ErrorCategory::kProtocol,
                            "HAProxy committed but reports serial " + served->serial +
                                " instead of the new certificate's " + leaf->serial_hex()));
    }
    return result;
}

}  // namespace certdock::haproxy
