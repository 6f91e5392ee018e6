// A small RAII wrapper over libxml2's xmlTextWriter: every document Paddock sends to libvirt is
// written through it, so text and attribute values are always escaped.
//
// Ownership: a XmlWriter owns its libxml2 writer and buffer; finish() returns a copy.
// Threading: one instance per thread; instances are independent.
#pragma once

#include <string>
#include <string_view>

namespace paddock::lvq {

class XmlWriter {
public:
    // `indent`: pretty-print with two spaces per level (used for domain XML, golden files).
    explicit XmlWriter(bool indent = true);
    ~XmlWriter();
    XmlWriter(const XmlWriter&) = delete;
    XmlWriter& operator=(const XmlWriter&) = delete;

    // `prefix`/`nsUri` may be empty. A non-empty nsUri declares xmlns[:prefix] on this element.
    XmlWriter& start(std::string_view name, std::string_view prefix = {}, std::string_view nsUri = {});
    XmlWriter& attr(std::string_view name, std::string_view value);
    // `what` names the value in the error when it cannot be written (requireXmlSafe).
    XmlWriter& text(std::string_view value, std::string_view what = "text");
    XmlWriter& end();
    // <name>value</name> in one call.
    XmlWriter& element(std::string_view name, std::string_view value);

    // Closes open elements and returns the document (no XML declaration, trailing newline).
    std::string finish();

private:
    struct Impl;
    Impl* impl_;
};

// Throws pdk::Error(PDK_ERR_INVALID_ARGUMENT) when `value` is not valid UTF-8 or holds
// characters XML 1.0 cannot carry (control characters other than tab, newline and carriage
// return; U+FFFE and U+FFFF). Every text and attribute value goes through it, so a string from
// the host is refused at the plugin boundary instead of making a document libvirt cannot parse.
void requireXmlSafe(std::string_view value, std::string_view what);

}  // namespace paddock::lvq
