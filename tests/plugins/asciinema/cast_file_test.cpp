// The cast writer and lister of org.paddock.asciinema without a host: event times as the cast
// stores them. (tests/core/recording/recording_test.cpp drives the whole plugin through SessionRecorder.)
#include "cast_file.hpp"
#include "cast_json.hpp"
#include "cast_store.hpp"

#include <test_support.hpp>

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace paddock::asciinema;
namespace t = paddock::test;

namespace {

pdk_recording_info infoIn(const std::string& dir, const char* session) {
    pdk_recording_info info{};
    info.struct_size = sizeof info;
    info.width = 80;
    info.height = 24;
    info.directory = dir.c_str();
    info.session_id = session;
    return info;
}

// The time of every event line of a cast, as a JSON reader parses it.
std::vector<double> eventTimes(const std::string& cast) {
    std::vector<double> times;
    size_t at = cast.find('\n') + 1;  // past the header
    while (at < cast.size()) {
        const size_t end = cast.find('\n', at);
        rapidjson::Document line;
        line.Parse<rapidjson::kParseFullPrecisionFlag>(cast.data() + at, end - at);
        REQUIRE_FALSE(line.HasParseError());
        REQUIRE(line.IsArray());
        times.push_back(line[0].GetDouble());
        at = end + 1;
    }
    return times;
}

// The number appendSeconds() is meant to write: "%.6f", read back.
double asStored(double seconds) {
    char buf[400];
    std::snprintf(buf, sizeof buf, "%.6f", seconds);
    return std::strtod(buf, nullptr);
}

}  // namespace

TEST_CASE("appendSeconds writes microseconds, and every digit of a huge time", "[asciinema]") {
    std::string out;
    appendSeconds(out, 1.25);
    CHECK(out == "1.250000");
    // 1e300 s has 301 digits before the point; a cut-off text would be another number.
    out.clear();
    appendSeconds(out, 1e300);
    CHECK(out.size() == 301 + 7);
    CHECK(std::strtod(out.c_str(), nullptr) == 1e300);
}

TEST_CASE("a cast stores each event's own time, however large, and times never go back", "[asciinema]") {
    t::TempDir tmp;
    const std::string dir = tmp.path();
    {
        auto rec = CastRecording::open(infoIn(dir, "huge"), 0);
        rec->write(1.5, PDK_RECORDING_OUTPUT, "a", 0);
        // Found by tests/fuzz (asciicast): times of more than 31 characters were cut short, so
        // 9e40 s was stored as 9e30 and 1e41 s as 1e30, before it.
        rec->write(9e40, PDK_RECORDING_OUTPUT, "b", 0);
        rec->write(1e41, PDK_RECORDING_OUTPUT, "c", 0);
        rec->write(1e300, PDK_RECORDING_MARKER, "m", 0);
    }
    const std::vector<double> times = eventTimes(t::readFile(dir + "/huge.cast"));
    CHECK(times == std::vector<double>{1.5, asStored(9e40), asStored(1e41), asStored(1e300)});

    // The lister's duration is the last event's time, read whole too.
    std::vector<double> durations;
    listCasts(
        dir.c_str(), "huge", 0,
        [](void* user, const pdk_session_info* info) {
            static_cast<std::vector<double>*>(user)->push_back(info->duration_seconds);
        },
        &durations);
    CHECK(durations == std::vector<double>{asStored(1e300)});
}

TEST_CASE("the lister hands the host valid UTF-8 whatever bytes a cast's header holds", "[asciinema]") {
    // Found by tests/fuzz (asciicast): a header written by another program with "l\xe9b-1" as
    // its VM (Latin-1) reached the host as invalid UTF-8.
    t::TempDir tmp;
    const std::string dir = tmp.path();
    t::writeFile(dir + "/latin1.cast",
                 "{\"version\": 2, \"width\": 80, \"height\": 24, \"vm\": \"l\xe9" "b-1\", \"owner\": \"\xff\", "
                 "\"site\": \"s\xc3\xbc\"}\n[0.5, \"o\", \"hi\"]\n");
    struct Seen {
        std::string vm, owner, site;
    } seen;
    listCasts(
        dir.c_str(), "latin1", 0,
        [](void* user, const pdk_session_info* info) {
            auto* s = static_cast<Seen*>(user);
            s->vm = info->vm;
            s->owner = info->owner;
            s->site = info->site;
        },
        &seen);
    CHECK(seen.vm ==
          "l\xef\xbf\xbd"
          "b-1");
    CHECK(seen.owner == "\xef\xbf\xbd");
    CHECK(seen.site == "s\xc3\xbc");  // valid UTF-8 stays as it is
}
