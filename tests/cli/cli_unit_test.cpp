// The CLI's pure parts: argument parsing and help, exit-code mapping, tables (aligned, control
// characters defused), views over hostile JSON, cast reading and playback timing, terminal
// control frames; and the bash completion script, sourced in a real bash.
#include "cli_process.hpp"

#include "paddock/cli/api_client.hpp"
#include "paddock/cli/args.hpp"
#include "paddock/cli/cast.hpp"
#include "paddock/cli/console.hpp"
#include "paddock/cli/exit_codes.hpp"
#include "paddock/cli/table.hpp"
#include "paddock/cli/views.hpp"
#include "test_support.hpp"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include <set>
#include <sstream>

using namespace paddock;
using namespace paddock::cli;

namespace {

rapidjson::Document json(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse(text.c_str(), text.size());
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
}

std::vector<std::string> split(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    return words;
}

}  // namespace

TEST_CASE("arguments: commands, operands, options before and after, --opt=value, --", "[cli][args]") {
    auto p = parseArgs({"--url", "http://h:1", "vm", "create", "web-1", "--template=tiny", "--memory", "256", "-o", "json"});
    REQUIRE(p.ok());
    REQUIRE(p->command != nullptr);
    CHECK(p->command->group == "vm");
    CHECK(p->command->verb == "create");
    CHECK(p->operands == std::vector<std::string>{"web-1"});
    CHECK(p->get("template") == "tiny");
    CHECK(p->get("memory") == "256");
    CHECK(p->get("url") == "http://h:1");
    CHECK(p->get("output") == "json");

    p = parseArgs({"session", "download", "s-1", "-O", "out.cast"});
    REQUIRE(p.ok());
    CHECK(p->get("output-file") == "out.cast");

    p = parseArgs({"vm", "show", "--", "-weird"});
    REQUIRE(p.ok());
    CHECK(p->operands == std::vector<std::string>{"-weird"});

    p = parseArgs({"vm", "rm", "x", "-y"});
    REQUIRE(p.ok());
    CHECK(p->has("yes"));
}

TEST_CASE("arguments: every usage error is InvalidArgument with a message naming it", "[cli][args]") {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{}, "no command"},
        {{"vmm", "ls"}, "unknown command 'vmm'"},
        {{"vm"}, "needs a verb"},
        {{"vm", "explode"}, "unknown verb 'explode'"},
        {{"vm", "show"}, "needs NAME"},
        {{"vm", "show", "a", "b"}, "not 'b'"},
        {{"vm", "ls", "extra"}, "no arguments"},
        {{"vm", "ls", "--bogus"}, "unknown option --bogus"},
        {{"vm", "ls", "--template", "x"}, "unknown option --template"},  // another verb's option
        {{"vm", "create", "x", "--template"}, "needs a value"},
        {{"vm", "ls", "--all=yes"}, "takes no value"},
        {{"vm", "ls", "-o", "yaml"}, "unknown output format"},
        {{"--url"}, "needs a value"},
    };
    for (const auto& [args, message] : cases) {
        auto p = parseArgs(args);
        INFO(message);
        REQUIRE_FALSE(p.ok());
        CHECK(p.error().code == ErrorCode::InvalidArgument);
        CHECK(p.error().message.find(message) != std::string::npos);
    }
}

TEST_CASE("help: top level lists every command and the exit codes; every verb has its own", "[cli][args]") {
    const std::string top = topHelp();
    for (const auto& c : commandSpecs()) CHECK(top.find(c.group + " " + c.verb) != std::string::npos);
    for (const char* line : {"0  success", "2  usage", "3  auth", "4  not found", "5  conflict", "6  server"})
        CHECK(top.find(line) != std::string::npos);
    CHECK(top.find("PADDOCK_TOKEN") != std::string::npos);
    CHECK(top.find("`ps`") != std::string::npos);
    for (const auto& c : commandSpecs()) {
        auto p = parseArgs({c.group, c.verb, "--help"});
        REQUIRE(p.ok());
        CHECK(p->help);
        CHECK(p->command == &c);
        const std::string help = commandHelp(c);
        for (const auto& o : c.options) CHECK(help.find(o.name) != std::string::npos);
    }
    auto group = parseArgs({"lease", "-h"});
    REQUIRE(group.ok());
    CHECK(group->help);
    CHECK(group->command == nullptr);
    CHECK(groupHelp("lease").find("extend ID") != std::string::npos);
}

