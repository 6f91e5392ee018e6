#include "paddock/cli/commands.hpp"

#include "paddock/cli/api_client.hpp"
#include "paddock/cli/args.hpp"
#include "paddock/cli/cast.hpp"
#include "paddock/cli/console.hpp"
#include "paddock/cli/exit_codes.hpp"
#include "paddock/cli/views.hpp"
#include "paddock/core/json_writer.hpp"
#include "paddock/server/json.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

namespace paddock::cli {

namespace {

struct Context {
    const ParsedArgs& args;
    const ApiClient& client;
    std::string format;  // table | wide | json
};

int fail(const Error& error) {
    std::cerr << "paddock: " << error.message << "\n";
    return static_cast<int>(exitCodeForError(error.code));
}

int usageError(const std::string& message) {
    std::cerr << "paddock: " << message << "\n";
    return static_cast<int>(ExitCode::Usage);
}

Result<std::string> readTokenFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return makeError(ErrorCode::InvalidArgument, "cannot read the token file " + path);
    std::string token;
    char buffer[4096];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        token.append(buffer, static_cast<size_t>(in.gcount()));
        if (token.size() > 64 * 1024) return makeError(ErrorCode::InvalidArgument, "the token file " + path + " is too large");
    }
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) return makeError(ErrorCode::InvalidArgument, "the token file " + path + " is empty");
    if (token.find_first_of("\r\n") != std::string::npos)
        return makeError(ErrorCode::InvalidArgument, "the token file " + path + " holds more than one line");
    return token;
}

// A 2xx answer's JSON, or the answer's error.
Result<rapidjson::Document> call(const Context& ctx, const std::string& method, const std::string& path,
                                 const std::optional<std::string>& body = std::nullopt,
                                 const std::vector<std::pair<std::string, std::string>>& headers = {},
                                 std::string* raw = nullptr) {
    auto reply = ctx.client.request(method, path, body, headers);
    if (!reply) return std::move(reply).error();
    if (reply->status < 200 || reply->status >= 300) return errorFromReply(*reply);
    auto doc = server::parseJsonValue(reply->body);
    if (!doc)
        return makeError(ErrorCode::InvalidArgument, "unexpected answer from the server (HTTP " +
                                                         std::to_string(reply->status) + "): " + doc.error().message);
    if (raw) *raw = std::move(reply->body);
    return doc;
}

// -o json: the answer as the API wrote it. Otherwise `view` of it.
int show(const Context& ctx, const std::string& method, const std::string& path,
         const std::function<Result<Table>(const rapidjson::Value&, bool)>& view,
         const std::optional<std::string>& body = std::nullopt,
         const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    std::string raw;
    auto doc = call(ctx, method, path, body, headers, &raw);
    if (!doc) return fail(doc.error());
    if (ctx.format == "json") {
        std::cout << raw;
        if (raw.empty() || raw.back() != '\n') std::cout << '\n';
        return 0;
    }
    auto table = view(*doc, ctx.format == "wide");
    if (!table) return fail(table.error());
    std::cout << renderTable(*table);
    return 0;
}

// The member `name` of an answer object, shown field by field.
std::function<Result<Table>(const rapidjson::Value&, bool)> member(const char* name) {
    return [name](const rapidjson::Value& answer, bool) -> Result<Table> {
        if (!answer.IsObject() || !answer.HasMember(name))
            return makeError(ErrorCode::InvalidArgument,
                             std::string("unexpected answer from the server: no \"") + name + "\" in it");
        return objectTable(answer[name]);
    };
}

Result<Table> whole(const rapidjson::Value& answer, bool) { return objectTable(answer); }

std::string query(std::initializer_list<std::pair<const char*, std::optional<std::string>>> params) {
    std::string q;
    for (const auto& [name, value] : params) {
        if (!value) continue;
        q += q.empty() ? '?' : '&';
        q.append(name).append("=").append(urlEncode(*value));
    }
    return q;
}

