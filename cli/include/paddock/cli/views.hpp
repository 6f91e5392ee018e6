// Human views of the API's JSON answers: a table per list (vm ls, pool ls, ...) and a
// field/value table for one object (vm show). The JSON comes from the network: a list that is
// not where the API puts it is an InvalidArgument ("unexpected answer"); a field of the wrong
// type or missing is shown as "-" (or its JSON text), never trusted.
#pragma once

#include "paddock/cli/table.hpp"
#include "paddock/core/result.hpp"

#include <rapidjson/document.h>

#include <string>

namespace paddock::cli {

// `wide` adds the columns `-o wide` shows.
Result<Table> vmTable(const rapidjson::Value& answer, bool wide);       // {"vms":[...]}
Result<Table> poolTable(const rapidjson::Value& answer, bool wide);     // {"pools":[...]}
Result<Table> leaseTable(const rapidjson::Value& answer, bool wide);    // {"leases":[...]}
Result<Table> sessionTable(const rapidjson::Value& answer, bool wide);  // {"sessions":[...]}
Result<Table> siteTable(const rapidjson::Value& answer, bool wide);     // {"sites":[...]}
Result<Table> pluginTable(const rapidjson::Value& answer, bool wide);   // {"plugins":[...]}
// One object as FIELD/VALUE rows, nested objects flattened as "ssh.port".
Result<Table> objectTable(const rapidjson::Value& object);

// A cell: strings as they are, numbers and booleans as JSON writes them, null or absent "-",
// arrays of strings joined with ",", other arrays and objects as compact JSON.
std::string cell(const rapidjson::Value& object, const char* field);

}  // namespace paddock::cli
