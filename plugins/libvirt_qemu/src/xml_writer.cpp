#include "xml_writer.hpp"

#include <paddock/cpp/backend.hpp>

#include <libxml/xmlwriter.h>

namespace paddock::lvq {

namespace {

const xmlChar* x(const std::string& s) { return reinterpret_cast<const xmlChar*>(s.c_str()); }

void check(int rc, const char* what) {
    if (rc < 0) throw pdk::Error(PDK_ERR_INTERNAL, std::string("XML writer failed in ") + what);
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

XmlWriter& XmlWriter::text(std::string_view value) {
    requireXmlSafe(value, "text");
    const std::string v(value);
    check(xmlTextWriterWriteString(impl_->writer, x(v)), "text");
    return *this;
}

XmlWriter& XmlWriter::end() {
    check(xmlTextWriterEndElement(impl_->writer), "end element");
    return *this;
}

XmlWriter& XmlWriter::element(std::string_view name, std::string_view value) {
    return start(name).text(value).end();
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
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 && u != '\t' && u != '\n' && u != '\r') {
            throw pdk::Error(PDK_ERR_INVALID_ARGUMENT,
                             std::string(what) + " contains a control character XML cannot carry");
        }
    }
}

}  // namespace paddock::lvq
