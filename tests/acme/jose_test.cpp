// Published vectors: RFC 7638 §3.1, RFC 7515 Appendix A.1-A.3, RFC 8037 Appendix A.1-A.5.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "acme/jose/jwa.hpp"
#include "acme/jose/jwk.hpp"
#include "acme/jose/jws.hpp"
#include "acme/jose_test_support.hpp"
#include "support/must.hpp"

namespace certdock::acme::jose {
namespace {

using nlohmann::json;
using test::b64u;
using test::must;

// A flattened JWS body from the three parts of a compact serialization.
std::string flattened(std::string_view protected_header, std::string_view payload,
                      std::string_view signature) {
    return json{{"protected", protected_header}, {"payload", payload}, {"signature", signature}}
        .dump();
}

TEST(Rfc7638, RsaThumbprint) {
    // §3.1: the members beyond kty/n/e ("alg", "kid") do not take part.
    json jwk = {{"kty", "RSA"},
                {"n",
                 "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhD"
                 "R1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6C"
                 "f0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1"
                 "n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1"
                 "jF44-csFCur-kEgU8awapJzKnqDKgw"},
                {"e", "AQAB"},
                {"alg", "RS256"},
                {"kid", "2011-04-29"}};
    auto key = must(public_key_from_jwk(jwk));
    EXPECT_EQ(jwk_thumbprint(key), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    // §3.3: the canonical form is the required members, sorted, without whitespace.
    EXPECT_EQ(public_jwk(key).dump(),
              "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"" + jwk["n"].get<std::string>() + "\"}");
}

TEST(Rfc7515, A1Hs256VerifiesAndReproduces) {
    const std::string header = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9";
    const std::string signature = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const Bytes key = b64u(test::rfc7515_a1_hmac_jwk()["k"].get<std::string>());

    auto jws = must(parse_jws(flattened(header, test::kRfc7515Payload, signature)));
    EXPECT_EQ(jws.algorithm, Algorithm::kHs256);
    EXPECT_EQ(jws.header["typ"], "JWT");
    EXPECT_EQ(jws.payload,
              "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
    EXPECT_TRUE(verify_jws_mac(jws, key).has_value());

    auto mac = must(create_mac(Algorithm::kHs256, key, jws.encoded.signing_input()));
    EXPECT_EQ(base64url_encode(mac), signature);
}

TEST(Rfc7515, A2Rs256ReproducesTheSignature) {
    const std::string header = "eyJhbGciOiJSUzI1NiJ9";
    const std::string signature =
        "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_"
        "O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLI"
        "ARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noO"
        "PqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQG"
        "e77Rw";
    auto key = test::rsa_private_key_from_jwk(test::rfc7515_a2_rsa_jwk());
    EXPECT_EQ(signature_algorithm_for(key.spec()), Algorithm::kRs256);

    // PKCS#1 v1.5 is deterministic: the same key and input give the published bytes.
    auto produced = must(create_signature(key, header + "." + std::string(test::kRfc7515Payload)));
    EXPECT_EQ(base64url_encode(produced), signature);

    json public_jwk_value = test::rfc7515_a2_rsa_jwk();
    for (const char* member : {"d", "p", "q", "dp", "dq", "qi"}) public_jwk_value.erase(member);
    auto public_key = must(public_key_from_jwk(public_jwk_value));
    EXPECT_EQ(public_jwk(public_key), public_jwk_value);
    EXPECT_TRUE(public_key.same_key(key.public_key()));
    auto jws = must(parse_jws(flattened(header, test::kRfc7515Payload, signature)));
    EXPECT_TRUE(verify_jws(jws, public_key).has_value());
}

TEST(Rfc7515, A3Es256Verifies) {
    const std::string header = "eyJhbGciOiJFUzI1NiJ9";
    const std::string signature =
        "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
    json public_jwk_value = test::rfc7515_a3_ec_jwk();
    public_jwk_value.erase("d");
    auto key = must(public_key_from_jwk(public_jwk_value));
    EXPECT_EQ(public_jwk(key), public_jwk_value);

    auto jws = must(parse_jws(flattened(header, test::kRfc7515Payload, signature)));
    EXPECT_EQ(jws.algorithm, Algorithm::kEs256);
    EXPECT_TRUE(verify_jws(jws, key).has_value());

    // ECDSA is randomized, so a fresh signature differs, but it must verify with the same key.
    auto private_key = test::ec_private_key_from_jwk(test::rfc7515_a3_ec_jwk());
    auto fresh = must(sign_jws(private_key, json::object(), "{}"));
    EXPECT_TRUE(verify_jws(must(parse_jws(fresh.serialize())), key).has_value());
}

TEST(Rfc8037, A1ToA3Ed25519KeyAndThumbprint) {
    auto key = test::ed25519_private_key_from_jwk(test::rfc8037_a1_ed25519_jwk());
    // A.2: the public key derived from the seed.
    json expected = {
        {"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}};
    EXPECT_EQ(public_jwk(key.public_key()), expected);
    // A.3
    EXPECT_EQ(jwk_thumbprint(key.public_key()), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    auto parsed = must(public_key_from_jwk(expected));
    EXPECT_TRUE(parsed.same_key(key.public_key()));
}

TEST(Rfc8037, A4SignsExactlyAndA5Verifies) {
    const std::string header = "eyJhbGciOiJFZERTQSJ9";
    const std::string payload = "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    const std::string signature =
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
    auto key = test::ed25519_private_key_from_jwk(test::rfc8037_a1_ed25519_jwk());

    // Our own serialization of {"alg":"EdDSA"} is byte-identical to the RFC's, so sign_jws
    // reproduces the whole JWS.
    auto jws = must(sign_jws(key, json::object(), "Example of Ed25519 signing"));
    EXPECT_EQ(jws.protected_header, header);
    EXPECT_EQ(jws.payload, payload);
    EXPECT_EQ(jws.signature, signature);

    auto parsed = must(parse_jws(flattened(header, payload, signature)));
    EXPECT_EQ(parsed.algorithm, Algorithm::kEdDsa);
    EXPECT_EQ(parsed.payload, "Example of Ed25519 signing");
    EXPECT_TRUE(verify_jws(parsed, key.public_key()).has_value());
}

TEST(Rfc8555, KeyAuthorizationAndDns01Value) {
    const std::string thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    const std::string token = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
    const std::string key_auth = key_authorization(token, thumbprint);
    EXPECT_EQ(key_auth, token + "." + thumbprint);
    // base64url(SHA-256(key_auth)), computed independently with Python's hashlib.
    EXPECT_EQ(dns01_txt_value(key_auth), "ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8");
}

}  // namespace
}  // namespace certdock::acme::jose