Result<uint64_t> unsignedOption(const ParsedArgs& args, const std::string& name, uint64_t max) {
    const std::string text = *args.get(name);
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 12 ||
        std::stoull(text) > max)
        return makeError(ErrorCode::InvalidArgument, "--" + name + " needs a whole number up to " + std::to_string(max) +
                                                         ", not '" + text + "'");
    return std::stoull(text);
}

Result<double> positiveOption(const ParsedArgs& args, const std::string& name) {
    const std::string text = *args.get(name);
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(value) || value <= 0)
        return makeError(ErrorCode::InvalidArgument, "--" + name + " needs a number > 0, not '" + text + "'");
    return value;
}

// Waits until the VM answers SSH or its readiness will not change by itself any more.
int waitReady(const Context& ctx, const std::string& name) {
    const std::string path = "/api/v1/vms/" + urlEncode(name);
    for (;;) {
        auto doc = call(ctx, "GET", path);
        if (!doc) return fail(doc.error());
        const auto& vm = (*doc)["vm"];
        const std::string readiness = cell(vm, "readiness");
        const auto provisioning = vm.IsObject() && vm.HasMember("provisioning") ? cell(vm["provisioning"], "state") : "-";
        const bool provisioningRuns = provisioning == "pending" || provisioning == "running";
        if (readiness != "booting" && !provisioningRuns) {
            if (readiness == "unreachable") {
                std::cerr << "paddock: " << name << " is unreachable: " << cell(vm, "readiness_error") << "\n";
                return static_cast<int>(ExitCode::Unavailable);
            }
            if (provisioning == "failed") {
                std::cerr << "paddock: provisioning " << name << " failed\n";
                return static_cast<int>(ExitCode::Failure);
            }
            return 0;
        }
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
}

int vmCreate(const Context& ctx) {
    const auto& a = ctx.args;
    JsonWriter json;
    json.beginObject().field("name", a.operands[0]);
    if (const auto t = a.get("template")) json.field("template", *t);
    if (a.has("vcpus")) {
        auto n = unsignedOption(a, "vcpus", 1024);
        if (!n) return usageError(n.error().message);
        json.field("vcpus", *n);
    }
    if (a.has("memory")) {
        auto n = unsignedOption(a, "memory", 1u << 24);
        if (!n) return usageError(n.error().message);
        json.field("memory_mb", *n);
    }
    if (const auto o = a.get("owner")) json.field("owner", *o);
    if (const auto s = a.get("site")) json.field("site", *s);
    if (a.has("no-start")) json.field("start", false);
    if (a.has("provision")) json.field("provision", true);
    json.endObject();
    std::string raw;
    auto doc = call(ctx, "POST", "/api/v1/vms", json.str(), {}, &raw);
    if (!doc) return fail(doc.error());
    if (a.has("wait") && !a.has("no-start")) {
        const int waited = waitReady(ctx, a.operands[0]);
        if (waited != 0) return waited;
        auto fresh = call(ctx, "GET", "/api/v1/vms/" + urlEncode(a.operands[0]), std::nullopt, {}, &raw);
        if (!fresh) return fail(fresh.error());
        doc = std::move(fresh);
    }
    if (ctx.format == "json") {
        std::cout << raw << "\n";
        return 0;
    }
    auto table = member("vm")(*doc, false);
    if (!table) return fail(table.error());
    std::cout << renderTable(*table);
    return 0;
}

int vmRm(const Context& ctx) {
    const std::string& name = ctx.args.operands[0];
    if (!ctx.args.has("yes")) {
        if (!::isatty(STDIN_FILENO))
            return usageError("refusing to delete " + name + " without a terminal to confirm on; add --yes");
        std::cerr << "Delete VM " << name << " and its disk? [y/N] " << std::flush;
        std::string answer;
        if (!std::getline(std::cin, answer) || (answer != "y" && answer != "Y" && answer != "yes")) {
            std::cerr << "Not deleted.\n";
            return static_cast<int>(ExitCode::Failure);
        }
    }
    return show(ctx, "DELETE", "/api/v1/vms/" + urlEncode(name), whole);
}

int poolAllocate(const Context& ctx) {
    const auto& a = ctx.args;
    JsonWriter json;
    json.beginObject();
    if (const auto o = a.get("owner")) json.field("owner", *o);
    if (a.has("ttl")) {
        auto n = unsignedOption(a, "ttl", 10ull * 365 * 86400);
        if (!n) return usageError(n.error().message);
        json.field("ttl_s", *n);
    }
    json.endObject();
    std::vector<std::pair<std::string, std::string>> headers;
    if (const auto key = a.get("idempotency-key")) headers.emplace_back("Idempotency-Key", *key);
    return show(ctx, "POST", "/api/v1/pools/" + urlEncode(a.operands[0]) + "/allocate", whole, json.str(), headers);
}

int leaseExtend(const Context& ctx) {
    const auto& a = ctx.args;
    const std::string name = a.has("ttl") ? "ttl" : a.has("seconds") ? "seconds" : "";
    if (name.empty()) return usageError("'lease extend' needs --ttl SECONDS");
    auto n = unsignedOption(a, name, 10ull * 365 * 86400);
    if (!n) return usageError(n.error().message);
    JsonWriter json;
    json.beginObject().field("ttl_s", *n).endObject();
    return show(ctx, "POST", "/api/v1/leases/" + urlEncode(a.operands[0]) + "/extend", whole, json.str());
}

// A session id is what the API accepts; anything else that names a file is played from disk.
bool looksLikeSessionId(const std::string& text) {
    if (text.empty() || text.size() > 128 || text[0] == '.') return false;
    return text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == std::string::npos;
}

int sessionPlay(const Context& ctx) {
    const auto& a = ctx.args;
    PlayOptions options;
    if (a.has("speed")) {
        auto v = positiveOption(a, "speed");
        if (!v) return usageError(v.error().message);
        options.speed = *v;
    }
    if (a.has("idle-limit")) {
        auto v = positiveOption(a, "idle-limit");
        if (!v) return usageError(v.error().message);
        options.idleLimit = *v;
    }
    options.wait = [](double seconds) { std::this_thread::sleep_for(std::chrono::duration<double>(seconds)); };
    const std::string& what = a.operands[0];
    Status played;
    std::error_code error;
    if (what == "-") {
        played = playCast(std::cin, std::cout, options);
    } else if (std::filesystem::is_regular_file(what, error)) {
        std::ifstream file(what, std::ios::binary);
        if (!file) return fail(makeError(ErrorCode::InvalidArgument, "cannot read " + what));
        played = playCast(file, std::cout, options);
    } else if (looksLikeSessionId(what)) {
        played = ctx.client.stream("/api/v1/sessions/" + urlEncode(what) + "/cast",
                                   [&](std::istream& in) { return playCast(in, std::cout, options); });
    } else {
        return fail(makeError(ErrorCode::NotFound, "no cast file " + what));
    }
    if (!played) return fail(played.error());
    return 0;
}

int sessionDownload(const Context& ctx) {
    const auto& a = ctx.args;
    const auto target = a.get("output-file");
    std::ofstream file;
    if (target && *target != "-") {
        file.open(*target, std::ios::binary | std::ios::trunc);
        if (!file) return fail(makeError(ErrorCode::InvalidArgument, "cannot write " + *target));
    }
    std::ostream& out = file.is_open() ? static_cast<std::ostream&>(file) : std::cout;
    const auto copied = ctx.client.stream("/api/v1/sessions/" + urlEncode(a.operands[0]) + "/cast",
                                          [&](std::istream& in) -> Status {
                                              char buffer[65536];
                                              while (in.read(buffer, sizeof buffer) || in.gcount() > 0)
                                                  out.write(buffer, in.gcount());
                                              out.flush();
                                              if (!out) return makeError(ErrorCode::InvalidArgument, "cannot write the cast");
                                              return {};
                                          });
    if (!copied) {
        if (file.is_open()) {
            file.close();
            std::remove(target->c_str());
        }
        return fail(copied.error());
    }
    return 0;
}

int dispatch(const Context& ctx) {
    const auto& a = ctx.args;
    const std::string command = a.command->group + " " + a.command->verb;
    const std::string name = a.operands.empty() ? "" : urlEncode(a.operands[0]);
    if (command == "vm ls") {
        const auto all = a.has("all") ? std::optional<std::string>("true") : std::nullopt;
        const auto q =
            query({{"site", a.get("site")}, {"owner", a.get("owner")}, {"state", a.get("state")}, {"all", all}});
        return show(ctx, "GET", "/api/v1/vms" + q, vmTable);
    }
    if (command == "vm show") return show(ctx, "GET", "/api/v1/vms/" + name, member("vm"));
    if (command == "vm create") return vmCreate(ctx);
    if (command == "vm start") return show(ctx, "POST", "/api/v1/vms/" + name + "/start", member("vm"));
    if (command == "vm stop")
        return show(ctx, "POST", "/api/v1/vms/" + name + "/stop" + (a.has("force") ? "?force=true" : ""), whole);
    if (command == "vm restart") return show(ctx, "POST", "/api/v1/vms/" + name + "/restart", whole);
    if (command == "vm rm") return vmRm(ctx);
    if (command == "vm console") return static_cast<int>(runConsole(ctx.client, a.operands[0]));
    if (command == "pool ls") return show(ctx, "GET", "/api/v1/pools", poolTable);
    if (command == "pool allocate") return poolAllocate(ctx);
    if (command == "lease ls") return show(ctx, "GET", "/api/v1/leases" + query({{"owner", a.get("owner")}, {"pool", a.get("pool")}}), leaseTable);
    if (command == "lease extend") return leaseExtend(ctx);
    if (command == "lease release") return show(ctx, "DELETE", "/api/v1/leases/" + name, whole);
    if (command == "session ls") return show(ctx, "GET", "/api/v1/sessions" + query({{"vm", a.get("vm")}, {"owner", a.get("owner")}}), sessionTable);
    if (command == "session play") return sessionPlay(ctx);
    if (command == "session download") return sessionDownload(ctx);
    if (command == "site ls") return show(ctx, "GET", "/api/v1/sites", siteTable);
    if (command == "plugin ls") return show(ctx, "GET", "/api/v1/plugins", pluginTable);
    return usageError("unknown command " + command);
}

}  // namespace

