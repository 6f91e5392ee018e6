// asciinema cast_file + cast_json + cast_store: a recording written from fuzzed events, read back
// line by line, and arbitrary file content read as a cast.
//
// Input starting with 's': the rest is the content of a stored .cast file; the lister and the
// reader must not crash, every string they report must be UTF-8 (pdk_recorder.h) and the reader
// must hand back the file's bytes.
// Otherwise: byte 0 bit 0 asks for record_input; then header text up to '\n' (title, vm, owner,
// separated by 0x1F); then events of [kind][step][length][data], kind as pdk_recorder.h spells it
// (others must be refused), step the time since the last event in 1/16 s (0xFD: 1e300 s,
// 0xFE: -1 s, 0xFF: NaN). Every line of the cast must be valid UTF-8 and valid JSON, times never
// go back and are the events' own, output and input concatenated are exactly the bytes written
// as UTF-8 (a character split across events is kept whole), and the lister reports the header.
#include "fuzz_support.hpp"

#include "cast_file.hpp"
#include "cast_store.hpp"

#include "paddock/core/utf8.hpp"

#include <paddock/cpp/error.hpp>

#include <rapidjson/document.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace {

using namespace paddock;
using namespace paddock::asciinema;
namespace fs = std::filesystem;

constexpr const char* kSession = "fuzz-session";

fs::path& directory() {
    static fs::path dir;
    return dir;
}

std::string castPath() { return (directory() / (std::string(kSession) + ".cast")).string(); }

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

struct Listed {
    std::vector<pdk_session_info> infos;
    std::vector<std::string> strings;  // copies of the borrowed strings, checked in the sink
};

void sink(void* user, const pdk_session_info* info) {
    auto* listed = static_cast<Listed*>(user);
    for (const char* s : {info->session_id, info->site, info->vm, info->owner, info->lease, info->media_type,
                          info->format, info->file_extension}) {
        FUZZ_CHECK(s != nullptr);
        FUZZ_CHECK(isValidUtf8(s));
        listed->strings.emplace_back(s);
    }
    FUZZ_CHECK(std::string(info->session_id) == kSession);
    listed->infos.push_back(*info);
}

Listed listOne() {
    Listed listed;
    try {
        listCasts(directory().c_str(), kSession, 0, &sink, &listed);
    } catch (const pdk::Error& e) {
        FUZZ_CHECK(e.status() == PDK_ERR_NOT_FOUND);
    }
    Listed all;
    listCasts(directory().c_str(), nullptr, 0, &sink, &all);
    FUZZ_CHECK(all.infos.size() == listed.infos.size());
    return listed;
}

std::string readRange(uint64_t offset, uint64_t maxBytes) {
    std::string bytes;
    readCast(
        directory().c_str(), kSession, offset, maxBytes, 0,
        [](void* user, const char* data, size_t len) {
            FUZZ_CHECK(len > 0);
            static_cast<std::string*>(user)->append(data, len);
            return 0;
        },
        &bytes);
    return bytes;
}

// The whole recording, checked against ranges of it (read_session_range, ABI 1.3).
std::string readBack() {
    const std::string bytes = readRange(0, 0);
    const uint64_t third = bytes.size() / 3;
    FUZZ_CHECK(readRange(third, 97) == bytes.substr(third, 97));
    FUZZ_CHECK(readRange(third, 0) == bytes.substr(third));
    FUZZ_CHECK(readRange(bytes.size(), 10).empty());
    return bytes;
}

void checkStored(std::string_view content) {
    {
        std::ofstream out(castPath(), std::ios::binary | std::ios::trunc);
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
    }
    const Listed listed = listOne();
    FUZZ_CHECK(listed.infos.size() <= 1);
    if (!listed.infos.empty()) FUZZ_CHECK(listed.infos[0].size_bytes == content.size());
    FUZZ_CHECK(readBack() == content);
}

struct Written {
    std::string output, input;  // bytes handed to write() per kind
    std::vector<std::string> markers, resizes;
    std::vector<double> times;  // the time each written event should carry
};

double stepOf(uint8_t step) {
    switch (step) {
        case 0xFD: return 1e300;
        case 0xFE: return -1;
        case 0xFF: return std::numeric_limits<double>::quiet_NaN();
        default: return step / 16.0;
    }
}

// The time as the writer is meant to store it: microseconds, "%.6f".
double stored(double seconds) {
    char buf[400];
    std::snprintf(buf, sizeof buf, "%.6f", seconds);
    return std::strtod(buf, nullptr);
}

