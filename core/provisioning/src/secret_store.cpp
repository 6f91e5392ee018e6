#include "paddock/core/secret_store.hpp"

#include "paddock/core/utf8.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace paddock {

void wipeBytes(void* data, size_t size) noexcept {
    if (data != nullptr && size > 0) ::explicit_bzero(data, size);
}

SecretBytes::SecretBytes(std::span<const unsigned char> bytes) : data_(new unsigned char[bytes.size() + 1]), size_(bytes.size()) {
    if (!bytes.empty()) std::memcpy(data_.get(), bytes.data(), bytes.size());
    data_[size_] = 0;
}

SecretBytes::~SecretBytes() { wipe(); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : data_(std::move(other.data_)), size_(other.size_) {
    other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
        wipe();
        data_ = std::move(other.data_);
        size_ = other.size_;
        other.size_ = 0;
    }
    return *this;
}

void SecretBytes::wipe() noexcept {
    if (data_) wipeBytes(data_.get(), size_ + 1);
    size_ = 0;
}

SecretStore::SecretStore() {
    // Kept out of swap where the process may lock memory; a failure only loses that.
    locked_ = ::mlock(buffer_.data(), buffer_.size()) == 0;
}

SecretStore::~SecretStore() {
    clear();
    if (locked_) ::munlock(buffer_.data(), buffer_.size());
}

Status SecretStore::set(std::string_view secret) {
    if (secret.empty()) return makeError(ErrorCode::InvalidArgument, "the password is empty");
    if (secret.size() > kMaxBytes)
        return makeError(ErrorCode::InvalidArgument,
                         "the password is longer than " + std::to_string(kMaxBytes) + " bytes");
    if (secret.find_first_of(std::string_view("\0\n\r", 3)) != std::string_view::npos)
        return makeError(ErrorCode::InvalidArgument, "the password holds a NUL or a line break");
    if (!isValidUtf8(secret)) return makeError(ErrorCode::InvalidArgument, "the password is not valid UTF-8");
    std::lock_guard lock(mutex_);
    wipeBytes(buffer_.data(), buffer_.size());
    std::memcpy(buffer_.data(), secret.data(), secret.size());
    size_ = secret.size();
    setAt_ = std::chrono::system_clock::now();
    return {};
}

bool SecretStore::clear() noexcept {
    std::lock_guard lock(mutex_);
    const bool was = size_ > 0;
    wipeBytes(buffer_.data(), buffer_.size());
    size_ = 0;
    setAt_.reset();
    return was;
}

bool SecretStore::isSet() const {
    std::lock_guard lock(mutex_);
    return size_ > 0;
}

std::optional<SystemTime> SecretStore::setAt() const {
    std::lock_guard lock(mutex_);
    return setAt_;
}

SecretBytes SecretStore::copy() const {
    std::lock_guard lock(mutex_);
    return SecretBytes(std::span<const unsigned char>(buffer_.data(), size_));
}

namespace {

void replaceAll(std::string& text, std::string_view what, std::string_view with) {
    if (what.empty()) return;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size()))
        text.replace(at, what.size(), with);
}

void appendU16(std::string& out, uint32_t unit) {
    static const char* hex = "0123456789abcdef";
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += hex[(unit >> shift) & 0xF];
}

// The secret's spelling inside a JSON string, as Python's json.dumps writes it: with
// `asciiOnly` (ensure_ascii, the default) every non-ASCII character as \uXXXX (surrogate pairs
// beyond the BMP). Written by hand rather than with JsonWriter so that no buffer we do not wipe
// ever holds the secret.
std::string jsonSpelling(std::string_view secret, bool asciiOnly) {
    std::string out;
    out.reserve(secret.size() * 12);  // the longest spelling: no reallocation leaves a copy behind
    for (size_t i = 0; i < secret.size();) {
        const auto c = static_cast<unsigned char>(secret[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20) {
            appendU16(out, c);
        } else if (c >= 0x80 && asciiOnly) {
            const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (i + len > secret.size()) break;  // set() admits valid UTF-8 only
            uint32_t cp = c & (len == 4 ? 0x07 : len == 3 ? 0x0F : 0x1F);
            for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(secret[i + k]) & 0x3F);
            if (cp >= 0x10000) {
                cp -= 0x10000;
                appendU16(out, 0xD800 + (cp >> 10));
                appendU16(out, 0xDC00 + (cp & 0x3FF));
            } else {
                appendU16(out, cp);
            }
            i += len;
            continue;
        } else {
            out += static_cast<char>(c);
        }
        ++i;
    }
    return out;
}

}  // namespace

std::string redactSecret(std::string_view line, std::string_view secret) {
    std::string out(line);
    if (secret.empty()) return out;
    static constexpr std::string_view kMask = "********";
    replaceAll(out, secret, kMask);
    for (const bool asciiOnly : {false, true}) {
        std::string spelled = jsonSpelling(secret, asciiOnly);
        if (spelled != secret) replaceAll(out, spelled, kMask);
        wipeBytes(spelled.data(), spelled.size());
    }
    return out;
}

}  // namespace paddock
