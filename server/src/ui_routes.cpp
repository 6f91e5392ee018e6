// Staff pages under /ui/: plain HTML from the web directory that do their work through the
// native API with the caller's token (the pages themselves hold no secret).
#include "paddock/server/routes.hpp"
#include "paddock/server/static_files.hpp"

namespace paddock::server {

void addUiRoutes(Router& router, const RouteContext& context) {
    const std::string webDir = context.webDir;
    // The router ignores one trailing '/', so this is /ui/ too; the page names its assets by
    // absolute path, which resolve the same from either.
    router.add("GET", "/ui", [webDir](Request&) { return servePrivatePage(webDir + "/panel", "index.html"); });
    router.add("GET", "/ui/assets/{file}", [webDir](Request& r) { return serveFile(webDir + "/panel", r.param("file")); });
    router.add("GET", "/ui/exhibit", [webDir](Request&) { return servePrivatePage(webDir, "exhibit.html"); });
}

}  // namespace paddock::server
