// The host facts a Site keeps for placement and GET /api/v1/sites/{name}: its free memory and
// whether each template's files are there. Read on the link's thread at connect and on the
// domain view's refresher thread after (Site::onListed), never on a request's thread.
#include "paddock/core/site.hpp"

#include <map>

namespace paddock {

namespace {

// The files of a template that must be on the host: base image, kernel, initrd.
std::vector<std::pair<const char*, std::string>> templateFiles(const TemplateConfig& t) {
    std::vector<std::pair<const char*, std::string>> files;
    if (!t.base_image.empty()) files.emplace_back("base image", t.base_image);
    if (!t.kernel.empty()) files.emplace_back("kernel", t.kernel);
    if (!t.initrd.empty()) files.emplace_back("initrd", t.initrd);
    return files;
}

}  // namespace

SiteResources Site::resources() const {
    std::lock_guard lock(factsMutex_);
    return resources_;
}

std::vector<TemplateCheck> Site::templateChecks() const {
    std::lock_guard lock(factsMutex_);
    if (!templateChecks_.empty() || config_.templates.empty()) return templateChecks_;
    std::vector<TemplateCheck> unchecked;
    for (const auto& t : config_.templates) unchecked.push_back(TemplateCheck{t.name, true, "not checked yet", false, {}});
    return unchecked;
}

std::optional<TemplateCheck> Site::templateCheck(const std::string& name) const {
    const TemplateConfig* tmpl = findTemplate(config_, name);
    if (tmpl == nullptr) return std::nullopt;
    for (auto& check : templateChecks())
        if (check.name == tmpl->name) return check;
    return std::nullopt;
}

PlacementHostFacts Site::placementFacts(const std::string& templateName) const {
    PlacementHostFacts facts;
    if (const auto r = resources(); r.host) facts.free_memory_mb = r.host->memory_free_bytes / (1024 * 1024);
    if (const auto check = templateCheck(templateName); check && !check->usable) facts.template_unusable = check->reason;
    return facts;
}

void Site::refreshHostFactsNow() {
    if (auto conn = link_.connection()) refreshHostFacts(*conn.value(), true);
}

void Site::refreshHostFacts(BackendConnection& conn, bool force) {
    const auto now = std::chrono::steady_clock::now();
    bool resourcesDue = force, templatesDue = force;
    {
        std::lock_guard lock(factsMutex_);
        resourcesDue = resourcesDue || now >= resourcesDue_;
        templatesDue = templatesDue || now >= templatesDue_;
        if (resourcesDue) resourcesDue_ = now + kResourcesInterval;
        if (templatesDue) templatesDue_ = now + kTemplateCheckInterval;
    }
    if (resourcesDue && conn.supports("host_resources")) {
        auto read = conn.hostResources();
        std::lock_guard lock(factsMutex_);
        if (read) {
            resources_ = SiteResources{read.value(), std::chrono::system_clock::now(), {}};
        } else {
            // The last figures stay (placement keeps using them) with the reason they are old.
            resources_.error = read.error().message;
        }
    }
    if (!templatesDue) return;
    const bool canCheck = conn.supports("volume_info");
    std::map<std::string, Result<VolumeInfo>> seen;  // each path once per round
    std::vector<TemplateCheck> checks;
    for (const auto& t : config_.templates) {
        TemplateCheck check{t.name, true, {}, true, std::chrono::system_clock::now()};
        const auto files = templateFiles(t);
        if (!canCheck && !files.empty()) {
            check.reason = "files not checked: backend " + backend().info().id + " has no volume_info";
            checks.push_back(std::move(check));
            continue;
        }
        for (const auto& [what, path] : files) {
            auto it = seen.find(path);
            if (it == seen.end()) it = seen.emplace(path, conn.volumeInfo(path)).first;
            const auto& info = it->second;
            if (info) continue;
            // Only "not there" makes a template unusable; a failed check (host gone, I/O error)
            // says nothing about the file, and the create would tell the truth anyway.
            if (info.error().code == ErrorCode::NotFound) {
                check.usable = false;
                check.reason = std::string(what) + " " + path + ": " + info.error().message;
                break;
            }
            check.reason = std::string(what) + " not checked: " + info.error().message;
        }
        checks.push_back(std::move(check));
    }
    std::lock_guard lock(factsMutex_);
    templateChecks_ = std::move(checks);
}

}  // namespace paddock
