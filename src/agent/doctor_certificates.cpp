// Where the configuration takes certificates from, and whether each file on disk is fit to
// serve: exists, parses, key present and matching, chain in order, not expiring, key policy.

#include <algorithm>
#include <map>

#include "agent/doctor_checks.hpp"
#include "base/file.hpp"
#include "base/time.hpp"
#include "crypto/bundle.hpp"
#include "haproxy/crt_list.hpp"

namespace certdock::agent::doctor {
namespace {

namespace fs = std::filesystem;

// Files HAProxy skips when `crt` names a directory: they accompany a certificate.
bool is_companion_file(const fs::path& path) {
    std::string name = path.filename().string();
    if (name.starts_with('.')) return true;
    for (std::string_view ext : {".key", ".ocsp", ".issuer", ".sctl"}) {
        if (name.ends_with(ext)) return true;
    }
    return false;
}

std::optional<std::string> base_of(const std::optional<std::string>& store_base,
                                   const std::optional<haproxy::Setting>& global_base) {
    if (store_base) return store_base;
    if (global_base) return global_base->value;
    return std::nullopt;
}

class Collector {
public:
    explicit Collector(const Context& context) : context_(context), config_(context.config) {}

    std::vector<CertUse> run() && {
        for (const auto& store : config_.crt_stores) {
            for (const auto& load : store.loads) add_load(store, load);
        }
        for (size_t i = 0; i < config_.binds.size(); ++i) add_bind(i);
        for (const auto& use : config_.ssl_f_uses) add_ssl_f_use(use);
        return std::move(uses_);
    }

private:
    struct Reference {
        std::string crt{};
        haproxy::Location where{};
        std::vector<size_t> binds{};
        std::vector<std::string> sni_filters{};
        std::optional<std::string> acme{};
        std::optional<std::string> key{};
        std::string what{};  // "bind", "ssl-f-use", "crt-list line": for messages
    };

    void merge(CertUse use) {
        std::string key = use.path.lexically_normal().string();
        auto found = index_.find(key);
        if (found == index_.end()) {
            index_.emplace(key, uses_.size());
            uses_.push_back(std::move(use));
            return;
        }
        CertUse& known = uses_[found->second];
        known.binds.insert(known.binds.end(), use.binds.begin(), use.binds.end());
        known.sni_filters.insert(known.sni_filters.end(), use.sni_filters.begin(),
                                 use.sni_filters.end());
        if (!known.acme) known.acme = use.acme;
        if (!known.key_path) known.key_path = use.key_path;
        known.acme_creates_missing |= use.acme_creates_missing;
    }

    void check_acme_reference(const std::optional<std::string>& acme,
                              const haproxy::Location& where) {
        if (!acme || config_.find_acme(*acme) != nullptr) return;
        context_.add(Severity::kFailure, "acme", where.describe(),
                     "refers to acme section '" + *acme +
                         "', which the configuration does not "
                         "define: HAProxy refuses to start",
                     "add `acme " + *acme +
                         "` with its `directory`, or correct the name (defined: " +
                         defined_acme_names() + ")");
    }

    std::string defined_acme_names() const {
        std::string names;
        for (const auto& acme : config_.acme_sections) {
            names += (names.empty() ? "" : ", ") + acme.name;
        }
        return names.empty() ? "none" : names;
    }

    CertUse use_of_load(const haproxy::CrtStore& store, const haproxy::CrtLoad& load) const {
        CertUse use{.where = load.where};
        use.path = context_.resolve(load.crt, base_of(store.crt_base, config_.crt_base));
        if (load.key) {
            use.key_path = context_.resolve(*load.key, base_of(store.key_base, config_.key_base));
        }
        use.acme = load.acme;
        use.acme_creates_missing = load.acme.has_value();
        return use;
    }

