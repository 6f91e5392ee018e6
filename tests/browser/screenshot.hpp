// Checks on the screenshot a browser test's script writes: it must be made by this run (the
// caller removes the old one first) and be a real PNG of the page's size, not an empty file.
#pragma once

#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace paddock::test {

// Removes an earlier run's screenshot at `path`, so that only this run can satisfy the checks.
inline void forgetScreenshot(const std::string& path) {
    std::filesystem::remove(path);
    REQUIRE_FALSE(std::filesystem::exists(path));
}

// The screenshot at `path` is a PNG of `width` x `height` pixels with more than a blank
// page's worth of bytes.
inline void checkScreenshot(const std::string& path, uint32_t width, uint32_t height, uintmax_t minBytes) {
    INFO("screenshot " << path);
    REQUIRE(std::filesystem::exists(path));
    const std::string png = readFile(path);
    INFO(png.size() << " bytes");
    // The signature, then the IHDR chunk: length 13, "IHDR", width and height big-endian.
    REQUIRE(png.size() > 24);
    CHECK(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
    CHECK(png.compare(12, 4, "IHDR") == 0);
    const auto be32 = [&](size_t at) {
        return (uint32_t(uint8_t(png[at])) << 24) | (uint32_t(uint8_t(png[at + 1])) << 16) | (uint32_t(uint8_t(png[at + 2])) << 8) |
               uint32_t(uint8_t(png[at + 3]));
    };
    CHECK(be32(16) == width);
    CHECK(be32(20) == height);
    CHECK(png.size() > minBytes);
}

}  // namespace paddock::test