TEST_CASE("exit codes per error class", "[cli][exit]") {
    CHECK(exitCodeForStatus(200) == ExitCode::Ok);
    CHECK(exitCodeForStatus(201) == ExitCode::Ok);
    CHECK(exitCodeForStatus(400) == ExitCode::Failure);
    CHECK(exitCodeForStatus(401) == ExitCode::Auth);
    CHECK(exitCodeForStatus(403) == ExitCode::Auth);
    CHECK(exitCodeForStatus(404) == ExitCode::NotFound);
    CHECK(exitCodeForStatus(409) == ExitCode::Conflict);
    CHECK(exitCodeForStatus(413) == ExitCode::Failure);
    CHECK(exitCodeForStatus(500) == ExitCode::Unavailable);
    CHECK(exitCodeForStatus(503) == ExitCode::Unavailable);
    CHECK(exitCodeForStatus(504) == ExitCode::Unavailable);
    CHECK(exitCodeForErrorId("not_found") == ExitCode::NotFound);
    CHECK(exitCodeForErrorId("unavailable") == ExitCode::Unavailable);
    CHECK(exitCodeForErrorId("no such code") == ExitCode::Failure);
    // An answer's Error and the status it came with agree.
    for (const int status : {400, 401, 403, 404, 409, 413, 415, 429, 500, 501, 502, 503, 504, 418}) {
        const Error e = errorFromReply(ApiReply{status, "", ""});
        INFO(status);
        CHECK(exitCodeForError(e.code) == exitCodeForStatus(status));
    }
}

TEST_CASE("API error bodies in plain words; bodies that are not one are quoted, not trusted", "[cli][exit]") {
    auto e = errorFromReply(ApiReply{404, R"({"error":{"code":"not_found","message":"no VM named x"}})", ""});
    CHECK(e.code == ErrorCode::NotFound);
    CHECK(e.message == "no VM named x (not_found) [HTTP 404]");
    for (const std::string& body : std::vector<std::string>{"", "<html>502 Bad Gateway</html>", "{\"error\":5}", "{\"error\":{\"message\":7}}",
                                   "[1,2", std::string(100000, '{')}) {
        e = errorFromReply(ApiReply{502, body, ""});
        CHECK(e.code == ErrorCode::Unavailable);
        CHECK(e.message.size() < 300);
    }
    // A hostile server's message reaches the terminal without escape sequences, and bounded.
    e = errorFromReply(ApiReply{409,
                                R"({"error":{"code":"conflict","message":"\u001b]0;pwned\u0007\u001b[2J)" +
                                    std::string(100000, 'x') + "\"}}",
                                ""});
    CHECK(e.code == ErrorCode::Conflict);
    CHECK(e.message.find('\x1b') == std::string::npos);
    CHECK(e.message.find('\x07') == std::string::npos);
    CHECK(e.message.size() < 2100);
    CHECK(errorFromReply(ApiReply{500, "\x1b[31mred", ""}).message.find('\x1b') == std::string::npos);
}

TEST_CASE("URLs: only http(s)://host[:port][/base]", "[cli][url]") {
    for (const std::string url : {"http://127.0.0.1:8000", "https://lab.example.org", "http://h:1/paddock/"})
        CHECK(ApiClient::create({.url = url}).ok());
    for (const std::string url : {"", "127.0.0.1:8000", "ftp://h", "http://", "http://h:99999", "http://u:p@h/",
                                  "http://h/?q=1", "http://h/#x", "http://[::1"}) {
        auto client = ApiClient::create({.url = url});
        INFO(url);
        CHECK_FALSE(client.ok());
    }
    CHECK_FALSE(ApiClient::create({.url = "http://h", .caFile = "/ca.pem"}).ok());
    CHECK(urlEncode("a b/c?d") == "a%20b%2Fc%3Fd");
}

TEST_CASE("tables: aligned under their headers, control characters shown as ?", "[cli][table]") {
    Table t{{"NAME", "STATE", "OWNER"}, {{"a", "running", "alice"}, {"longer-name", "shut off"}, {"é", "x", "y"}}};
    CHECK(renderTable(t) ==
          "NAME         STATE     OWNER\n"
          "a            running   alice\n"
          "longer-name  shut off\n"
          "é            x         y\n");
    CHECK(printable("ok\x1b[2J\x07\x7f") == "ok?[2J??");
    CHECK(printable("\xc2\x9b" "31m") == "?31m");  // C1 CSI
    CHECK(printable("bad\xff") == "bad\xef\xbf\xbd");  // U+FFFD
    CHECK(printable("ünï") == "ünï");
    CHECK(renderTable(Table{{"A"}, {}}) == "A\n");
}