void checkLines(const std::string& cast, const Written& w, bool recordInput, const std::vector<std::string>& header) {
    FUZZ_CHECK(!cast.empty() && cast.back() == '\n');
    std::string output, input;
    std::vector<std::string> markers, resizes;
    std::vector<double> times;
    size_t lineNo = 0;
    for (size_t at = 0; at < cast.size(); ++lineNo) {
        const size_t end = cast.find('\n', at);
        const std::string_view line(cast.data() + at, end - at);
        at = end + 1;
        FUZZ_CHECK(isValidUtf8(line));
        rapidjson::Document parsed;
        parsed.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseFullPrecisionFlag>(line.data(),
                                                                                                 line.size());
        FUZZ_CHECK(!parsed.HasParseError());
        const rapidjson::Value& doc = parsed;
        if (lineNo == 0) {
            FUZZ_CHECK(doc.IsObject());
            const auto version = doc.FindMember("version");
            FUZZ_CHECK(version != doc.MemberEnd() && version->value.IsInt() && version->value.GetInt() == 2);
            const char* keys[] = {"title", "vm", "owner"};
            for (size_t k = 0; k < 3; ++k) {
                const std::string expected = toValidUtf8(std::string(header[k].c_str()));
                const auto it = doc.FindMember(keys[k]);
                if (expected.empty())
                    FUZZ_CHECK(it == doc.MemberEnd());
                else
                    FUZZ_CHECK(it != doc.MemberEnd() &&
                               std::string(it->value.GetString(), it->value.GetStringLength()) == expected);
            }
            continue;
        }
        FUZZ_CHECK(doc.IsArray() && doc.Size() == 3 && doc[0].IsNumber() && doc[1].IsString() && doc[2].IsString());
        const double t = doc[0].GetDouble();
        FUZZ_CHECK(times.empty() || t >= times.back());
        times.push_back(t);
        const std::string kind = doc[1].GetString();
        const std::string data(doc[2].GetString(), doc[2].GetStringLength());
        if (kind == "o")
            output += data;
        else if (kind == "i")
            input += data;
        else if (kind == "m")
            markers.push_back(data);
        else if (kind == "r")
            resizes.push_back(data);
        else
            FUZZ_CHECK(false);
    }
    FUZZ_CHECK(output == toValidUtf8(w.output));
    FUZZ_CHECK(input == (recordInput ? toValidUtf8(w.input) : std::string()));
    FUZZ_CHECK(markers == w.markers && resizes == w.resizes);
    // Pieces of output that end inside a character write no line of their own, so the lines'
    // times are a subsequence of the events' times.
    size_t k = 0;
    for (const double t : times) {
        while (k < w.times.size() && w.times[k] != t) ++k;
        FUZZ_CHECK(k < w.times.size());
    }
}

void checkWritten(std::string_view input) {
    const bool recordInput = (static_cast<uint8_t>(input[0]) & 1) != 0;
    input.remove_prefix(1);
    const size_t newline = input.find('\n');
    std::vector<std::string> header(3);
    {
        const std::string_view text = input.substr(0, newline);
        size_t field = 0;
        for (const char c : text) {
            if (c == '\x1f')
                field = std::min<size_t>(field + 1, 2);
            else
                header[field].push_back(c);
        }
    }
    input = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

    pdk_recording_info info{};
    info.struct_size = sizeof info;
    info.width = 80;
    info.height = 24;
    info.start_timestamp = 1700000000;
    const std::string dir = directory().string();
    info.directory = dir.c_str();
    info.session_id = kSession;
    info.term = "xterm-256color";
    info.shell = "/bin/sh";
    info.title = header[0].c_str();
    info.vm = header[1].c_str();
    info.owner = header[2].c_str();
    info.record_input = recordInput ? 1 : 0;

    Written w;
    {
        auto recording = CastRecording::open(info, PDK_RECORDING_REPLACE);
        double now = 0;
        while (input.size() >= 3) {
            const char kind = input[0];
            const double step = stepOf(static_cast<uint8_t>(input[1]));
            const size_t length = std::min<size_t>(static_cast<uint8_t>(input[2]), input.size() - 3);
            const std::string_view data = input.substr(3, length);
            input.remove_prefix(3 + length);
            const double seconds = now + step;
            try {
                recording->write(seconds, kind, data, 0);
            } catch (const pdk::Error& e) {
                FUZZ_CHECK(e.status() == PDK_ERR_INVALID_ARGUMENT);
                continue;
            }
            if (kind == PDK_RECORDING_INPUT && !recordInput) continue;    // dropped, time and all
            if (std::isfinite(seconds) && seconds >= now) now = seconds;  // times never go back
            w.times.push_back(stored(now));
            switch (kind) {
                case PDK_RECORDING_OUTPUT: w.output.append(data); break;
                case PDK_RECORDING_INPUT: w.input.append(data); break;
                case PDK_RECORDING_MARKER: w.markers.push_back(toValidUtf8(data)); break;
                case PDK_RECORDING_RESIZE: w.resizes.emplace_back(data); break;
                default: FUZZ_CHECK(false);  // any other kind is refused
            }
        }
        // Closing writes what an unfinished character left as U+FFFD, at the last time.
        w.times.push_back(stored(now));
    }
    const std::string cast = readFile(castPath());
    checkLines(cast, w, recordInput, header);

    const Listed listed = listOne();
    FUZZ_CHECK(listed.infos.size() == 1);
    FUZZ_CHECK(listed.infos[0].size_bytes == cast.size());
    FUZZ_CHECK(readBack() == cast);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    std::string pattern = (fs::temp_directory_path() / "paddock-fuzz-asciicast-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    directory() = pattern;
    std::atexit([] {
        std::error_code ignored;
        fs::remove_all(directory(), ignored);
    });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input = fuzz::asText(data, size);
    if (input.empty()) return 0;
    if (input[0] == 's')
        checkStored(input.substr(1));
    else
        checkWritten(input);
    return 0;
}
