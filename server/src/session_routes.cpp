// Recorded terminal sessions: the listing, the cast files and the replay page. The recorder
// (core's SessionRecorder) owns the directory and validates ids; nothing here builds a path
// from user input.
#include "paddock/core/lease.hpp"
#include "paddock/core/recording.hpp"
#include "paddock/server/json.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/static_files.hpp"

#include <chrono>
#include <fstream>
#include <sstream>

namespace paddock::server {

namespace {

constexpr const char* kCastContentType = "application/x-asciicast";

Result<Response> listSessions(Runtime& rt, const Request& r) {
    const auto records = rt.recorder().list(r.queryValue("vm").value_or(""), r.queryValue("owner").value_or(""));
    JsonWriter json;
    json.beginObject().key("sessions").beginArray();
    for (const auto& s : records) {
        json.beginObject()
            .field("id", s.id)
            .key("site").stringOrNull(s.site)
            .key("vm").stringOrNull(s.vm)
            .key("owner").stringOrNull(s.owner)
            .key("lease").stringOrNull(s.lease)
            .field("started_at", isoTime(std::chrono::system_clock::time_point(std::chrono::seconds(s.started_unix))))
            .field("duration_s", s.duration_s)
            .field("bytes", s.bytes)
            .field("active", s.active)
            .field("cast_url", "/api/v1/sessions/" + s.id + "/cast")
            .field("replay_url", "/sessions/" + s.id)
            .endObject();
    }
    json.endArray().field("recording_enabled", rt.recorder().enabled()).endObject();
    Response response = jsonResponse(200, json.str());
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
}

Result<Response> castFile(Runtime& rt, const Request& r) {
    const std::string& id = r.param("id");
    auto path = rt.recorder().castPath(id);
    if (!path) return std::move(path).error();
    std::ifstream in(path.value(), std::ios::binary);
    if (!in) return makeError(ErrorCode::NotFound, "no recording of session '" + id + "'");
    std::ostringstream content;
    content << in.rdbuf();
    Response response;
    response.contentType = kCastContentType;
    response.body = content.str();
    // An active session's cast still grows; the id is validated, so it is safe in the header.
    response.headers.emplace_back("Cache-Control", "no-store");
    response.headers.emplace_back("Content-Disposition", "inline; filename=\"" + id + ".cast\"");
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return response;
}

}  // namespace

void addSessionRoutes(Router& router, const RouteContext& context) {
    Runtime& rt = context.runtime;
    const std::string webDir = context.webDir;

    router.add("GET", "/api/v1/sessions", [&rt](Request& r) { return listSessions(rt, r); });
    router.add("GET", "/api/v1/sessions/{id}/cast", [&rt](Request& r) { return castFile(rt, r); });
    router.add("GET", "/sessions/{id}", [webDir](Request&) { return servePrivatePage(webDir, "replay.html"); });
    addAssetRoute(router, "/static/asciinema-player", webDir, {"asciinema-player/dist/bundle"}, "asciinema-player");
}

}  // namespace paddock::server
