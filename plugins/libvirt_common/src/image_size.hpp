// Virtual size of a disk image file on the local filesystem, for overlays whose base image is
// not a libvirt storage volume.
//
// Threading: reentrant. Errors: std::nullopt when the file does not exist; pdk::Error
// (PDK_ERR_INVALID_ARGUMENT) when it exists but is unreadable or not of `format`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace paddock::lvq {

// `format` "qcow2" reads the size from the header; anything else is the file's byte size.
std::optional<uint64_t> localImageVirtualSize(const std::string& path, const std::string& format);

}  // namespace paddock::lvq