TEST_CASE("views: lists where the API puts them; anything else is an unexpected answer", "[cli][views]") {
    auto vms = json(R"({"vms":[{"name":"a","site":"local","state":"running","vcpus":1,"memory_mb":128,"owner":null,
                      "template":"tiny","readiness":"ready","uuid":"u","disk":"d"}, 5, {"name":["x",1]}]})");
    auto table = vmTable(vms, false);
    REQUIRE(table.ok());
    CHECK(table->headers.size() == 7);
    REQUIRE(table->rows.size() == 3);
    CHECK(table->rows[0] == std::vector<std::string>{"a", "local", "running", "1", "128", "-", "tiny"});
    CHECK(table->rows[1][0] == "?");  // not an object
    CHECK(table->rows[2][0] == "[\"x\",1]");
    auto wide = vmTable(vms, true);
    REQUIRE(wide.ok());
    CHECK(wide->headers.size() == 10);

    for (const char* bad : {R"({"vms":5})", R"({"vms":{}})", "[]", "null", R"({"pools":[]})"}) {
        INFO(bad);
        auto result = vmTable(json(bad), false);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().message.find("unexpected answer") != std::string::npos);
    }
    CHECK(poolTable(json(R"({"pools":[]})"), false).ok());
    CHECK(leaseTable(json(R"({"leases":[{"id":"l1","ttl_s":null}]})"), false)->rows[0][5] == "-");
    CHECK(sessionTable(json(R"({"sessions":[]})"), true).ok());
    CHECK(siteTable(json(R"({"sites":[{"name":"s","capabilities":["a","b"]}]})"), false).ok());
    auto plugins = pluginTable(json(R"({"plugins":[{"id":"p"}],"failures":[{"path":"/x.so","message":"bad abi"}, 3]})"), false);
    REQUIRE(plugins.ok());
    REQUIRE(plugins->rows.size() == 3);
    CHECK(plugins->rows[1][1] == "FAILED");

    auto one = objectTable(json(R"({"name":"a","ssh":{"host":"127.0.0.1","port":2222},"tags":["x","y"],"n":1.5})"));
    REQUIRE(one.ok());
    CHECK(renderTable(*one) ==
          "FIELD     VALUE\nname      a\nssh.host  127.0.0.1\nssh.port  2222\ntags      x,y\nn         1.5\n");
    CHECK_FALSE(objectTable(json("[1]")).ok());
}

TEST_CASE("cast: header and events as paddockd writes them", "[cli][cast]") {
    auto header = parseCastHeader(R"({"version": 2, "width": 120, "height": 40, "timestamp": 1714557600})");
    REQUIRE(header.ok());
    CHECK(header->width == 120);
    CHECK(header->height == 40);
    auto event = parseCastEvent(R"([0.100000, "o", "hello \u001b[1mworld\r\n"])");
    REQUIRE(event.ok());
    CHECK(event->time == Approx(0.1));
    CHECK(event->code == "o");
    CHECK(event->data == "hello \x1b[1mworld\r\n");
}

TEST_CASE("cast: malformed headers and events are refused, never crash", "[cli][cast]") {
    for (const char* bad : {"", "{", "[]", R"({"version":1,"width":80,"height":24})", R"({"version":"2","width":80,"height":24})",
                            R"({"version":2,"width":0,"height":24})", R"({"version":2,"width":-5,"height":24})",
                            R"({"version":2,"width":80})", R"({"version":2,"width":80,"height":1e9})",
                            R"({"version":2,"width":80,"height":24,"width":81})"}) {
        INFO(bad);
        CHECK_FALSE(parseCastHeader(bad).ok());
    }
    for (const char* bad : {"", "[", "{}", "[1]", "[1, \"o\"]", "[1, \"o\", \"x\", 4]", "[-1, \"o\", \"x\"]",
                            "[\"1\", \"o\", \"x\"]", "[1, 2, \"x\"]", "[1, \"o\", null]", "[1e400, \"o\", \"x\"]",
                            "[1, \"o\", \"\\ud800\"]", "[1, \"o\", \"\xff\"]"}) {
        INFO(bad);
        CHECK_FALSE(parseCastEvent(bad).ok());
    }
    std::string deep(100000, '[');
    CHECK_FALSE(parseCastEvent(deep).ok());
}

TEST_CASE("cast: playback writes output events only, with their timing capped and scaled", "[cli][cast]") {
    const std::string cast = "{\"version\": 2, \"width\": 80, \"height\": 24}\n"
                             "[0.5, \"o\", \"a\"]\n"
                             "[0.7, \"i\", \"typed\"]\n"
                             "\n"
                             "[2.5, \"r\", \"100x30\"]\n"
                             "[10.5, \"o\", \"b\"]\r\n"
                             "[10.0, \"o\", \"c\"]\n";
    std::istringstream in(cast);
    std::ostringstream out;
    std::vector<double> waits;
    PlayOptions options{2.0, 3.0, [&](double s) { waits.push_back(s); }};
    REQUIRE(playCast(in, out, options).ok());
    CHECK(out.str() == "abc");
    REQUIRE(waits.size() == 2);
    CHECK(waits[0] == Approx(0.25));  // 0.5 s at speed 2
    CHECK(waits[1] == Approx(1.5));   // 10 s gap capped at 3, at speed 2
    CHECK(playbackDelay(5, 4, 1, std::nullopt) == 0);

    std::istringstream broken("{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.1, \"o\", \"x\"]\n[oops\n");
    std::ostringstream partial;
    auto played = playCast(broken, partial, {});
    REQUIRE_FALSE(played.ok());
    CHECK(played.error().message.find("line 3") != std::string::npos);
    CHECK(partial.str() == "x");

    std::istringstream empty("");
    CHECK_FALSE(playCast(empty, partial, {}).ok());

    std::istringstream huge("{\"version\": 2, \"width\": 80, \"height\": 24}\n[1, \"o\", \"" +
                            std::string(kMaxCastLine + 10, 'x') + "\"]\n");
    auto refused = playCast(huge, partial, {});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message.find("longer than") != std::string::npos);
}

