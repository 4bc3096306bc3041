#include "agent/doctor.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "agent/doctor_checks.hpp"

namespace certdock::agent {
namespace doctor {
namespace {

namespace fs = std::filesystem;

std::string upper(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string responder_rule(const std::string& map) {
    return "http-request return status 200 content-type text/plain lf-string "
           "\"%[path,field(-1,/)].%[path,field(-1,/),map(" +
           map + ")]\\n\" if { path_beg /.well-known/acme-challenge/ }";
}

void check_acme_section(const Context& context, const haproxy::AcmeSection& acme) {
    const std::string subject = acme.where.describe();
    const std::string name = "acme section '" + acme.name + "'";
    if (!context.config.experimental_directives) {
        context.add(Severity::kFailure, "acme", subject,
                    name +
                        " needs `expose-experimental-directives` in global: HAProxy refuses "
                        "the section without it",
                    "add `expose-experimental-directives` to the global section");
    }
    if (!acme.directory) {
        context.add(Severity::kFailure, "acme", subject, name + " has no `directory`",
                    "add `directory <URL of the CA's ACME directory>`");
    }
    if (acme.keytype) {
        std::string type = upper(acme.keytype->value);
        if (type == "EC") {
            context.add(Severity::kFailure, "acme", acme.keytype->where.describe(),
                        "`keytype EC`: HAProxy knows only `RSA` and `ECDSA` and refuses `EC`",
                        "write `keytype ECDSA`");
        } else if (type != "RSA" && type != "ECDSA") {
            context.add(Severity::kFailure, "acme", acme.keytype->where.describe(),
                        "`keytype " + acme.keytype->value + "` is not a HAProxy key type",
                        "write `keytype ECDSA` or `keytype RSA`");
        }
    }
    bool ecdsa = !acme.keytype || upper(acme.keytype->value) != "RSA";
    if (ecdsa && acme.bits && !acme.curves && acme.bits->value != "384") {
        context.add(Severity::kWarning, "acme", acme.bits->where.describe(),
                    "`bits " + acme.bits->value +
                        "` on an ECDSA key: HAProxy sizes ECDSA keys with `curves` (default "
                        "P-384) and reads `bits` for RSA only",
                    "add `curves P-" + acme.bits->value + "` so HAProxy makes the key asked for");
    }
    if (auto policy = policy_of(acme); !policy) {
        context.add(Severity::kFailure, "key-policy", subject,
                    name + ": " + policy.error().describe(),
                    "use `keytype RSA` with `bits 2048|3072|4096`, or `keytype ECDSA` with "
                    "`curves P-256|P-384`");
    }
    if (acme.reuse_key && acme.reuse_key->value != "on" && acme.reuse_key->value != "off") {
        std::string what = acme.reuse_key->value.empty()
                               ? "`reuse-key` without `on`"
                               : "`reuse-key " + acme.reuse_key->value + "`";
        context.add(Severity::kFailure, "acme", acme.reuse_key->where.describe(),
                    what + ": HAProxy expects `reuse-key on` or `reuse-key off`",
                    "write `reuse-key on` to keep the key across renewals (or `off` for a new "
                    "key each time, the default)");
    }
}

bool uses_http01(const haproxy::AcmeSection& acme) {
    return !acme.challenge || acme.challenge->value == "http-01" ||
           acme.challenge->value == "HTTP-01";
}

}  // namespace

void Context::add(Severity severity, std::string check, std::string subject, std::string message,
                  std::string fix) const {
    findings.push_back(
        {severity, std::move(check), std::move(subject), std::move(message), std::move(fix)});
}

fs::path Context::resolve(const std::string& written,
                          const std::optional<std::string>& base) const {
    fs::path path(written);
    if (path.is_absolute()) return path.lexically_normal();
    if (base && !base->empty()) {
        fs::path base_path(*base);
        return ((base_path.is_absolute() ? base_path : base_dir / base_path) / path)
            .lexically_normal();
    }
    return (base_dir / path).lexically_normal();
}

Result<crypto::KeySpec> policy_of(const haproxy::AcmeSection& acme) {
    std::string keytype = acme.keytype ? acme.keytype->value : "ECDSA";
    std::optional<int> bits;
    if (acme.bits) {
        int value = 0;
        const std::string& text = acme.bits->value;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size()) {
            return fail(ErrorCategory::kInput, "`bits " + text + "` is not a number");
        }
        bits = value;
    }
    std::optional<std::string_view> curves;
    if (acme.curves) curves = acme.curves->value;
    // HAProxy's own default is P-384, not the P-256 certdock picks when nothing is said.
    if (upper(keytype) != "RSA" && !bits && !curves) bits = 384;
    return crypto::key_spec_from_haproxy(keytype, bits, curves);
}

void check_acme_sections(const Context& context) {
    for (const auto& acme : context.config.acme_sections) check_acme_section(context, acme);
}

void check_http01(const Context& context) {
    for (const auto& responder : context.config.map_responders) {
        const std::string subject = responder.where.describe();
        if (responder.map.starts_with("virt@")) {
            context.add(
                Severity::kOk, "http-01", subject,
                "http-01 answered from virtual map " + responder.map + " (HAProxy 3.0 or later)");
            continue;
        }
        bool optional = responder.map.starts_with("opt@");
        fs::path path = context.resolve(optional ? responder.map.substr(4) : responder.map);
        std::error_code ec;
        if (fs::is_regular_file(path, ec)) {
            context.add(Severity::kOk, "http-01", subject,
                        "http-01 answered from map " + path.string() + ", which exists");
        } else if (!optional) {
            context.add(Severity::kFailure, "http-01", subject,
                        "the http-01 responder reads map " + path.string() +
                            ", which does not exist: HAProxy refuses to start and no token can "
                            "be added",
                        "create it empty: touch " + path.string() +
                            " (tokens are added at run time with `add map`)");
        }
    }
    for (const auto& acme : context.config.acme_sections) {
        if (!uses_http01(acme)) continue;
        if (!acme.map) {
            context.add(Severity::kFailure, "http-01", acme.where.describe(),
                        "acme section '" + acme.name +
                            "' validates with http-01 but names no `map` for the tokens",
                        "add `map virt@acme` to the section and to a frontend on port 80: " +
                            responder_rule("virt@acme"));
            continue;
        }
        const std::string& map = acme.map->value;
        bool answered =
            std::any_of(context.config.map_responders.begin(), context.config.map_responders.end(),
                        [&](const haproxy::MapResponder& responder) {
                            return responder.map == map ||
                                   context.resolve(responder.map) == context.resolve(map);
                        });
        if (answered) continue;
        context.add(Severity::kFailure, "http-01", acme.map->where.describe(),
                    "acme section '" + acme.name + "' puts http-01 tokens in map " + map +
                        ", but no `http-request return` answers /.well-known/acme-challenge/ "
                        "from it: every validation gets a 404",
                    "add to the frontend on port 80: " + responder_rule(map));
    }
}

}  // namespace doctor

std::string_view to_string(Severity severity) {
    switch (severity) {
        case Severity::kOk:
            return "ok";
        case Severity::kWarning:
            return "warning";
        case Severity::kFailure:
            return "failure";
    }
    return "failure";
}

bool DoctorReport::failed() const {
    return count(Severity::kFailure) > 0;
}

size_t DoctorReport::count(Severity severity) const {
    return static_cast<size_t>(
        std::count_if(findings.begin(), findings.end(),
                      [severity](const Finding& finding) { return finding.severity == severity; }));
}

Result<DoctorReport> run_doctor(const DoctorOptions& options) {
    CERTDOCK_TRY(haproxy::Config config, haproxy::load_config(options.config));
    DoctorReport report;
    std::filesystem::path base_dir = options.base_dir.value_or(options.config.parent_path());
    std::error_code ec;
    base_dir = std::filesystem::absolute(base_dir.empty() ? "." : base_dir, ec);
    doctor::Context context{options, config, base_dir,
                            options.now.value_or(std::chrono::system_clock::now()),
                            report.findings};
    for (const auto& warning : config.warnings) {
        context.add(Severity::kWarning, "config", warning.where.describe(), warning.message, "");
    }
    doctor::check_acme_sections(context);
    std::vector<doctor::CertUse> uses = doctor::collect_certificates(context);
    std::vector<doctor::DiskCertificate> certificates = doctor::check_certificates(context, uses);
    doctor::check_http01(context);
    doctor::check_sockets(context);  // without a connection: the declared levels only
    if (options.probe) doctor::check_served(context, certificates);
    return report;
}

}  // namespace certdock::agent
