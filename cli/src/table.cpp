#include "paddock/cli/table.hpp"

#include "paddock/core/utf8.hpp"

#include <algorithm>

namespace paddock::cli {

namespace {

size_t width(const std::string& utf8) {
    size_t w = 0;
    for (const char c : utf8)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++w;
    return w;
}

}  // namespace

std::string printable(const std::string& text) {
    std::string out = toValidUtf8(text);
    for (size_t i = 0; i < out.size(); ++i) {
        const auto c = static_cast<unsigned char>(out[i]);
        if (c < 0x20 || c == 0x7f) {
            out[i] = '?';
        } else if (c == 0xC2 && i + 1 < out.size() && static_cast<unsigned char>(out[i + 1]) < 0xA0) {
            // U+0080..U+009F, the C1 controls (CSI among them), are C2 80..C2 9F.
            out.replace(i, 2, "?");
        }
    }
    return out;
}

std::string renderTable(const Table& table) {
    const size_t columns = table.headers.size();
    std::vector<std::vector<std::string>> cells;
    cells.reserve(table.rows.size() + 1);
    cells.push_back(table.headers);
    for (const auto& row : table.rows) {
        std::vector<std::string> r(columns);
        for (size_t c = 0; c < columns && c < row.size(); ++c) r[c] = printable(row[c]);
        cells.push_back(std::move(r));
    }
    std::vector<size_t> widths(columns, 0);
    for (const auto& row : cells)
        for (size_t c = 0; c < columns; ++c) widths[c] = std::max(widths[c], width(row[c]));
    std::string out;
    for (const auto& row : cells) {
        std::string line;
        for (size_t c = 0; c < columns; ++c) {
            line += row[c];
            if (c + 1 < columns) line.append(widths[c] - width(row[c]) + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line;
        out += '\n';
    }
    return out;
}

}  // namespace paddock::cli
