#include "paddock/server/static_files.hpp"

#include "result_checks.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace paddock;
using namespace paddock::server;

TEST_CASE("content types follow the extension", "[static_files]") {
    CHECK(contentTypeFor("swagger-ui-bundle.js") == "application/javascript; charset=utf-8");
    CHECK(contentTypeFor("swagger-ui.css") == "text/css; charset=utf-8");
    CHECK(contentTypeFor("docs.html") == "text/html; charset=utf-8");
    CHECK(contentTypeFor("favicon-32x32.png") == "image/png");
    CHECK(contentTypeFor("x.js.map") == "application/json");
    CHECK(contentTypeFor("README") == "application/octet-stream");
}

TEST_CASE("files under the root are served; nothing outside it is", "[static_files]") {
    test::TempDir dir;
    const std::string root = dir.file("root");
    std::filesystem::create_directories(root + "/sub");
    test::writeFile(root + "/app.js", "console.log(1)");
    test::writeFile(root + "/sub/page.html", "<p>");
    test::writeFile(root + "/.secret", "no");
    test::writeFile(dir.file("outside.txt"), "outside");
    std::filesystem::create_symlink(dir.file("outside.txt"), root + "/link.txt");

    auto js = serveFile(root, "app.js");
    REQUIRE(js.ok());
    CHECK(js.value().status == 200);
    CHECK(js.value().body == "console.log(1)");
    CHECK(js.value().contentType == "application/javascript; charset=utf-8");
    CHECK(serveFile(root, "sub/page.html").value().body == "<p>");

    for (const char* bad : {"../outside.txt", "sub/../../outside.txt", "sub/../app.js", "./app.js", ".secret",
                            "/etc/passwd", "sub\\page.html", "link.txt", "sub", "missing.js", "", "sub/"}) {
        auto r = serveFile(root, bad);
        INFO(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(failure(r).code == ErrorCode::NotFound);
    }
    CHECK_FALSE(serveFile(root, std::string("app.js\0x", 8)).ok());
    CHECK_FALSE(serveFile(dir.file("no-such-root"), "app.js").ok());
}
