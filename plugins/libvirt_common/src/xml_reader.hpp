// Read-only access to small XML documents from libvirt through libxml2 XPath.
//
// Ownership: an XmlDoc owns its parsed document. Threading: one instance per thread.
// Errors: the constructor throws pdk::Error(PDK_ERR_INTERNAL) on malformed XML.
#pragma once

#include <string>
#include <vector>

namespace paddock::lvq {

class XmlDoc {
public:
    // Network access and entity expansion are off; `what` names the document in errors.
    XmlDoc(const std::string& xml, const char* what);
    ~XmlDoc();
    XmlDoc(const XmlDoc&) = delete;
    XmlDoc& operator=(const XmlDoc&) = delete;

    // String values of every node the XPath expression selects (attribute values or text).
    std::vector<std::string> strings(const char* xpath) const;
    bool any(const char* xpath) const;

    // (key attribute, text) of every child element of the root whose local name is `child`,
    // ignoring namespaces: libvirt hands metadata back with or without its prefix.
    std::vector<std::pair<std::string, std::string>> rootChildren(const char* child, const char* keyAttr) const;

private:
    void* doc_;  // xmlDocPtr, kept out of the header
};

}  // namespace paddock::lvq