    void add_load(const haproxy::CrtStore& store, const haproxy::CrtLoad& load) {
        check_acme_reference(load.acme, load.where);
        if (load.crt.empty()) {
            context_.add(Severity::kFailure, "crt-store", load.where.describe(),
                         "`load` without `crt`: the entry holds no certificate",
                         "write `load crt <file>` (and `alias <name>` to refer to it)");
            return;
        }
        merge(use_of_load(store, load));
    }

    // "@store/name", or a name an unnamed crt-store defines.
    std::optional<std::pair<const haproxy::CrtStore*, const haproxy::CrtLoad*>> find_load(
        const std::string& reference) const {
        std::string store_name;
        std::string name = reference;
        if (reference.starts_with('@')) {
            size_t slash = reference.find('/');
            if (slash == std::string::npos) return std::nullopt;
            store_name = reference.substr(1, slash - 1);
            name = reference.substr(slash + 1);
        }
        for (const auto& store : config_.crt_stores) {
            if (store.name != store_name) continue;
            for (const auto& load : store.loads) {
                if (load.alias ? *load.alias == name : load.crt == name) {
                    return std::make_pair(&store, &load);
                }
            }
        }
        return std::nullopt;
    }

    void add_reference(const Reference& reference) {
        check_acme_reference(reference.acme, reference.where);
        if (auto found = find_load(reference.crt)) {
            const auto& [store, load] = *found;
            if (load->crt.empty()) {
                context_.add(Severity::kFailure, "crt-store", reference.where.describe(),
                             reference.what + " refers to " + reference.crt + " (" +
                                 load->where.describe() +
                                 "), whose `load` line has no `crt`: nothing is presented",
                             "add `crt <file>` to " + load->where.describe());
                return;
            }
            CertUse use = use_of_load(*store, *load);
            use.where = reference.where;
            use.binds = reference.binds;
            use.sni_filters = reference.sni_filters;
            if (reference.acme) use.acme = reference.acme;
            merge(std::move(use));
            return;
        }
        if (reference.crt.starts_with('@')) {
            context_.add(Severity::kFailure, "crt-store", reference.where.describe(),
                         reference.what + " refers to " + reference.crt +
                             ", which no crt-store defines: the certificate is not presented",
                         "define it in the crt-store (`load crt <file> alias <name>`) or "
                         "correct the name");
            return;
        }
        CertUse use{.path = context_.resolve(reference.crt, base_of({}, config_.crt_base)),
                    .acme = reference.acme,
                    .sni_filters = reference.sni_filters,
                    .binds = reference.binds,
                    .where = reference.where};
        if (reference.key)
            use.key_path = context_.resolve(*reference.key, base_of({}, config_.key_base));
        std::error_code ec;
        if (!fs::is_directory(use.path, ec)) {
            merge(std::move(use));
            return;
        }
        // A directory: every certificate file in it, as HAProxy loads them.
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(use.path, ec)) {
            if (entry.is_regular_file(ec) && !is_companion_file(entry.path())) {
                files.push_back(entry.path());
            }
        }
        std::sort(files.begin(), files.end());
        if (files.empty()) {
            context_.add(Severity::kFailure, "certificate", reference.where.describe(),
                         "directory " + use.path.string() + " holds no certificate file",
                         "put the PEM bundles in it, or correct the path");
        }
        for (const auto& file : files) {
            CertUse each = use;
            each.path = file;
            merge(std::move(each));
        }
    }

    void add_bind(size_t index) {
        const haproxy::Bind& bind = config_.binds[index];
        if (!bind.ssl && (!bind.crts.empty() || !bind.crt_lists.empty())) {
            context_.add(Severity::kWarning, "bind", bind.where.describe(),
                         "bind names certificates but has no `ssl`: the port does not speak TLS",
                         "add `ssl` to the bind line");
        }
        for (const auto& crt : bind.crts) {
            add_reference({.crt = crt, .where = bind.where, .binds = {index}, .what = "bind"});
        }
        for (const auto& list : bind.crt_lists) add_crt_list(index, list);
    }

