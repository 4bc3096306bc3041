#include "base/encoding.hpp"

#include <array>

namespace certdock {
namespace {

constexpr std::string_view kStandardAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(const std::uint8_t* data, size_t size, std::string_view alphabet, bool pad) {
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < size; i += 3) {
        std::uint32_t n = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += alphabet[n & 63];
    }
    if (size_t rest = size - i; rest > 0) {
        std::uint32_t n = data[i] << 16;
        if (rest == 2) n |= data[i + 1] << 8;
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        if (rest == 2) out += alphabet[(n >> 6) & 63];
        if (pad) out.append(rest == 1 ? 2 : 1, '=');
    }
    return out;
}

std::array<int, 256> reverse_table(std::string_view alphabet) {
    std::array<int, 256> table{};
    table.fill(-1);
    for (size_t i = 0; i < alphabet.size(); ++i) {
        table[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
    }
    return table;
}

// Decodes unpadded input; `name` is used in error messages.
Result<Bytes> decode(std::string_view text, const std::array<int, 256>& table,
                     std::string_view name) {
    if (text.size() % 4 == 1) {
        return fail(ErrorCategory::kInput, std::string(name) + " input has an impossible length (" +
                                               std::to_string(text.size()) + " characters)");
    }
    Bytes out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        int v = table[static_cast<unsigned char>(text[i])];
        if (v < 0) {
            return fail(ErrorCategory::kInput, std::string(name) +
                                                   " input has an invalid character at offset " +
                                                   std::to_string(i));
        }
        buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((buffer >> bits) & 0xff));
        }
    }
    // Leftover bits must be zero, otherwise two encodings would decode to the same bytes.
    if (bits > 0 && (buffer & ((1U << bits) - 1)) != 0) {
        return fail(ErrorCategory::kInput,
                    std::string(name) + " input is not canonical (non-zero trailing bits)");
    }
    return out;
}

}  // namespace

std::string base64_encode(const Bytes& data) {
    return encode(data.data(), data.size(), kStandardAlphabet, true);
}

Result<Bytes> base64_decode(std::string_view text) {
    static const auto table = reverse_table(kStandardAlphabet);
    std::string compact;
    compact.reserve(text.size());
    for (char c : text) {
        if (c != '\n' && c != '\r' && c != ' ' && c != '\t') compact += c;
    }
    size_t padding = 0;
    while (!compact.empty() && compact.back() == '=' && padding < 2) {
        compact.pop_back();
        ++padding;
    }
    if (padding > 0 && (compact.size() + padding) % 4 != 0) {
        return fail(ErrorCategory::kInput, "base64 input has wrong padding");
    }
    return decode(compact, table, "base64");
}

std::string base64url_encode(const Bytes& data) {
    return encode(data.data(), data.size(), kUrlAlphabet, false);
}

std::string base64url_encode(std::string_view data) {
    return encode(reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), kUrlAlphabet,
                  false);
}

Result<Bytes> base64url_decode(std::string_view text) {
    static const auto table = reverse_table(kUrlAlphabet);
    if (text.find('=') != std::string_view::npos) {
        return fail(ErrorCategory::kInput, "base64url input must not be padded with '='");
    }
    return decode(text, table, "base64url");
}

std::string hex_encode(const Bytes& data) {
    static constexpr std::string_view kDigits = "0123456789abcdef";
    std::string out;
    out.reserve(data.size() * 2);
    for (std::uint8_t b : data) {
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    return out;
}

std::string hex_colon_encode(const Bytes& data) {
    static constexpr std::string_view kDigits = "0123456789ABCDEF";
    std::string out;
    for (std::uint8_t b : data) {
        if (!out.empty()) out += ':';
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    return out;
}

Result<Bytes> hex_decode(std::string_view text) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string compact;
    for (char c : text) {
        if (c != ':') compact += c;
    }
    if (compact.size() % 2 != 0)
        return fail(ErrorCategory::kInput, "hex input has an odd number of digits");
    Bytes out;
    out.reserve(compact.size() / 2);
    for (size_t i = 0; i < compact.size(); i += 2) {
        int hi = nibble(compact[i]);
        int lo = nibble(compact[i + 1]);
        if (hi < 0 || lo < 0)
            return fail(ErrorCategory::kInput, "hex input has a non-hex character");
        out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    }
    return out;
}

}  // namespace certdock
