#include "paddock/server/static_files.hpp"

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace paddock::server {

std::string_view contentTypeFor(std::string_view fileName) noexcept {
    struct Entry {
        std::string_view extension, type;
    };
    static constexpr Entry kTypes[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "application/javascript; charset=utf-8"},
        {".mjs", "application/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
    };
    for (const auto& e : kTypes)
        if (fileName.ends_with(e.extension)) return e.type;
    return "application/octet-stream";
}

namespace {

std::string realPath(const std::string& path) {
    const std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr), &std::free);
    return resolved ? std::string(resolved.get()) : std::string();
}

}  // namespace

Result<Response> serveFile(const std::string& root, std::string_view relative) {
    const auto notFound = [&] { return makeError(ErrorCode::NotFound, "no such file: " + std::string(relative)); };
    if (relative.empty() || relative.front() == '/' || relative.find('\\') != std::string_view::npos ||
        relative.find('\0') != std::string_view::npos)
        return notFound();
    // Reject ".", ".." and hidden names segment by segment rather than trying to normalise.
    for (size_t start = 0; start <= relative.size();) {
        const size_t slash = std::min(relative.find('/', start), relative.size());
        const auto segment = relative.substr(start, slash - start);
        if (segment.empty() || segment.front() == '.') return notFound();
        start = slash + 1;
    }
    // A symlink inside the tree could still point elsewhere; compare resolved paths.
    const std::string base = realPath(root);
    const std::string file = realPath(root + "/" + std::string(relative));
    if (base.empty() || file.empty() || !file.starts_with(base + "/")) return notFound();

    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) return notFound();
    std::ifstream in(file, std::ios::binary);
    if (!in) return notFound();
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) return notFound();
    Response response;
    response.contentType = std::string(contentTypeFor(file));
    response.body = content.str();
    response.headers.emplace_back("Cache-Control", "public, max-age=3600");
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return response;
}

Result<Response> servePrivatePage(const std::string& webDir, std::string_view page) {
    auto file = serveFile(webDir, page);
    if (!file) return file;
    file->headers.emplace_back("Cache-Control", "no-store");
    file->headers.emplace_back("Referrer-Policy", "no-referrer");
    return file;
}

void addAssetRoute(Router& router, const std::string& prefix, const std::string& webDir, std::vector<std::string> dirs,
                   const std::string& package) {
    router.add("GET", prefix + "/{file}", [webDir, dirs = std::move(dirs), package](Request& r) -> Result<Response> {
        Result<Response> file = makeError(ErrorCode::NotFound, "no such file: " + r.param("file"));
        for (const auto& dir : dirs) {
            file = serveFile(webDir + "/node_modules/" + dir, r.param("file"));
            if (file || file.error().code != ErrorCode::NotFound) return file;
        }
        return makeError(ErrorCode::NotFound, file.error().message + " (" + package +
                                                  " assets come from npm: scripts/setup.sh installs them)");
    });
}

}  // namespace paddock::server