    void add_crt_list(size_t index, const std::string& written) {
        const haproxy::Bind& bind = config_.binds[index];
        fs::path path = context_.resolve(written);
        std::vector<haproxy::ConfigWarning> warnings;
        auto entries = haproxy::load_crt_list(path, warnings);
        if (!entries) {
            context_.add(Severity::kFailure, "crt-list", bind.where.describe(),
                         "crt-list " + path.string() + ": " + entries.error().describe(),
                         "create it with one certificate per line (\"<file> [options] "
                         "[sni ...]\"), or correct the path");
            return;
        }
        for (const auto& warning : warnings) {
            context_.add(Severity::kWarning, "config", warning.where.describe(), warning.message);
        }
        if (entries->empty()) {
            context_.add(Severity::kFailure, "crt-list", bind.where.describe(),
                         "crt-list " + path.string() + " is empty: the bind has no certificate",
                         "add a line \"<certificate file> [sni ...]\"");
        }
        for (const auto& entry : *entries) {
            add_reference({.crt = entry.crt,
                           .where = entry.where,
                           .binds = {index},
                           .sni_filters = entry.sni_filters,
                           .acme = entry.acme,
                           .what = "crt-list line"});
        }
    }

    void add_ssl_f_use(const haproxy::SslFUse& use) {
        std::vector<size_t> binds;
        for (size_t i = 0; i < config_.binds.size(); ++i) {
            if (config_.binds[i].section == use.section && config_.binds[i].ssl) binds.push_back(i);
        }
        if (binds.empty()) {
            context_.add(Severity::kWarning, "ssl-f-use", use.where.describe(),
                         "ssl-f-use in " + use.section +
                             ", which has no `bind ... ssl`: nothing presents the certificate",
                         "add `ssl` to a bind line of " + use.section);
        }
        if (!use.crt) {
            context_.add(Severity::kFailure, "ssl-f-use", use.where.describe(),
                         "ssl-f-use without `crt` presents no certificate",
                         "name it: `ssl-f-use crt <file or @store/alias>`");
            check_acme_reference(use.acme, use.where);
            return;
        }
        add_reference({.crt = *use.crt,
                       .where = use.where,
                       .binds = binds,
                       .acme = use.acme,
                       .key = use.key,
                       .what = "ssl-f-use"});
    }