int runCli(const std::vector<std::string>& argv) {
    auto parsed = parseArgs(argv);
    if (!parsed) return usageError(parsed.error().message);
    const ParsedArgs& args = *parsed;
    if (args.help) {
        if (args.command) std::cout << commandHelp(*args.command);
        else if (!args.group.empty()) std::cout << groupHelp(args.group);
        else std::cout << topHelp();
        return 0;
    }
    if (args.version) {
        std::cout << "paddock " << PADDOCK_VERSION << "\n";
        return 0;
    }

    ClientSettings settings;
    if (const auto url = args.get("url")) settings.url = *url;
    else if (const char* env = std::getenv("PADDOCK_URL"); env && *env) settings.url = env;
    if (const auto file = args.get("token-file")) {
        auto token = readTokenFile(*file);
        if (!token) return usageError(token.error().message);
        settings.token = *token;
    } else if (const char* env = std::getenv("PADDOCK_TOKEN"); env && *env) {
        settings.token = env;
    } else if (const auto token = args.get("token")) {
        settings.token = *token;
    }
    if (const auto ca = args.get("ca-file")) settings.caFile = *ca;
    settings.insecure = args.has("insecure");
    auto client = ApiClient::create(settings);
    if (!client) return usageError(client.error().message);
    const Context ctx{args, *client, args.get("output").value_or("table")};
    return dispatch(ctx);
}

}  // namespace paddock::cli
