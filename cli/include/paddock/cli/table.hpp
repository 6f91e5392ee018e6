// Human tables: a header row and data rows, columns padded to their widest cell (counted in
// UTF-8 code points), separated by two spaces; the last column is not padded. Control characters
// in cells (escape sequences a hostile server could send to the terminal) are shown as '?'.
#pragma once

#include <string>
#include <vector>

namespace paddock::cli {

struct Table {
    std::vector<std::string> headers;
    std::vector<std::vector<std::string>> rows;  // a row shorter than headers is padded with ""
};

std::string renderTable(const Table& table);

// `text` as valid UTF-8 (core's toValidUtf8: invalid bytes become U+FFFD) with every C0/C1
// control character and DEL replaced by '?'.
std::string printable(const std::string& text);

}  // namespace paddock::cli
