#include "xml_writer.hpp"

#include <paddock/cpp/backend.hpp>

#include <libxml/xmlwriter.h>

#include <string>

namespace paddock::lvq {

namespace {

const xmlChar* x(const std::string& s) { return reinterpret_cast<const xmlChar*>(s.c_str()); }

void check(int rc, const char* what) {
    if (rc < 0) throw pdk::Error(PDK_ERR_INTERNAL, std::string("XML writer failed in ") + what);
}

// Length of the well-formed UTF-8 sequence at s[i] (Unicode 15, table 3-7), 0 when there is none.
size_t utf8Length(std::string_view s, size_t i) {
    const auto at = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
    const unsigned c = at(0);
    const auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) { return at(k) >= lo && at(k) <= hi; };
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
    if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;  // no surrogates
    if (c >= 0xE1 && c <= 0xEF) return cont(1) && cont(2) ? 3 : 0;
    if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
    return 0;
}

}  // namespace

struct XmlWriter::Impl {
    xmlBufferPtr buffer = nullptr;
    xmlTextWriterPtr writer = nullptr;
};

XmlWriter::XmlWriter(bool indent) : impl_(new Impl) {
    impl_->buffer = xmlBufferCreate();
    if (impl_->buffer != nullptr) impl_->writer = xmlNewTextWriterMemory(impl_->buffer, 0);
    if (impl_->writer == nullptr) {
        if (impl_->buffer != nullptr) xmlBufferFree(impl_->buffer);
        delete impl_;
        throw pdk::Error(PDK_ERR_INTERNAL, "cannot create XML writer");
    }
    if (indent) {
        xmlTextWriterSetIndent(impl_->writer, 1);
        xmlTextWriterSetIndentString(impl_->writer, reinterpret_cast<const xmlChar*>("  "));
    }
}

XmlWriter::~XmlWriter() {
    xmlFreeTextWriter(impl_->writer);
    xmlBufferFree(impl_->buffer);
    delete impl_;
}

XmlWriter& XmlWriter::start(std::string_view name, std::string_view prefix, std::string_view nsUri) {
    const std::string n(name), p(prefix), u(nsUri);
    check(xmlTextWriterStartElementNS(impl_->writer, p.empty() ? nullptr : x(p), x(n), u.empty() ? nullptr : x(u)),
          "start element");
    return *this;
}

XmlWriter& XmlWriter::attr(std::string_view name, std::string_view value) {
    requireXmlSafe(value, name);
    const std::string n(name), v(value);
    check(xmlTextWriterWriteAttribute(impl_->writer, x(n), x(v)), "attribute");
    return *this;
}

XmlWriter& XmlWriter::text(std::string_view value, std::string_view what) {
    requireXmlSafe(value, what);
    const std::string v(value);
    check(xmlTextWriterWriteString(impl_->writer, x(v)), "text");
    return *this;
}

XmlWriter& XmlWriter::end() {
    check(xmlTextWriterEndElement(impl_->writer), "end element");
    return *this;
}

XmlWriter& XmlWriter::element(std::string_view name, std::string_view value) {
    return start(name).text(value, name).end();
}

std::string XmlWriter::finish() {
    // EndDocument closes whatever is still open and flushes into the buffer.
    check(xmlTextWriterEndDocument(impl_->writer), "end document");
    xmlTextWriterFlush(impl_->writer);
    std::string out(reinterpret_cast<const char*>(xmlBufferContent(impl_->buffer)),
                    static_cast<size_t>(xmlBufferLength(impl_->buffer)));
    if (out.empty() || out.back() != '\n') out.push_back('\n');
    return out;
}

void requireXmlSafe(std::string_view value, std::string_view what) {
    for (size_t i = 0; i < value.size();) {
        const auto u = static_cast<unsigned char>(value[i]);
        if (u < 0x20 && u != '\t' && u != '\n' && u != '\r') {
            throw pdk::Error(PDK_ERR_INVALID_ARGUMENT,
                             std::string(what) + " contains a control character XML cannot carry");
        }
        const size_t length = utf8Length(value, i);
        if (length == 0) {
            throw pdk::Error(PDK_ERR_INVALID_ARGUMENT,
                             std::string(what) + " is not valid UTF-8 (byte " + std::to_string(i) + ")");
        }
        if (value.substr(i, length) == "\xEF\xBF\xBE" || value.substr(i, length) == "\xEF\xBF\xBF") {
            throw pdk::Error(PDK_ERR_INVALID_ARGUMENT,
                             std::string(what) + " contains U+FFFE or U+FFFF, which XML cannot carry");
        }
        i += length;
    }
}

}  // namespace paddock::lvq
