// Staff pages under /ui/: plain HTML from the web directory that do their work through the
// native API with the caller's token (the pages themselves hold no secret).
#include "paddock/server/routes.hpp"
#include "paddock/server/static_files.hpp"

namespace paddock::server {

void addUiRoutes(Router& router, const RouteContext& context) {
    const std::string webDir = context.webDir;
    router.add("GET", "/ui/exhibit", [webDir](Request&) { return servePrivatePage(webDir, "exhibit.html"); });
}

}  // namespace paddock::server
