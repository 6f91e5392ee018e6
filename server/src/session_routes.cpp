// Recorded terminal sessions: the listing, the recordings' bytes and the replay page. The
// recorder (core's SessionRecorder, through the recorder plugin) owns the storage and validates
// ids; nothing here builds a path from user input or knows the storage format: the media type
// and file extension of a download come from the plugin.
#include "paddock/core/lease.hpp"
#include "paddock/core/recording.hpp"
#include "paddock/server/json.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/static_files.hpp"

#include <chrono>

namespace paddock::server {

namespace {

Result<Response> listSessions(Runtime& rt, const Request& r) {
    // An owner-scoped token lists its owner's recordings, whatever ?owner= asks for.
    const std::string asked = r.queryValue("owner").value_or("");
    const std::string& bound = r.identity.owner;
    std::vector<SessionRecord> records;
    if (bound.empty() || asked.empty() || asked == bound)
        records = rt.recorder().list(r.queryValue("vm").value_or(""), bound.empty() ? asked : bound);
    JsonWriter json;
    json.beginObject().key("sessions").beginArray();
    for (const auto& s : records) {
        json.beginObject()
            .field("id", s.id)
            .key("site")
            .stringOrNull(s.site)
            .key("vm")
            .stringOrNull(s.vm)
            .key("owner")
            .stringOrNull(s.owner)
            .key("lease")
            .stringOrNull(s.lease)
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
    auto session = rt.recorder().describe(id);
    if (!session) return std::move(session).error();
    // An owner-scoped token reaches its owner's recordings only; another's is as unknown as a
    // missing one (and one whose owner the recorder cannot tell is no one's).
    if (!r.identity.mayReach(session->owner)) return SessionRecorder::notFound(id);
    Response response;
    // Sent piece by piece as the client takes them: a download holds one piece in memory and no
    // thread while the client reads. An active session's recording still grows; the download
    // ends where a piece comes short.
    response.stream = [&recorder = rt.recorder(), id, offset = uint64_t{0}](std::string& out) mutable -> Result<bool> {
        const size_t before = out.size();
        if (Status st = recorder.readRange(id, offset, kBodyPieceBytes,
                                           [&out](std::string_view chunk) {
                                               out.append(chunk);
                                               return true;
                                           });
            !st)
            return std::move(st).error();
        const size_t got = out.size() - before;
        offset += got;
        return got == kBodyPieceBytes;
    };
    response.contentType = session->media_type;
    // An active session's recording still grows. The id and the extension are validated by
    // core, so they are safe in the header.
    const std::string filename = session->file_extension.empty() ? id : id + "." + session->file_extension;
    response.headers.emplace_back("Cache-Control", "no-store");
    response.headers.emplace_back("Content-Disposition", "inline; filename=\"" + filename + "\"");
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