TEST_CASE("terminal control frames: session, error, and junk refused", "[cli][console]") {
    auto f = parseControlFrame(R"({"type":"session","session_id":"term-1","host_key":{"type":"ssh-ed25519"}})");
    REQUIRE(f.ok());
    CHECK(f->type == "session");
    CHECK(f->sessionId == "term-1");
    f = parseControlFrame(R"({"type":"error","code":"unavailable","message":"SSH refused"})");
    REQUIRE(f.ok());
    CHECK(f->code == "unavailable");
    CHECK(f->message == "SSH refused");
    for (const char* bad : {"", "x", "[]", R"({"type":5})", R"({"kind":"session"})", R"({"type":"a","type":"b"})"}) {
        INFO(bad);
        CHECK_FALSE(parseControlFrame(bad).ok());
    }
    CHECK(resizeFrame(100, 40) == R"({"type":"resize","cols":100,"rows":40})");
}

TEST_CASE("bash completion: groups, verbs and options as the parser knows them", "[cli][completion]") {
    const std::string script = paddock::test::sourceDir() + "/cli/completion/paddock.bash";
    // compgen's answer for the words typed so far (the last one is being completed).
    auto complete = [&](const std::string& words) {
        const std::string command = "bash --norc --noprofile -c 'source \"" + script +
                                    "\"; COMP_WORDS=(" + words + "); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _paddock; "
                                    "printf \"%s\\n\" \"${COMPREPLY[@]}\"' 2>&1";
        const auto words_ = split(paddock::test::commandOutput(command));
        return std::set<std::string>(words_.begin(), words_.end());
    };
    std::set<std::string> groups, vmVerbs;
    for (const auto& c : commandSpecs()) {
        groups.insert(c.group);
        if (c.group == "vm") vmVerbs.insert(c.verb);
    }
    CHECK(complete("paddock \"\"") == groups);
    CHECK(complete("paddock vm \"\"") == vmVerbs);
    CHECK(complete("paddock --url http://x vm \"\"") == vmVerbs);
    CHECK(complete("paddock vm st") == std::set<std::string>{"start", "stop"});
    CHECK(complete("paddock -o \"\"") == std::set<std::string>{"table", "wide", "json"});
    for (const auto& c : commandSpecs()) {
        std::set<std::string> verbs;
        for (const auto& d : commandSpecs())
            if (d.group == c.group) verbs.insert(d.verb);
        CHECK(complete("paddock " + c.group + " \"\"") == verbs);
        std::set<std::string> expected;
        for (const auto& o : globalOptions()) {
            expected.insert(o.name);
            if (!o.shortName.empty()) expected.insert(o.shortName);
        }
        for (const auto& o : c.options) {
            expected.insert(o.name);
            if (!o.shortName.empty()) expected.insert(o.shortName);
        }
        INFO(c.group << " " << c.verb);
        CHECK(complete("paddock " + c.group + " " + c.verb + " -") == expected);
    }
}