    const Context& context_;
    const haproxy::Config& config_;
    std::vector<CertUse> uses_;
    std::map<std::string, size_t> index_;
};

// HAProxy's own lookup for a key missing from the PEM: "<file>.key", or with
// `ssl-load-extra-del-ext` "<file without .crt>.key".
fs::path sibling_key(const Context& context, const fs::path& path) {
    std::string base = path.string();
    if (context.config.load_extra_del_ext && base.ends_with(".crt")) base.resize(base.size() - 4);
    return base + ".key";
}

Result<crypto::PrivateKey> read_key(const fs::path& path) {
    CERTDOCK_TRY(std::string pem, read_file(path));
    auto key = crypto::PrivateKey::from_pem(pem);
    if (!key) return Unexpected(Error(ErrorCategory::kInput, path.string()).caused_by(key.error()));
    return key;
}

// The key of the bundle, else of the key file HAProxy would read; a failure finding if none.
std::optional<crypto::PrivateKey> find_key(const Context& context, const CertUse& use,
                                           crypto::BundleParts& bundle, fs::path& key_file) {
    const std::string subject = use.where.describe();
    if (bundle.key) {
        key_file = use.path;
        return std::move(bundle.key);
    }
    key_file = use.key_path.value_or(sibling_key(context, use.path));
    std::error_code ec;
    if (!fs::exists(key_file, ec)) {
        std::string fix = "append the key: certdock cert bundle --cert " + use.path.string() +
                          " --key <key file> --out " + use.path.string() + ", or put it in " +
                          key_file.string();
        fs::path stem_key = fs::path(use.path).replace_extension(".key");
        if (!use.key_path && stem_key != key_file && fs::exists(stem_key, ec)) {
            fix = "HAProxy looks for " + key_file.string() + ", not " + stem_key.string() +
                  ": rename it" +
                  (use.path.extension() == ".crt"
                       ? ", or add `ssl-load-extra-del-ext` to the global section"
                       : "");
        }
        context.add(Severity::kFailure, "certificate", subject,
                    use.path.string() + " holds no private key and " + key_file.string() +
                        " does not exist: HAProxy refuses to start",
                    fix);
        return std::nullopt;
    }
    auto key = read_key(key_file);
    if (!key) {
        context.add(
            Severity::kFailure, "certificate", subject,
            "the key for " + use.path.string() + " cannot be read: " + key.error().describe(),
            "write the unencrypted PEM private key the certificate was issued for");
        return std::nullopt;
    }
    return std::move(*key);
}

void check_policy(const Context& context, const CertUse& use, const crypto::KeySpec& on_disk) {
    std::string key_phrase = use.path.string() + " has an " + on_disk.describe() + " key";
    if (use.acme) {
        if (const haproxy::AcmeSection* acme = context.config.find_acme(*use.acme)) {
            auto wanted = policy_of(*acme);
            if (wanted && !(*wanted == on_disk)) {
                const auto& line = acme->curves ? acme->curves
                                   : acme->bits ? acme->bits
                                                : acme->keytype;
                std::string subject = line ? line->where.describe() : acme->where.describe();
                context.add(Severity::kFailure, "key-policy", subject,
                            key_phrase + " but acme section '" + acme->name + "' asks for " +
                                wanted->describe(),
                            "reissue with an " + wanted->describe() +
                                " key (certdock key generate --type " + wanted->token() +
                                "), or make the section ask for " + on_disk.describe());
            }
        }
    }
    if (context.options.key_policy && !(*context.options.key_policy == on_disk)) {
        const crypto::KeySpec& wanted = *context.options.key_policy;
        context.add(Severity::kFailure, "key-policy", use.where.describe(),
                    key_phrase + " but --key-type asks for " + wanted.describe(),
                    "reissue with an " + wanted.describe() + " key (certdock key generate --type " +
                        wanted.token() + ")");
    }
}

// Expiry; returns the phrase for the summary line.
std::string check_expiry(const Context& context, const CertUse& use,
                         const crypto::Certificate& leaf) {
    const std::string subject = use.where.describe();
    std::string when = describe_interval(context.now, leaf.not_after());
    std::string renew = "renew it (certdock issue, or `acme renew " + use.path.string() +
                        "` on HAProxy 3.2+) and hot-load it";
    if (leaf.not_after() <= context.now) {
        context.add(
            Severity::kFailure, "expiry", subject,
            use.path.string() + " expired " + when + " (" + format_rfc3339(leaf.not_after()) + ")",
            renew);
    } else if (leaf.not_after() - context.now < context.options.expiry_warning) {
        context.add(
            Severity::kWarning, "expiry", subject,
            use.path.string() + " expires " + when + " (" + format_rfc3339(leaf.not_after()) + ")",
            renew);
    }
    if (leaf.not_before() > context.now) {
        context.add(Severity::kWarning, "expiry", subject,
                    use.path.string() + " is not valid yet: it starts " +
                        describe_interval(context.now, leaf.not_before()),
                    "check the clock of this machine and of the CA");
    }
    return "expires " + when;
}

DiskCertificate check_one(const Context& context, const CertUse& use) {
    const std::string subject = use.where.describe();
    const std::string name = use.path.string();
    DiskCertificate result{.use = use};
    std::error_code ec;
    if (!fs::exists(use.path, ec)) {
        if (use.acme_creates_missing) {
            context.add(
                Severity::kWarning, "certificate", subject,
                name +
                    " does not exist: HAProxy 3.3+ starts with a temporary expired "
                    "certificate and asks acme section '" +
                    use.acme.value_or("") + "' for one (3.2 refuses to start)",
                "on HAProxy 3.2, create the file first (certdock issue ... --out " + name + ")");
        } else {
            context.add(Severity::kFailure, "certificate", subject,
                        name + " does not exist: HAProxy refuses to start",
                        "create it (certdock issue -d <name> --out " + name +
                            ") or correct the path" +
                            (context.config.crt_base ? " (relative paths are under crt-base " +
                                                           context.config.crt_base->value + ")"
                                                     : ""));
        }
        return result;
    }
    auto text = read_file(use.path);
    if (!text) {
        context.add(Severity::kFailure, "certificate", subject, text.error().describe(),
                    "make it readable by the user HAProxy and certdock run as");
        return result;
    }
    auto parsed = crypto::parse_haproxy_bundle(*text);
    if (!parsed) {
        context.add(Severity::kFailure, "certificate", subject,
                    name + " is not a usable certificate file: " + parsed.error().describe(),
                    "write the leaf certificate, its chain, then the private key, in PEM "
                    "(certdock cert bundle makes one)");
        return result;
    }
    crypto::BundleParts& bundle = *parsed;
    result.leaf = bundle.leaf;
    bool healthy = true;
    fs::path key_file;
    std::optional<crypto::PrivateKey> key = find_key(context, use, bundle, key_file);
    healthy &= key.has_value();
    if (key) {
        if (Status matches = crypto::check_key_matches(*key, bundle.leaf); !matches) {
            healthy = false;
            context.add(Severity::kFailure, "certificate", subject,
                        name + ": " + matches.error().describe(),
                        "put the key the certificate was issued for in " + key_file.string() +
                            " (`certdock cert verify " + name +
                            " --key <key file>` tells), or reissue for this key");
        }
    }
    std::vector<crypto::Certificate> chain{bundle.leaf};
    chain.insert(chain.end(), bundle.chain.begin(), bundle.chain.end());
    if (Status ordered = crypto::check_chain_order(chain); !ordered) {
        healthy = false;
        context.add(Severity::kFailure, "chain", subject, name + ": " + ordered.error().describe(),
                    "order the file: leaf, then each issuer in turn, then the key (certdock "
                    "cert bundle writes it so)");
    } else if (bundle.chain.empty() && !bundle.leaf.is_self_signed()) {
        context.add(Severity::kWarning, "chain", subject,
                    name +
                        " holds no intermediate certificate: clients that do not have it "
                        "cannot verify",
                    "append the issuer's certificate after the leaf (certdock cert bundle "
                    "--chain)");
    }
    size_t before = context.findings.size();
    std::string expiry = check_expiry(context, use, bundle.leaf);
    crypto::KeySpec on_disk = bundle.leaf.public_key().spec();
    check_policy(context, use, on_disk);
    healthy &= context.findings.size() == before;
    if (healthy) {
        std::vector<std::string> names = bundle.leaf.dns_names();
        std::string label = !names.empty() ? names.front() : bundle.leaf.subject();
        context.add(Severity::kOk, "certificate", subject,
                    name + ": " + label + ", " + on_disk.describe() + " key matches, chain of " +
                        std::to_string(chain.size()) + " in order, " + expiry);
    }
    return result;
}

}  // namespace

std::vector<CertUse> collect_certificates(const Context& context) {
    return Collector(context).run();
}

std::vector<DiskCertificate> check_certificates(const Context& context,
                                                const std::vector<CertUse>& uses) {
    std::vector<DiskCertificate> certificates;
    certificates.reserve(uses.size());
    for (const auto& use : uses) certificates.push_back(check_one(context, use));
    return certificates;
}

}  // namespace certdock::agent::doctor
