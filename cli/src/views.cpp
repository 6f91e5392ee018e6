#include "paddock/cli/views.hpp"

#include "paddock/server/json.hpp"

#include <cstdio>
#include <functional>
#include <vector>

namespace paddock::cli {

namespace {

struct Column {
    const char* header;
    const char* field;
    bool wideOnly = false;
};

Result<Table> listTable(const rapidjson::Value& answer, const char* member, const std::vector<Column>& columns,
                        bool wide) {
    if (!answer.IsObject() || !answer.HasMember(member) || !answer[member].IsArray())
        return makeError(ErrorCode::InvalidArgument,
                         std::string("unexpected answer from the server: no \"") + member + "\" list in it");
    Table table;
    for (const auto& c : columns)
        if (wide || !c.wideOnly) table.headers.emplace_back(c.header);
    for (const auto& item : answer[member].GetArray()) {
        std::vector<std::string> row;
        for (const auto& c : columns)
            if (wide || !c.wideOnly) row.push_back(item.IsObject() ? cell(item, c.field) : "?");
        table.rows.push_back(std::move(row));
    }
    return table;
}

std::string scalar(const rapidjson::Value& v) {
    if (v.IsNull()) return "-";
    if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
    if (v.IsBool()) return v.GetBool() ? "true" : "false";
    if (v.IsInt64()) return std::to_string(v.GetInt64());
    if (v.IsUint64()) return std::to_string(v.GetUint64());
    if (v.IsNumber()) {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%g", v.GetDouble());
        return buffer;
    }
    if (v.IsArray()) {
        std::string joined;
        for (const auto& item : v.GetArray()) {
            if (!item.IsString()) return server::jsonText(v);
            if (!joined.empty()) joined += ",";
            joined.append(item.GetString(), item.GetStringLength());
        }
        return joined.empty() ? "-" : joined;
    }
    return server::jsonText(v);
}

void flatten(const rapidjson::Value& object, const std::string& prefix, Table& table, int depth) {
    for (const auto& m : object.GetObject()) {
        const std::string name = prefix + std::string(m.name.GetString(), m.name.GetStringLength());
        if (m.value.IsObject() && depth < 3 && !m.value.ObjectEmpty())
            flatten(m.value, name + ".", table, depth + 1);
        else
            table.rows.push_back({name, scalar(m.value)});
    }
}

}  // namespace

std::string cell(const rapidjson::Value& object, const char* field) {
    if (!object.IsObject()) return "-";
    if (!object.HasMember(field)) return "-";
    return scalar(object[field]);
}

Result<Table> vmTable(const rapidjson::Value& answer, bool wide) {
    return listTable(answer, "vms",
                     {{"NAME", "name"},
                      {"SITE", "site"},
                      {"STATE", "state"},
                      {"VCPUS", "vcpus"},
                      {"MEMORY_MB", "memory_mb"},
                      {"OWNER", "owner"},
                      {"TEMPLATE", "template"},
                      {"READINESS", "readiness", true},
                      {"UUID", "uuid", true},
                      {"DISK", "disk", true}},
                     wide);
}

Result<Table> poolTable(const rapidjson::Value& answer, bool wide) {
    return listTable(answer, "pools",
                     {{"NAME", "name"},
                      {"SITES", "sites"},
                      {"MODE", "mode"},
                      {"TEMPLATE", "template"},
                      {"IDLE", "idle"},
                      {"ALLOCATED", "allocated"},
                      {"BOOTING", "booting"},
                      {"TOTAL", "total"},
                      {"MIN_IDLE", "min_idle", true},
                      {"MAX_TOTAL", "max_total", true},
                      {"ON_EMPTY", "on_empty", true},
                      {"LAST_ERROR", "last_error", true}},
                     wide);
}

Result<Table> leaseTable(const rapidjson::Value& answer, bool wide) {
    return listTable(answer, "leases",
                     {{"ID", "id"},
                      {"POOL", "pool"},
                      {"VM", "vm"},
                      {"OWNER", "owner"},
                      {"STATE", "state"},
                      {"EXPIRES_AT", "expires_at"},
                      {"TTL_S", "ttl_s"},
                      {"SITE", "site", true},
                      {"CREATED_AT", "created_at", true}},
                     wide);
}

Result<Table> sessionTable(const rapidjson::Value& answer, bool wide) {
    return listTable(answer, "sessions",
                     {{"ID", "id"},
                      {"VM", "vm"},
                      {"OWNER", "owner"},
                      {"STARTED_AT", "started_at"},
                      {"DURATION_S", "duration_s"},
                      {"ACTIVE", "active"},
                      {"BYTES", "bytes", true},
                      {"SITE", "site", true},
                      {"LEASE", "lease", true}},
                     wide);
}

Result<Table> siteTable(const rapidjson::Value& answer, bool wide) {
    return listTable(answer, "sites",
                     {{"NAME", "name"},
                      {"BACKEND", "backend"},
                      {"URI", "uri"},
                      {"STATE", "state"},
                      {"EVENTS", "events"},
                      {"REASON", "reason", true},
                      {"DOMAIN_TYPE", "domain_type", true},
                      {"STORAGE_POOL", "storage_pool", true}},
                     wide);
}

Result<Table> pluginTable(const rapidjson::Value& answer, bool wide) {
    auto table = listTable(answer, "plugins",
                           {{"ID", "id"},
                            {"KIND", "kind"},
                            {"VERSION", "version"},
                            {"ABI", "abi_version"},
                            {"DESCRIPTION", "description", true},
                            {"PATH", "path", true}},
                           wide);
    if (!table) return table;
    // Load failures are part of the answer; an operator looking at plugins wants to see them.
    if (answer.HasMember("failures") && answer["failures"].IsArray())
        for (const auto& failure : answer["failures"].GetArray()) {
            std::vector<std::string> row(table->headers.size(), "-");
            row[0] = failure.IsObject() ? cell(failure, "path") : scalar(failure);
            row[1] = "FAILED";
            if (row.size() > 2) row[2] = failure.IsObject() ? cell(failure, "message") : "-";
            table->rows.push_back(std::move(row));
        }
    return table;
}

Result<Table> objectTable(const rapidjson::Value& object) {
    if (!object.IsObject()) return makeError(ErrorCode::InvalidArgument, "unexpected answer from the server: not an object");
    Table table{{"FIELD", "VALUE"}, {}};
    flatten(object, "", table, 0);
    return table;
}

}  // namespace paddock::cli
