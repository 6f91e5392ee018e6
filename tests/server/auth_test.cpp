#include "paddock/server/auth.hpp"

#include "result_checks.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

using namespace paddock;
using namespace paddock::server;

namespace {

AuthConfig tokenConfig() {
    AuthConfig auth;
    auth.mode = AuthMode::Token;
    auth.tokens = {{"alice", "alice-secret", Role::Admin, {}},
                   {"ops", "ops-secret", Role::Operator, {}},
                   {"watcher", "view-secret", Role::Viewer, {}}};
    return auth;
}

mode_t fileMode(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("auth mode none makes everyone the admin 'anonymous'", "[auth]") {
    AuthConfig auth;
    auth.mode = AuthMode::None;
    auto a = Authenticator::create(auth, {});
    REQUIRE(a.ok());
    auto id = a.value().authenticate("/api/v1/vms", "");
    REQUIRE(id.ok());
    CHECK(id.value().name == "anonymous");
    CHECK(id.value().role == Role::Admin);
    CHECK(a.value().authenticate("/api/v1/vms", "Bearer whatever").ok());
}

TEST_CASE("bearer tokens identify the caller by token name and role", "[auth]") {
    auto a = Authenticator::create(tokenConfig(), {"/healthz"});
    REQUIRE(a.ok());
    const auto& auth = a.value();

    auto alice = auth.authenticate("/api/v1/vms", "Bearer alice-secret");
    REQUIRE(alice.ok());
    CHECK(alice.value().name == "alice");
    CHECK(alice.value().role == Role::Admin);
    auto ops = auth.authenticate("/api/v1/vms", "bearer   ops-secret ");
    REQUIRE(ops.ok());
    CHECK(ops.value().name == "ops");
    CHECK(ops.value().role == Role::Operator);

    for (const char* header : {"", "Bearer", "Bearer ", "Bearer wrong", "Basic YWxpY2U6eA==", "alice-secret",
                               "Bearer alice-secre", "Bearer alice-secrett"}) {
        auto denied = auth.authenticate("/api/v1/vms", header);
        REQUIRE_FALSE(denied.ok());
        CHECK(failure(denied).code == ErrorCode::Unauthorized);
        CHECK_THAT(failure(denied).message, !Catch::Contains("secret"));
    }
}

TEST_CASE("public paths need no token; a valid token still names the caller", "[auth]") {
    auto a = Authenticator::create(tokenConfig(), {"/healthz", "/static/*"});
    REQUIRE(a.ok());
    const auto& auth = a.value();
    CHECK(auth.isPublic("/healthz"));
    CHECK(auth.isPublic("/static/swagger-ui/x.js"));
    CHECK_FALSE(auth.isPublic("/healthz/x"));
    CHECK_FALSE(auth.isPublic("/static"));
    CHECK_FALSE(auth.isPublic("/api/v1/vms"));

    auto anonymous = auth.authenticate("/healthz", "");
    REQUIRE(anonymous.ok());
    CHECK(anonymous.value().name == "anonymous");
    CHECK(anonymous.value().role == Role::Viewer);
    CHECK(auth.authenticate("/healthz", "Bearer wrong").ok());
    CHECK(auth.authenticate("/healthz", "Bearer ops-secret").value().name == "ops");
}

TEST_CASE("roles are ordered admin > operator > viewer", "[auth]") {
    const Identity viewer{"v", Role::Viewer, false, {}}, op{"o", Role::Operator, false, {}},
        admin{"a", Role::Admin, false, {}};
    CHECK(authorize(viewer, Role::Viewer).ok());
    CHECK_FALSE(authorize(viewer, Role::Operator).ok());
    CHECK(failure(authorize(viewer, Role::Operator)).code == ErrorCode::Forbidden);
    CHECK(authorize(op, Role::Operator).ok());
    CHECK_FALSE(authorize(op, Role::Admin).ok());
    CHECK(authorize(admin, Role::Admin).ok());
    CHECK(parseRole("operator") == Role::Operator);
    CHECK_FALSE(parseRole("root").has_value());
    CHECK(roleName(Role::Viewer) == "viewer");
}

// An unknown role cannot reach the Authenticator: the config parses roles (config_test.cpp).
TEST_CASE("token configuration errors name the entry", "[auth]") {
    AuthConfig auth;
    auth.tokens = {{"ok", "t1", Role::Admin, {}}, {"", "t", Role::Admin, {}}};
    auto a = Authenticator::create(auth, {});
    CHECK_THAT(failure(a).message, Catch::Contains("auth.tokens[1].name"));
    auth.tokens = {{"", "t", Role::Admin, {}}};
    CHECK_FALSE(Authenticator::create(auth, {}).ok());
    auth.tokens = {{"n", "", Role::Admin, {}}};
    CHECK_FALSE(Authenticator::create(auth, {}).ok());
}

TEST_CASE("constantTimeEquals compares whole strings", "[auth]") {
    CHECK(constantTimeEquals("abc", "abc"));
    CHECK_FALSE(constantTimeEquals("abc", "abd"));
    CHECK_FALSE(constantTimeEquals("abc", "ab"));
    CHECK_FALSE(constantTimeEquals("ab", "abc"));
    CHECK_FALSE(constantTimeEquals("", "abc"));
    CHECK_FALSE(constantTimeEquals("abc", ""));
    CHECK(constantTimeEquals("", ""));
    CHECK_FALSE(constantTimeEquals("abcabc", "abc"));
}

TEST_CASE("the generated admin token is 64 hex chars in a 0600 file and reused", "[auth]") {
    test::TempDir dir;
    const std::string state = dir.file("state/nested");
    auto first = ensureAdminToken(state);
    REQUIRE(first.ok());
    CHECK(first.value().size() == 64);
    CHECK(first.value().find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(fileMode(adminTokenPath(state)) == 0600);
    CHECK(test::readFile(adminTokenPath(state)) == first.value() + "\n");

    auto again = ensureAdminToken(state);
    REQUIRE(again.ok());
    CHECK(again.value() == first.value());

    ::chmod(adminTokenPath(state).c_str(), 0644);
    REQUIRE(ensureAdminToken(state).ok());
    CHECK(fileMode(adminTokenPath(state)) == 0600);

    test::TempDir other;
    auto different = ensureAdminToken(other.path());
    REQUIRE(different.ok());
    CHECK(different.value() != first.value());

    auto withToken = Authenticator::create(AuthConfig{}, {}, first.value());
    REQUIRE(withToken.ok());
    auto id = withToken.value().authenticate("/api/v1/vms", "Bearer " + first.value());
    REQUIRE(id.ok());
    CHECK(id.value().name == "admin");
    CHECK(id.value().role == Role::Admin);
}

TEST_CASE("a corrupt admin token file is an error, not silently replaced", "[auth]") {
    test::TempDir dir;
    test::writeFile(adminTokenPath(dir.path()), "not a token\n");
    auto token = ensureAdminToken(dir.path());
    REQUIRE_FALSE(token.ok());
    CHECK_THAT(failure(token).message, Catch::Contains("admin.token"));
}

TEST_CASE("WebSocket origins: same origin or listed; no match otherwise", "[auth][websocket]") {
    const std::vector<std::string> none;
    CHECK(originAllowed("http://127.0.0.1:8000", "127.0.0.1:8000", none));
    CHECK(originAllowed("HTTP://Paddock.Example:8000", "paddock.example:8000", none));
    CHECK(originAllowed("http://paddock.example", "paddock.example:80", none));
    CHECK(originAllowed("https://paddock.example", "paddock.example", none));
    CHECK(originAllowed("http://[::1]:8000", "[::1]:8000", none));
    CHECK_FALSE(originAllowed("http://127.0.0.1:8001", "127.0.0.1:8000", none));
    CHECK_FALSE(originAllowed("https://paddock.example", "paddock.example:80", none));
    CHECK_FALSE(originAllowed("http://evil.example", "paddock.example", none));
    CHECK_FALSE(originAllowed("null", "paddock.example", none));
    CHECK_FALSE(originAllowed("http://paddock.example", "", none));
    CHECK_FALSE(originAllowed("http://paddock.example/path", "paddock.example", none));

    const std::vector<std::string> listed = {"https://lab.example.org/", "http://localhost:3000"};
    CHECK(originAllowed("https://lab.example.org", "paddock.example", listed));
    CHECK(originAllowed("HTTPS://LAB.example.org", "paddock.example", listed));
    CHECK(originAllowed("http://localhost:3000", "paddock.example", listed));
    CHECK_FALSE(originAllowed("http://localhost:3001", "paddock.example", listed));
    CHECK_FALSE(originAllowed("https://lab.example.org.evil", "paddock.example", listed));
}
