#include "paddock/cli/cast.hpp"

#include "paddock/server/json.hpp"

#include <cmath>

namespace paddock::cli {

namespace {

Error bad(std::string message) { return makeError(ErrorCode::InvalidArgument, std::move(message)); }

Error atLine(size_t line, const Error& error) {
    return makeError(error.code, "cast line " + std::to_string(line) + ": " + error.message);
}

}  // namespace

Result<CastHeader> parseCastHeader(std::string_view line) {
    auto doc = server::parseJsonValue(line);
    if (!doc) return bad("the header is not JSON: " + doc.error().message);
    if (!doc->IsObject()) return bad("the header is not a JSON object");
    if (!doc->HasMember("version") || !(*doc)["version"].IsInt() || (*doc)["version"].GetInt() != 2)
        return bad("not an asciicast v2 recording (\"version\" is not 2)");
    CastHeader header;
    for (const auto& [field, target] : {std::pair{"width", &header.width}, std::pair{"height", &header.height}}) {
        const rapidjson::Value* value = doc->HasMember(field) ? &(*doc)[field] : nullptr;
        if (!value || !value->IsUint() || value->GetUint() == 0 || value->GetUint() > 10000)
            return bad(std::string("the header's \"") + field + "\" is not a terminal size");
        *target = value->GetUint();
    }
    return header;
}

Result<CastEvent> parseCastEvent(std::string_view line) {
    auto doc = server::parseJsonValue(line);
    if (!doc) return bad("not JSON: " + doc.error().message);
    if (!doc->IsArray() || doc->Size() != 3) return bad("an event is an array [time, code, data]");
    const auto& a = doc->GetArray();
    if (!a[0].IsNumber() || !std::isfinite(a[0].GetDouble()) || a[0].GetDouble() < 0)
        return bad("an event's time is not a number of seconds >= 0");
    if (!a[1].IsString() || !a[2].IsString()) return bad("an event's code and data are not strings");
    return CastEvent{a[0].GetDouble(), std::string(a[1].GetString(), a[1].GetStringLength()),
                     std::string(a[2].GetString(), a[2].GetStringLength())};
}

double playbackDelay(double previous, double current, double speed, std::optional<double> idleLimit) {
    double gap = current - previous;
    if (!(gap > 0)) return 0;
    if (idleLimit && gap > *idleLimit) gap = *idleLimit;
    return speed > 0 ? gap / speed : gap;
}

Result<std::optional<std::string>> CastReader::readLine() {
    std::string line;
    int c = 0;
    bool any = false;
    while ((c = in_.get()) != std::char_traits<char>::eof()) {
        any = true;
        if (c == '\n') break;
        if (line.size() >= kMaxCastLine)
            return bad("cast line " + std::to_string(line_ + 1) + " is longer than " +
                       std::to_string(kMaxCastLine >> 20) + " MiB");
        line += static_cast<char>(c);
    }
    if (!any) {
        if (in_.bad()) return bad("reading the cast failed");
        return std::optional<std::string>();
    }
    ++line_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return std::optional<std::string>(std::move(line));
}

Result<CastHeader> CastReader::header() {
    auto line = readLine();
    if (!line) return std::move(line).error();
    if (!*line) return bad("the cast is empty");
    auto header = parseCastHeader(**line);
    if (!header) return atLine(line_, header.error());
    return header;
}

Result<std::optional<CastEvent>> CastReader::next() {
    for (;;) {
        auto line = readLine();
        if (!line) return std::move(line).error();
        if (!*line) return std::optional<CastEvent>();
        if ((*line)->find_first_not_of(" \t") == std::string::npos) continue;
        auto event = parseCastEvent(**line);
        if (!event) return atLine(line_, event.error());
        return std::optional<CastEvent>(std::move(*event));
    }
}

Status playCast(std::istream& in, std::ostream& out, const PlayOptions& options) {
    CastReader reader(in);
    auto header = reader.header();
    if (!header) return std::move(header).error();
    double previous = 0;
    for (;;) {
        auto event = reader.next();
        if (!event) return std::move(event).error();
        if (!*event) return {};
        const CastEvent& e = **event;
        if (e.code != "o") continue;
        const double delay = playbackDelay(previous, e.time, options.speed, options.idleLimit);
        // Events that go back in time are played at once; the clock does not go back with them.
        if (e.time > previous) previous = e.time;
        if (delay > 0 && options.wait) options.wait(delay);
        out.write(e.data.data(), static_cast<std::streamsize>(e.data.size()));
        out.flush();
        if (!out) return makeError(ErrorCode::Unavailable, "cannot write the output");
    }
}

}  // namespace paddock::cli
