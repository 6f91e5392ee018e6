// Session recording end to end: SessionRecorder -> the real org.paddock.asciinema plugin -> a
// cast file, checked line by line and by the real `asciinema cat`.
#include "paddock/core/recording.hpp"
#include "paddock/core/plugin_host.hpp"
#include "paddock/core/recorder.hpp"

#include "result_checks.hpp"
#include "test_support.hpp"

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <pty.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

using Catch::Matchers::Contains;
using paddock::ErrorCode;
using paddock::RecordingInfo;
using paddock::SessionRecorder;
using paddock::test::TempDir;

namespace {

std::shared_ptr<paddock::RecorderPlugin> fixtureRecorder(const std::string& file, const std::string& id) {
    static paddock::PluginHost host;  // keeps the libraries loaded for the whole test binary
    if (auto found = host.recorder(id)) return found.value();
    auto loaded = host.loadFile(paddock::test::fixturePluginDir() + "/" + file + ".so");
    REQUIRE(loaded.ok());
    auto r = host.recorder(id);
    REQUIRE(r.ok());
    return r.value();
}

std::shared_ptr<paddock::RecorderPlugin> asciinemaPlugin() {
    static paddock::PluginHost host;  // keeps the library loaded for the whole test binary
    static std::shared_ptr<paddock::RecorderPlugin> plugin = [] {
        auto loaded = host.loadFile(paddock::test::pluginDir() + "/paddock_asciinema.so");
        INFO((loaded ? std::string("ok") : loaded.error().message));
        REQUIRE(loaded.ok());
        auto r = host.recorder("org.paddock.asciinema");
        REQUIRE(r.ok());
        return r.value();
    }();
    return plugin;
}

RecordingInfo infoFor(const std::string& id, const std::string& vm = "vm1", const std::string& owner = "alice") {
    RecordingInfo info;
    info.session_id = id;
    info.site = "local";
    info.vm = vm;
    info.owner = owner;
    info.lease = "lease-" + id;
    info.cols = 120;
    info.rows = 40;
    return info;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

struct Event {
    double time = 0;
    std::string kind;
    std::string data;
};

// Parses an event line; fails the test when it is not a valid [number, string, string].
Event event(const std::string& line) {
    rapidjson::Document d;
    d.Parse(line.data(), line.size());
    INFO(line);
    REQUIRE_FALSE(d.HasParseError());
    REQUIRE(d.IsArray());
    REQUIRE(d.Size() == 3);
    REQUIRE(d[0].IsNumber());
    REQUIRE(d[1].IsString());
    REQUIRE(d[2].IsString());
    return {d[0].GetDouble(), d[1].GetString(), std::string(d[2].GetString(), d[2].GetStringLength())};
}

std::vector<Event> events(const std::string& path) {
    const auto all = lines(paddock::test::readFile(path));
    std::vector<Event> out;
    for (size_t i = 1; i < all.size(); ++i) out.push_back(event(all[i]));
    return out;
}

// Concatenated data of the events of one kind.
std::string joined(const std::vector<Event>& evs, const std::string& kind) {
    std::string out;
    for (const auto& e : evs)
        if (e.kind == kind) out += e.data;
    return out;
}

// Runs the real `asciinema cat <path>` on a pseudo-terminal (it insists on /dev/tty) and returns
// what it printed. It puts the terminal in raw mode, so the bytes arrive untranslated.
std::string asciinemaCat(const std::string& path) {
    int master = -1;
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::setenv("LC_ALL", "C.UTF-8", 1);
        ::setenv("HOME", "/tmp", 1);  // asciinema reads its config from there
        ::execlp("asciinema", "asciinema", "cat", path.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(master, buf, sizeof buf);
        if (n > 0) {
            out.append(buf, static_cast<size_t>(n));
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            break;  // EOF, or EIO once the child closed the terminal
        }
    }
    ::close(master);
    int status = 0;
    ::waitpid(pid, &status, 0);
    INFO(out);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return out;
}

}  // namespace

TEST_CASE("recording: the header carries size, time, env and Paddock's keys", "[recording]") {
    TempDir tmp;
    const std::string dir = tmp.file("casts/nested");  // created by the plugin
    SessionRecorder recorder(asciinemaPlugin(), dir, false);
    const auto before =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    auto info = infoFor("s-header");
    info.term = "xterm";
    info.shell = "/bin/sh";
    auto rec = recorder.begin(info);
    REQUIRE(rec.ok());
    (*rec)->close();

    const std::string path = dir + "/s-header.cast";
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
    REQUIRE(::stat(dir.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0750);

    const auto all = lines(paddock::test::readFile(path));
    REQUIRE(all.size() == 1);
    rapidjson::Document h;
    h.Parse(all[0].c_str());
    REQUIRE_FALSE(h.HasParseError());
    CHECK(h["version"].GetInt() == 2);
    CHECK(h["width"].GetInt() == 120);
    CHECK(h["height"].GetInt() == 40);
    CHECK(h["timestamp"].GetInt64() >= before);
    CHECK(h["timestamp"].GetInt64() <= before + 60);
    CHECK(std::string(h["env"]["TERM"].GetString()) == "xterm");
    CHECK(std::string(h["env"]["SHELL"].GetString()) == "/bin/sh");
    CHECK(std::string(h["title"].GetString()) == "vm1 (s-header)");
    CHECK(std::string(h["site"].GetString()) == "local");
    CHECK(std::string(h["vm"].GetString()) == "vm1");
    CHECK(std::string(h["owner"].GetString()) == "alice");
    CHECK(std::string(h["lease"].GetString()) == "lease-s-header");
}

TEST_CASE("recording: output and resize events in order", "[recording]") {
    TempDir tmp;
    SessionRecorder recorder(asciinemaPlugin(), tmp.path(), false);
    auto rec = recorder.begin(infoFor("s-events"));
    REQUIRE(rec.ok());
    (*rec)->output("hello\r\n");
    (*rec)->resize(100, 30);
    (*rec)->output("");  // nothing to record
    (*rec)->output("$ ");
    (*rec)->close();
    (*rec)->output("after close");  // ignored

    const auto evs = events(tmp.file("s-events.cast"));
    REQUIRE(evs.size() == 3);
    CHECK((evs[0].kind == "o" && evs[0].data == "hello\r\n"));
    CHECK((evs[1].kind == "r" && evs[1].data == "100x30"));
    CHECK((evs[2].kind == "o" && evs[2].data == "$ "));
    CHECK(evs[0].time >= 0);
    CHECK(evs[1].time >= evs[0].time);
    CHECK(evs[2].time >= evs[1].time);
    CHECK(recorder.bytesRecorded() == 7 + 6 + 2);  // "100x30" counts too
}

TEST_CASE("recording: arbitrary bytes become valid JSON and UTF-8", "[recording]") {
    TempDir tmp;
    SessionRecorder recorder(asciinemaPlugin(), tmp.path(), false);
    auto rec = recorder.begin(infoFor("s-bytes"));
    REQUIRE(rec.ok());
    std::string all;
    for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
    (*rec)->output(all);
    (*rec)->output("quote\" backslash\\ esc\x1b[31m tab\t nul" + std::string(1, '\0') + " del\x7f");
    (*rec)->output("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x90\xA7");  // valid 2-, 3- and 4-byte characters
    (*rec)->output(
        "bad:\xC0\xAF|\xED\xA0\x80|\xF4\x90\x80\x80|\xE2\x82|");  // overlong, surrogate, > U+10FFFF, truncated
    (*rec)->close();

    const auto evs = events(tmp.file("s-bytes.cast"));
    REQUIRE(evs.size() == 4);
    std::string expected;
    for (int b = 0; b < 128; ++b) expected.push_back(static_cast<char>(b));
    for (int b = 128; b < 256; ++b) expected += "\xEF\xBF\xBD";  // each stray byte: one U+FFFD
    CHECK(evs[0].data == expected);
    CHECK(evs[1].data == "quote\" backslash\\ esc\x1b[31m tab\t nul" + std::string(1, '\0') + " del\x7f");
    CHECK(evs[2].data == "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x90\xA7");
    const std::string r = "\xEF\xBF\xBD";
    CHECK(evs[3].data == "bad:" + r + r + "|" + r + r + r + "|" + r + r + r + r + "|" + r + "|");

    // The raw line escapes control characters, so every line stays one line of JSON.
    const auto raw = lines(paddock::test::readFile(tmp.file("s-bytes.cast")));
    REQUIRE(raw.size() == 5);
    CHECK_THAT(raw[2], Contains("\\u001b[31m") && Contains("\\t") && Contains("\\u0000") && Contains("\\\"") &&
                           Contains("\\\\") && Contains("\\u007f"));
}

TEST_CASE("recording: a character split across writes is kept whole", "[recording]") {
    TempDir tmp;
    SessionRecorder recorder(asciinemaPlugin(), tmp.path(), false);
    auto rec = recorder.begin(infoFor("s-split"));
    REQUIRE(rec.ok());
    (*rec)->output("a\xE2\x82");  // euro sign, first two bytes
    (*rec)->output(
        "\xAC"
        "b");                // its last byte
    (*rec)->output("\xF0");  // penguin, one byte at a time
    (*rec)->output("\x9F");
    (*rec)->output("\x90");
    (*rec)->output("\xA7!");
    (*rec)->output("end\xC3");  // the session ends inside a character
    (*rec)->close();

    const auto evs = events(tmp.file("s-split.cast"));
    CHECK(joined(evs, "o") ==
          "a\xE2\x82\xAC"
          "b\xF0\x9F\x90\xA7!end\xEF\xBF\xBD");
    // No piece was cut inside a character: each event is valid UTF-8 on its own.
    REQUIRE(evs.size() >= 3);
    CHECK(evs[0].data == "a");
    CHECK(evs[1].data ==
          "\xE2\x82\xAC"
          "b");
}

TEST_CASE("recording: input is recorded only when enabled", "[recording]") {
    TempDir tmp;
    {
        SessionRecorder recorder(asciinemaPlugin(), tmp.path(), false);
        CHECK_FALSE(recorder.recordInput());
        auto rec = recorder.begin(infoFor("s-noinput"));
        REQUIRE(rec.ok());
        (*rec)->input("hunter2\r");
        (*rec)->output("ok");
        (*rec)->close();
        const auto evs = events(tmp.file("s-noinput.cast"));
        REQUIRE(evs.size() == 1);
        CHECK(evs[0].kind == "o");
        CHECK(paddock::test::readFile(tmp.file("s-noinput.cast")).find("hunter2") == std::string::npos);
    }
    {
        SessionRecorder recorder(asciinemaPlugin(), tmp.path(), true);
        auto rec = recorder.begin(infoFor("s-input"));
        REQUIRE(rec.ok());
        (*rec)->input("ls\r");
        (*rec)->output("file\r\n");
        (*rec)->close();
        const auto evs = events(tmp.file("s-input.cast"));
        REQUIRE(evs.size() == 2);
        CHECK((evs[0].kind == "i" && evs[0].data == "ls\r"));
        CHECK((evs[1].kind == "o" && evs[1].data == "file\r\n"));
    }
}

TEST_CASE("recording: events reach the file at least once per second of session time", "[recording]") {
    // Driven through the plugin session directly, so the event times are ours: no sleeping.
    TempDir tmp;
    pdk_recording_info spec{};
    spec.struct_size = sizeof spec;
    spec.width = 80;
    spec.height = 24;
    spec.directory = tmp.path().c_str();
    spec.session_id = "s-flush";
    auto session = asciinemaPlugin()->open(spec);
    REQUIRE(session.ok());
    auto& s = *session.value();
    const std::string path = tmp.file("s-flush.cast");
    CHECK(lines(paddock::test::readFile(path)).size() == 1);  // the header is there at once

    REQUIRE(s.write(0.10, 'o', "a").ok());
    REQUIRE(s.write(0.90, 'o', "b").ok());
    CHECK(lines(paddock::test::readFile(path)).size() == 1);  // buffered: less than a second
    REQUIRE(s.write(1.05, 'o', "c").ok());
    CHECK(lines(paddock::test::readFile(path)).size() == 4);  // a second passed: all on disk
    REQUIRE(s.write(1.50, 'o', "d").ok());
    CHECK(lines(paddock::test::readFile(path)).size() == 4);
    REQUIRE(s.flush().ok());  // the host's timer
    CHECK(lines(paddock::test::readFile(path)).size() == 5);
    REQUIRE(s.write(1.60, 'o', "e", PDK_RECORDING_EVENT_FLUSH).ok());
    CHECK(lines(paddock::test::readFile(path)).size() == 6);
    REQUIRE(s.flush(PDK_RECORDING_FLUSH_SYNC).ok());

    // Time never runs backwards in the file; bad input is refused with the plugin's words.
    REQUIRE(s.write(0.5, 'o', "f", PDK_RECORDING_EVENT_FLUSH).ok());
    CHECK(events(path).back().time == Approx(1.6));
    auto bad = s.write(2, 'q', "x");
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(failure(bad).message, Contains("unknown event kind"));
    CHECK(failure(s.write(2, 'r', "80by24")).code == ErrorCode::InvalidArgument);
    CHECK(failure(s.write(2, 'o', "x", 1u << 5)).code == ErrorCode::Internal);  // PDK_ERR_BAD_FLAGS
    CHECK(failure(s.flush(1u << 5)).code == ErrorCode::Internal);

    // Through SessionRecorder: flush() makes the output visible.
    SessionRecorder recorder(asciinemaPlugin(), tmp.path(), false);
    auto rec = recorder.begin(infoFor("s-flush2"));
    REQUIRE(rec.ok());
    (*rec)->output("visible");
    (*rec)->flush();
    const auto evs = events(tmp.file("s-flush2.cast"));
    REQUIRE(evs.size() == 1);
    CHECK(evs[0].data == "visible");
}

TEST_CASE("recording: the plugin refuses bad session specs", "[recording]") {
    TempDir tmp;
    pdk_recording_info spec{};
    spec.struct_size = sizeof spec;
    spec.width = 80;
    spec.height = 24;
    spec.directory = tmp.path().c_str();
    spec.session_id = "../escape";
    auto r = asciinemaPlugin()->open(spec);
    REQUIRE_FALSE(r.ok());
    CHECK(failure(r).code == ErrorCode::InvalidArgument);
    CHECK_THAT(failure(r).message, Contains("org.paddock.asciinema") && Contains("invalid session id"));
    spec.session_id = "ok";
    spec.width = 0;
    CHECK(failure(asciinemaPlugin()->open(spec)).code == ErrorCode::InvalidArgument);
    spec.width = 80;
    spec.directory = nullptr;
    CHECK(failure(asciinemaPlugin()->open(spec)).code == ErrorCode::InvalidArgument);
    spec.directory = tmp.path().c_str();
    REQUIRE(asciinemaPlugin()->open(spec).ok());
    CHECK(failure(asciinemaPlugin()->open(spec)).code == ErrorCode::AlreadyExists);  // never overwritten silently
    CHECK(asciinemaPlugin()->open(spec, PDK_RECORDING_REPLACE).ok());
    spec.directory = "/proc/paddock-no-such-dir";
    CHECK(failure(asciinemaPlugin()->open(spec)).code == ErrorCode::Unavailable);
}

TEST_CASE("recording: list reads the cast files and knows the active sessions", "[recording]") {
    TempDir tmp;
    // A finished recording written by someone else (e.g. an earlier paddockd).
    paddock::test::writeFile(tmp.file("old-1.cast"),
                             "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 1700000000, "
                             "\"vm\": \"vm2\", \"owner\": \"bob\", \"lease\": \"l-9\", \"site\": \"far\"}\n"
                             "[0.5, \"o\", \"x\"]\n[12.25, \"o\", \"y\"]\n[12.5, \"o\", \"trunc");  // crash mid-line
    paddock::test::writeFile(tmp.file("junk.cast"), "not json\n");
    paddock::test::writeFile(tmp.file("v1.cast"), "{\"version\": 1, \"width\": 80, \"height\": 24}\n");
    paddock::test::writeFile(tmp.file("notes.txt"), "ignored");

    prometheus::Registry registry;
    SessionRecorder recorder(asciinemaPlugin(), tmp.path(), false, &registry);
    auto a = recorder.begin(infoFor("s-a", "vm1", "alice"));
    REQUIRE(a.ok());
    (*a)->output("12345");
    (*a)->flush();
    CHECK(recorder.activeCount() == 1);

    auto all = recorder.list();
    REQUIRE(all.size() == 2);
    const auto& newest = all[0];  // started now, so listed first
    CHECK(newest.id == "s-a");
    CHECK(newest.active);
    CHECK(newest.vm == "vm1");
    CHECK(newest.owner == "alice");
    CHECK(newest.lease == "lease-s-a");
    CHECK(newest.site == "local");
    CHECK(newest.path == tmp.file("s-a.cast"));
    CHECK(newest.bytes > 0);
    const auto& old = all[1];
    CHECK(old.id == "old-1");
    CHECK_FALSE(old.active);
    CHECK(old.started_unix == 1700000000);
    CHECK(old.duration_s == Approx(12.25));
    CHECK((old.vm == "vm2" && old.owner == "bob" && old.lease == "l-9" && old.site == "far"));
    CHECK(old.bytes == paddock::test::readFile(tmp.file("old-1.cast")).size());

    CHECK(recorder.list("vm2").size() == 1);
    CHECK(recorder.list("", "alice").size() == 1);
    CHECK(recorder.list("vm1", "bob").empty());

    // One id is recorded once at a time.
    auto dup = recorder.begin(infoFor("s-a"));
    REQUIRE_FALSE(dup.ok());
    CHECK(failure(dup).code == ErrorCode::AlreadyExists);

    const std::string metrics = prometheus::TextSerializer().Serialize(registry.Collect());
    // Whole sample lines: "active 1" alone would also match "active 10".
    CHECK_THAT(metrics,
               Contains("\npaddock_recordings_active 1\n") && Contains("\npaddock_recording_bytes_total 5\n") &&
                   Contains("\npaddock_recordings_total 1\n") && Contains("\npaddock_recording_errors_total 0\n"));

    (*a)->close();
    CHECK(recorder.activeCount() == 0);
    const auto closed = recorder.list("vm1");
    REQUIRE(closed.size() == 1);
    CHECK_FALSE(closed[0].active);
    CHECK(closed[0].duration_s >= 0);
}

TEST_CASE("recording: read validates ids and knows only existing recordings", "[recording]") {
    TempDir tmp;
    const std::string known = "{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.5, \"o\", \"hi\"]\n";
    paddock::test::writeFile(tmp.file("known.cast"), known);
    paddock::test::writeFile(tmp.file("secret"), "outside");
    SessionRecorder recorder(asciinemaPlugin(), tmp.file("casts"), false);
    SessionRecorder here(asciinemaPlugin(), tmp.path(), false);

    std::string body;
    const auto collect = [&body](std::string_view chunk) {
        body.append(chunk);
        return true;
    };
    auto ok = here.read("known", collect);
    REQUIRE(ok.ok());
    CHECK(body == known);
    CHECK(ok->id == "known");
    CHECK(ok->path == tmp.file("known.cast"));
    CHECK(ok->media_type == "application/x-asciicast");  // the plugin's word, not core's
    CHECK(ok->file_extension == "cast");
    CHECK(ok->format == "asciicast-v2");
    CHECK(ok->duration_s == Approx(0.5));
    CHECK_FALSE(ok->active);
    body.clear();
    CHECK(failure(here.read("unknown", collect)).code == ErrorCode::NotFound);
    CHECK(failure(recorder.read("known", collect)).code == ErrorCode::NotFound);  // other directory
    for (const char* bad : {"", "../known", "..", ".known", "a/b", "known.cast/..", "x\ny", "%2e%2e"}) {
        INFO(bad);
        CHECK(failure(here.read(bad, collect)).code == ErrorCode::InvalidArgument);
    }
    CHECK(failure(here.read(std::string(129, 'a'), collect)).code == ErrorCode::InvalidArgument);
    CHECK(body.empty());  // no bad id got as far as reading
    CHECK(SessionRecorder::validSessionId(std::string(128, 'a')));
    CHECK(SessionRecorder::validSessionId("2024-05-01T10.00_vm1-abc"));

    auto traversal = here.begin(infoFor("../secret"));
    REQUIRE_FALSE(traversal.ok());
    CHECK(failure(traversal).code == ErrorCode::InvalidArgument);
    CHECK(paddock::test::readFile(tmp.file("secret")) == "outside");
}

TEST_CASE("recording: read hands a large recording over in chunks and stops when asked", "[recording]") {
    TempDir tmp;
    std::string cast = "{\"version\": 2, \"width\": 80, \"height\": 24}\n";
    const std::string payload(100, 'x');
    for (int i = 0; cast.size() < 300 * 1024; ++i) {
        cast += '[';
        cast += std::to_string(i);
        cast += ".0, \"o\", \"" + payload + "\"]\n";
    }
    paddock::test::writeFile(tmp.file("big.cast"), cast);
    SessionRecorder recorder(asciinemaPlugin(), tmp.path(), false);

    std::vector<size_t> chunks;
    std::string body;
    auto all = recorder.read("big", [&](std::string_view chunk) {
        chunks.push_back(chunk.size());
        body.append(chunk);
        return true;
    });
    REQUIRE(all.ok());
    CHECK(body == cast);
    CHECK(chunks.size() >= 3);  // never the whole recording at once
    CHECK(*std::max_element(chunks.begin(), chunks.end()) <= 64 * 1024);
    CHECK(all->bytes == cast.size());

    int calls = 0;
    auto first = recorder.read("big", [&](std::string_view) { return ++calls < 1; });
    REQUIRE(first.ok());  // stopping is not an error
    CHECK(calls == 1);
}

// Reads one range through the recorder, or the error.
static paddock::Result<std::string> rangeOf(const SessionRecorder& recorder, const std::string& id, uint64_t offset,
                                            uint64_t max) {
    std::string out;
    if (paddock::Status st = recorder.readRange(id, offset, max,
                                                [&out](std::string_view chunk) {
                                                    out.append(chunk);
                                                    return true;
                                                });
        !st)
        return std::move(st).error();
    return out;
}

TEST_CASE("recording: ranges of a recording, read by the plugin (ABI 1.3) piece by piece", "[recording]") {
    TempDir tmp;
    std::string cast = "{\"version\": 2, \"width\": 80, \"height\": 24}\n";
    // append, not operator+: GCC 12 warns (-Wrestrict) on "[" + std::to_string(i) here.
    for (int i = 0; cast.size() < 200 * 1024; ++i)
        cast.append("[").append(std::to_string(i)).append(".0, \"o\", \"line\"]\n");
    paddock::test::writeFile(tmp.file("big.cast"), cast);
    SessionRecorder recorder(asciinemaPlugin(), tmp.path(), false);
    REQUIRE(asciinemaPlugin()->vtable().read_session_range != nullptr);

    std::string pieces;
    for (uint64_t at = 0;;) {
        auto piece = rangeOf(recorder, "big", at, 64 * 1024);
        REQUIRE(piece.ok());
        CHECK(piece->size() <= 64 * 1024);
        pieces += *piece;
        at += piece->size();
        if (piece->size() < 64 * 1024) break;
    }
    CHECK(pieces == cast);
    CHECK(rangeOf(recorder, "big", 10, 7).value() == cast.substr(10, 7));
    CHECK(rangeOf(recorder, "big", cast.size() - 3, 0).value() == cast.substr(cast.size() - 3));
    CHECK(rangeOf(recorder, "big", cast.size(), 10).value().empty());  // at the end: nothing, no error
    CHECK(rangeOf(recorder, "big", UINT64_MAX, 10).value().empty());
    CHECK(failure(rangeOf(recorder, "gone", 0, 10)).code == ErrorCode::NotFound);
    CHECK(failure(rangeOf(recorder, "../big", 0, 10)).code == ErrorCode::InvalidArgument);
    // The plugin checks its input itself too.
    const pdk_recorder_vtable& v = asciinemaPlugin()->vtable();
    const pdk_bytes_sink ignore = [](void*, const char*, size_t) { return 0; };
    pdk_error err{};
    err.struct_size = sizeof err;
    const std::string dir = tmp.path();
    CHECK(v.read_session_range(dir.c_str(), "../big", 0, 1, 0, ignore, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.read_session_range(dir.c_str(), "big", 0, 1, 0, nullptr, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.read_session_range(dir.c_str(), "big", 0, 1, 1u << 3, ignore, nullptr, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(v.read_session_range(nullptr, "big", 0, 1, 0, ignore, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);

    // describe() tells what read() would, without reading.
    auto described = recorder.describe("big");
    REQUIRE(described.ok());
    CHECK(described->bytes == cast.size());
    CHECK(described->media_type == "application/x-asciicast");
    CHECK(failure(recorder.describe("gone")).code == ErrorCode::NotFound);
}

TEST_CASE("recording: the plugin checks list and read input itself", "[recording]") {
    TempDir tmp;
    paddock::test::writeFile(tmp.file("ok.cast"), "{\"version\": 2, \"width\": 80, \"height\": 24}\n");
    REQUIRE(::symlink(tmp.file("ok.cast").c_str(), tmp.file("link.cast").c_str()) == 0);
    const pdk_recorder_vtable& v = asciinemaPlugin()->vtable();
    REQUIRE(v.list_sessions != nullptr);
    REQUIRE(v.read_session != nullptr);
    std::vector<std::string> ids;
    const pdk_session_sink listed = [](void* user, const pdk_session_info* info) {
        static_cast<std::vector<std::string>*>(user)->emplace_back(info->session_id);
    };
    const pdk_bytes_sink ignore = [](void*, const char*, size_t) { return 0; };
    pdk_error err{};
    err.struct_size = sizeof err;
    const std::string dir = tmp.path();
    CHECK(v.list_sessions(nullptr, nullptr, 0, listed, &ids, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.list_sessions("", nullptr, 0, listed, &ids, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.list_sessions(dir.c_str(), nullptr, 0, nullptr, &ids, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.list_sessions(dir.c_str(), nullptr, 1u << 2, listed, &ids, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(v.list_sessions(dir.c_str(), "../secret-outside", 0, listed, &ids, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.read_session(dir.c_str(), "../secret-outside", 0, ignore, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.read_session(dir.c_str(), nullptr, 0, ignore, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.read_session(dir.c_str(), "ok", 0, nullptr, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.read_session(dir.c_str(), "ok", 1u << 2, ignore, nullptr, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(v.read_session(nullptr, "ok", 0, ignore, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(ids.empty());
    // Symbolic links are neither listed nor read.
    CHECK(v.read_session(dir.c_str(), "link", 0, ignore, nullptr, &err) == PDK_ERR_NOT_FOUND);
    CHECK(v.list_sessions(dir.c_str(), "link", 0, listed, &ids, &err) == PDK_ERR_NOT_FOUND);
    REQUIRE(v.list_sessions(dir.c_str(), nullptr, 0, listed, &ids, &err) == PDK_OK);
    CHECK(ids == std::vector<std::string>{"ok"});
    // A directory that does not exist holds no recordings.
    ids.clear();
    CHECK(v.list_sessions(tmp.file("nowhere").c_str(), nullptr, 0, listed, &ids, &err) == PDK_OK);
    CHECK(ids.empty());
}

TEST_CASE("recording: read-only mode records nothing but lists and reads earlier recordings", "[recording]") {
    TempDir tmp;
    const std::string cast = "{\"version\": 2, \"width\": 80, \"height\": 24, \"vm\": \"vm9\"}\n";
    paddock::test::writeFile(tmp.file("earlier.cast"), cast);
    SessionRecorder recorder(asciinemaPlugin(), tmp.path(), false, nullptr, SessionRecorder::Mode::ReadOnly);
    CHECK_FALSE(recorder.enabled());
    auto rec = recorder.begin(infoFor("s-ro"));
    REQUIRE(rec.ok());
    (*rec)->output("not stored");
    (*rec)->close();
    CHECK_FALSE(::access(tmp.file("s-ro.cast").c_str(), F_OK) == 0);
    const auto all = recorder.list();
    REQUIRE(all.size() == 1);
    CHECK(all[0].id == "earlier");
    CHECK(all[0].vm == "vm9");
    std::string body;
    REQUIRE(recorder
                .read("earlier",
                      [&](std::string_view c) {
                          body.append(c);
                          return true;
                      })
                .ok());
    CHECK(body == cast);
}

TEST_CASE("recording: disabled recording hands out recordings that store nothing", "[recording]") {
    TempDir tmp;
    SessionRecorder recorder(nullptr, tmp.path(), true);
    CHECK_FALSE(recorder.enabled());
    auto rec = recorder.begin(infoFor("s-off"));
    REQUIRE(rec.ok());
    (*rec)->output("x");
    (*rec)->input("y");
    (*rec)->resize(1, 1);
    (*rec)->flush();
    (*rec)->close();
    CHECK(recorder.list().empty());
    CHECK(failure(recorder.read("s-off", [](std::string_view) { return true; })).code == ErrorCode::NotFound);
    CHECK(failure(recorder.begin(infoFor("bad/id"))).code == ErrorCode::InvalidArgument);
}

TEST_CASE("recording: a recording may outlive its SessionRecorder", "[recording]") {
    TempDir tmp;
    std::unique_ptr<paddock::Recording> rec;
    {
        SessionRecorder recorder(asciinemaPlugin(), tmp.path(), false);
        auto r = recorder.begin(infoFor("s-orphan"));
        REQUIRE(r.ok());
        rec = std::move(r).value();
    }
    rec->output("still here");
    rec.reset();  // the destructor closes
    CHECK(joined(events(tmp.file("s-orphan.cast")), "o") == "still here");
}

TEST_CASE("recording: the real asciinema CLI plays a produced cast", "[recording][asciinema]") {
    REQUIRE(::access("/usr/bin/asciinema", X_OK) == 0);
    TempDir tmp;
    SessionRecorder recorder(asciinemaPlugin(), tmp.path(), true);
    auto rec = recorder.begin(infoFor("s-cli"));
    REQUIRE(rec.ok());
    const std::vector<std::string> pieces = {
        "Debian GNU/Linux 12\r\n",
        "\x1b[1;32mstudent@vm1\x1b[0m:~$ ",
        "caf\xC3",  // split character
        "\xA9 \xE2\x82\xAC \"quoted\" back\\slash\ttab\r\n",
        "\xF0\x9F\x90\xA7\x07\r\n",
    };
    std::string written;
    for (const auto& p : pieces) {
        (*rec)->output(p);
        written += p;
    }
    (*rec)->input("exit\r");
    (*rec)->resize(132, 43);
    (*rec)->output("logout\r\n");
    written += "logout\r\n";
    (*rec)->close();

    // `asciinema cat` prints the "o" events only, exactly as they were written.
    CHECK(asciinemaCat(tmp.file("s-cli.cast")) == written);
}

TEST_CASE("recording: what a recorder lists is checked before it reaches HTTP headers", "[recording]") {
    TempDir tmp;
    SessionRecorder recorder(fixtureRecorder("recorder_lister", "org.paddock.test.lister"), tmp.path(), false);
    const auto all = recorder.list();
    std::vector<std::string> ids;
    for (const auto& r : all) ids.push_back(r.id);
    std::sort(ids.begin(), ids.end());
    CHECK(ids == std::vector<std::string>{"header", "plain", "short"});  // "../escape" is dropped
    for (const auto& r : all) {
        INFO(r.id);
        if (r.id == "plain") {
            CHECK(r.media_type == "text/plain");
            CHECK(r.file_extension == "txt");
            CHECK(r.format == "fixture");
            CHECK(r.bytes == 11);
            CHECK(r.path == "/nowhere");
        } else if (r.id == "header") {
            CHECK(r.media_type == "application/octet-stream");  // had a CR LF in it
            CHECK(r.file_extension.empty());                    // had a space in it
        } else {
            // Past its struct_size: not read (the media type pointer there is garbage).
            CHECK(r.media_type == "application/octet-stream");
            CHECK(r.bytes == 0);
            CHECK(r.path.empty());
            CHECK(r.vm == "vm1");
        }
    }
    std::string body;
    auto read = recorder.read("plain", [&](std::string_view c) {
        body.append(c);
        return true;
    });
    REQUIRE(read.ok());
    CHECK(body == "hello world");
    CHECK(read->media_type == "text/plain");
    CHECK(failure(recorder.read("missing", [](std::string_view) { return true; })).code == ErrorCode::NotFound);
    // An exception in the host's sink stops the read without crossing into the plugin.
    auto thrown = recorder.read("plain", [](std::string_view) -> bool { throw std::runtime_error("disk full"); });
    CHECK(failure(thrown).code == ErrorCode::Internal);
    // A recorder before ABI 1.3 reads ranges through read_session: the host skips what comes
    // before the range and stops after it, across the plugin's chunks ("hello " + "world").
    CHECK(rangeOf(recorder, "plain", 4, 4).value() == "o wo");
    CHECK(rangeOf(recorder, "plain", 6, 0).value() == "world");
    CHECK(rangeOf(recorder, "plain", 0, 3).value() == "hel");
    CHECK(rangeOf(recorder, "plain", 11, 5).value().empty());
    CHECK(failure(rangeOf(recorder, "missing", 0, 5)).code == ErrorCode::NotFound);
}

TEST_CASE("recording: a recorder that cannot list or read leaves the active sessions only", "[recording]") {
    TempDir tmp;
    paddock::test::writeFile(tmp.file("old.cast"), "{\"version\": 2, \"width\": 80, \"height\": 24}\n");
    SessionRecorder recorder(fixtureRecorder("recorder_kind", "org.paddock.test.recorder"), tmp.path(), false);
    auto rec = recorder.begin(infoFor("s-live"));
    REQUIRE(rec.ok());
    const auto all = recorder.list();
    REQUIRE(all.size() == 1);  // core does not read the directory itself
    CHECK(all[0].id == "s-live");
    CHECK(all[0].active);
    auto read = recorder.read("old", [](std::string_view) { return true; });
    CHECK(failure(read).code == ErrorCode::Unsupported);
    CHECK_THAT(failure(read).message, Contains("read_session: unsupported by recorder org.paddock.test.recorder"));
    (*rec)->close();
}
