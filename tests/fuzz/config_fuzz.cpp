// core/base config: parseConfig(yaml, env). The input is YAML text, then optionally a NUL byte
// and environment overrides, one NAME=VALUE per line (PADDOCK_ is prepended to names that lack
// it; at most 8 are read). A configuration that parses must keep every promise the loader's
// checks make, whether a value came from the file or from the environment.
#include "fuzz_support.hpp"

#include "paddock/core/config.hpp"
#include "paddock/core/names.hpp"

#include <set>

namespace {

using namespace paddock;

Environment environmentOf(std::string_view text) {
    Environment env;
    while (!text.empty() && env.size() < 8) {
        const size_t newline = text.find('\n');
        const std::string_view line = text.substr(0, newline);
        text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
        const size_t eq = line.find('=');
        if (eq == std::string_view::npos) continue;
        std::string name(line.substr(0, eq));
        if (!name.starts_with("PADDOCK_")) name = "PADDOCK_" + name;
        env[name] = std::string(line.substr(eq + 1));
    }
    return env;
}

void checkConfig(const Config& c) {
    FUZZ_CHECK(c.server.port >= 1 && !c.server.host.empty());
    FUZZ_CHECK(c.server.websocket_idle_timeout_s > c.server.websocket_ping_interval_s);
    for (const auto& p : c.server.public_paths) FUZZ_CHECK(!p.empty() && p.front() == '/');
    for (const auto& d : c.paths.plugin_dirs) FUZZ_CHECK(!d.empty());
    std::set<std::string> tokenNames, tokens;
    for (const auto& t : c.auth.tokens) {
        FUZZ_CHECK(tokenNames.insert(t.name).second && tokens.insert(t.token).second);
        if (c.auth.mode == AuthMode::Token) FUZZ_CHECK(t.token.size() >= 16);
    }
    FUZZ_CHECK(!c.sites.empty());
    std::set<std::string> sites, pools;
    for (const auto& s : c.sites) {
        FUZZ_CHECK(validateName(s.name).ok() && sites.insert(s.name).second);
        FUZZ_CHECK(s.ssh_port_min <= s.ssh_port_max && s.ssh_port_min >= 1024);
        std::set<std::string> templates;
        for (const auto& t : s.templates) {
            FUZZ_CHECK(validateName(t.name).ok() && templates.insert(t.name).second);
            FUZZ_CHECK(!t.kernel.empty() || (t.initrd.empty() && t.cmdline.empty()));
        }
        if (!s.default_template.empty()) FUZZ_CHECK(templates.count(s.default_template) == 1);
        for (const auto& p : s.pools) {
            FUZZ_CHECK(validateName(p.name).ok() && p.name.size() <= 54 && pools.insert(p.name).second);
            FUZZ_CHECK(findTemplate(s, p.template_name) != nullptr);
            FUZZ_CHECK(p.min_idle <= p.max_total && p.default_ttl_s <= p.max_ttl_s);
        }
        // The URI libvirt opens is the configured one, extended only by parameters.
        const std::string uri = connectionUri(s);
        FUZZ_CHECK(uri.rfind(s.uri.substr(0, s.uri.find_first_of("?#")), 0) == 0);
        FUZZ_CHECK(uri.find_first_of(" \t\r\n") == std::string::npos);
        FUZZ_CHECK(s.ssh_key.empty() || uri.find("keyfile=") != std::string::npos);
        FUZZ_CHECK(!s.ssh_forward_address.empty());
    }
    for (const auto& p : c.pools) {
        FUZZ_CHECK(validateName(p.name).ok() && p.name.size() <= 54 && pools.insert(p.name).second);
        FUZZ_CHECK(p.min_idle <= p.max_total && p.default_ttl_s <= p.max_ttl_s);
        const auto spanned = poolSites(c, p);
        FUZZ_CHECK(!spanned.empty());
        for (const SiteConfig* s : spanned) FUZZ_CHECK(findTemplate(*s, p.template_name) != nullptr);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input = fuzz::asText(data, size);
    const size_t nul = input.find('\0');
    const std::string yaml(input.substr(0, nul));
    const Environment env = nul == std::string_view::npos ? Environment() : environmentOf(input.substr(nul + 1));

    const auto config = parseConfig(yaml, env, "fuzz.yaml");
    if (config)
        checkConfig(config.value());
    else
        FUZZ_CHECK(config.error().code == ErrorCode::InvalidArgument && !config.error().message.empty());
    return 0;
}
