#pragma once

// What the JOSE tests share: private keys for the published vectors, built from their JWK
// members; generated keys; and a matcher for the ACME problem an error carries.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.hpp"
#include "base/result.hpp"
#include "crypto/key.hpp"

namespace certdock::test {

// RSA private key from a JWK with n, e, d, p, q, dp, dq, qi (RFC 7518 §6.3.2).
crypto::PrivateKey rsa_private_key_from_jwk(const nlohmann::json& jwk);
// EC private key from a JWK with crv, x, y, d.
crypto::PrivateKey ec_private_key_from_jwk(const nlohmann::json& jwk);
// Ed25519 private key from a JWK's d (the 32-byte seed).
crypto::PrivateKey ed25519_private_key_from_jwk(const nlohmann::json& jwk);

// One generated key per kind, shared by every test in the binary: RSA generation is slow and
// the tests only need a key, not a fresh one.
const crypto::PrivateKey& shared_key(const crypto::KeySpec& spec);

// The supported account key kinds, for parameterized tests.
std::vector<crypto::KeySpec> account_key_specs();

// Test name for a KeySpec parameter: its token with '_' for '-' ("ecdsa_p256").
std::string key_spec_name(const ::testing::TestParamInfo<crypto::KeySpec>& param);

// Decodes base64url, aborting the test binary on bad input (test data is trusted).
Bytes b64u(std::string_view text);

// Success when `result` failed with the ACME problem urn:ietf:params:acme:error:<type> and a
// message containing `fragment`; otherwise says what came back instead.
template <typename T>
::testing::AssertionResult fails_with(const Result<T>& result, std::string_view type,
                                      std::string_view fragment = {});

// Flips bit 0 of byte `index` of the decoded base64url `text`, re-encoding the result.
std::string flip_byte(std::string_view text, std::size_t index);

// The RFC 7515 Appendix A keys and shared payload.
nlohmann::json rfc7515_a1_hmac_jwk();
nlohmann::json rfc7515_a2_rsa_jwk();
nlohmann::json rfc7515_a3_ec_jwk();
nlohmann::json rfc8037_a1_ed25519_jwk();
// base64url of {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
inline constexpr std::string_view kRfc7515Payload =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
    "cnVlfQ";

::testing::AssertionResult error_is(const Error& error, std::string_view type,
                                    std::string_view fragment);

template <typename T>
::testing::AssertionResult fails_with(const Result<T>& result, std::string_view type,
                                      std::string_view fragment) {
    if (result.has_value()) return ::testing::AssertionFailure() << "succeeded unexpectedly";
    return error_is(result.error(), type, fragment);
}

}  // namespace certdock::test
