#include "paddock/cli/table.hpp"

#include <algorithm>

namespace paddock::cli {

namespace {

// Length of a valid UTF-8 sequence starting at s[i], or 0.
size_t utf8Length(const std::string& s, size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
    return n;
}

size_t width(const std::string& printableText) {
    size_t w = 0;
    for (const char c : printableText)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++w;
    return w;
}

}  // namespace

std::string printable(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        const size_t n = utf8Length(text, i);
        const auto c = static_cast<unsigned char>(text[i]);
        if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7f))) {
            out += '?';
            i += n == 0 ? 1 : n;
            continue;
        }
        // U+0080..U+009F (C1 controls) are two bytes C2 80..C2 9F.
        if (n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {
            out += '?';
            i += 2;
            continue;
        }
        out.append(text, i, n);
        i += n;
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
