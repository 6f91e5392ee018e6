#include "image_size.hpp"

#include <paddock/cpp/backend.hpp>

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace paddock::lvq {

std::optional<uint64_t> localImageVirtualSize(const std::string& path, const std::string& format) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return std::nullopt;
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "cannot stat " + path + ": " + std::strerror(errno));
    }
    if (format != "qcow2") return static_cast<uint64_t>(st.st_size);

    // qcow2 header: magic "QFI\xfb" at 0, big-endian 64-bit virtual size at offset 24.
    std::ifstream in(path, std::ios::binary);
    std::array<unsigned char, 32> header{};
    if (!in.read(reinterpret_cast<char*>(header.data()), header.size()))
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "cannot read the qcow2 header of " + path);
    if (std::memcmp(header.data(), "QFI\xfb", 4) != 0)
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, path + " is not a qcow2 image");
    uint64_t size = 0;
    for (size_t i = 24; i < 32; ++i) size = (size << 8) | header[i];
    return size;
}

}  // namespace paddock::lvq
