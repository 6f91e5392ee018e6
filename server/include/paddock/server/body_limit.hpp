// Request bodies are read whole into memory, so their size is capped (server.max_body_bytes).
// A declared Content-Length over the cap is refused before reading; a chunked body is counted
// while it is read and cut off at the cap. Both give ErrorCode::PayloadTooLarge.
#pragma once

#include "paddock/core/result.hpp"

#include <cstdint>
#include <istream>
#include <optional>
#include <string>

namespace paddock::server {

// PayloadTooLarge when `declaredLength` exceeds `limit`.
Status checkDeclaredLength(std::optional<uint64_t> declaredLength, uint64_t limit);

// Reads the body from `in` until EOF; PayloadTooLarge once more than `limit` bytes arrive
// (the rest is left unread: the caller must not reuse the connection then).
Result<std::string> readLimitedBody(std::istream& in, uint64_t limit);

// Reads and drops at most `cap` bytes; true when EOF was reached (the connection may be reused).
bool discardBody(std::istream& in, uint64_t cap);

}  // namespace paddock::server
