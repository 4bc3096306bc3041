// Private key decoding: PrivateKey::from_pem next to OpenSSL's generic PEM reader
// (PEM_read_bio_PrivateKey, which tries every decoder), per PEM label. The agent decodes
// one key per managed certificate at start-up. Prints figures; asserts nothing.
#include <benchmark/benchmark.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "crypto/key.hpp"

namespace {

using certdock::crypto::BioPtr;
using certdock::crypto::Curve;
using certdock::crypto::KeySpec;
using certdock::crypto::PemFormat;
using certdock::crypto::PKeyPtr;
using certdock::crypto::PrivateKey;

std::string make_pem(const KeySpec& spec, PemFormat format) {
    auto key = PrivateKey::generate(spec);
    auto pem = key ? key->to_pem(format) : certdock::Result<std::string>(std::string());
    if (!key || !pem) {
        std::cerr << "key_decode_bench: cannot make a " << spec.describe() << " key\n";
        std::exit(1);
    }
    return *pem;
}

void openssl_generic(benchmark::State& state, const KeySpec& spec, PemFormat format) {
    std::string pem = make_pem(spec, format);
    for (auto _ : state) {
        BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
        PKeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
        if (!key) state.SkipWithError("PEM_read_bio_PrivateKey failed");
        benchmark::DoNotOptimize(key.get());
    }
}

void certdock_from_pem(benchmark::State& state, const KeySpec& spec, PemFormat format) {
    std::string pem = make_pem(spec, format);
    for (auto _ : state) {
        auto key = PrivateKey::from_pem(pem);
        if (!key) state.SkipWithError("PrivateKey::from_pem failed");
        benchmark::DoNotOptimize(key);
    }
}

void register_case(const std::string& name, const KeySpec& spec, PemFormat format) {
    benchmark::RegisterBenchmark(("openssl_generic/" + name).c_str(), openssl_generic, spec, format)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("from_pem/" + name).c_str(), certdock_from_pem, spec, format)
        ->Unit(benchmark::kMicrosecond);
}

}  // namespace

int main(int argc, char** argv) {
    register_case("ec_p256_sec1", KeySpec::ecdsa(Curve::kP256), PemFormat::kTraditional);
    register_case("ec_p256_pkcs8", KeySpec::ecdsa(Curve::kP256), PemFormat::kPkcs8);
    register_case("rsa2048_pkcs1", KeySpec::rsa(2048), PemFormat::kTraditional);
    register_case("rsa2048_pkcs8", KeySpec::rsa(2048), PemFormat::kPkcs8);
    register_case("ed25519_pkcs8", KeySpec::ed25519(), PemFormat::kPkcs8);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
