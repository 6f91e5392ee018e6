#include "xml_reader.hpp"

#include <paddock/cpp/backend.hpp>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include <cstring>
#include <memory>

namespace paddock::lvq {

namespace {

xmlDocPtr docOf(void* p) { return static_cast<xmlDocPtr>(p); }

std::string owned(xmlChar* s) {
    if (s == nullptr) return {};
    std::string out(reinterpret_cast<const char*>(s));
    xmlFree(s);
    return out;
}

}  // namespace

XmlDoc::XmlDoc(const std::string& xml, const char* what)
    : doc_(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), nullptr, nullptr,
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)) {
    if (doc_ == nullptr || xmlDocGetRootElement(docOf(doc_)) == nullptr) {
        if (doc_ != nullptr) xmlFreeDoc(docOf(doc_));
        throw pdk::Error(PDK_ERR_INTERNAL, std::string("malformed XML from libvirt: ") + what);
    }
}

XmlDoc::~XmlDoc() { xmlFreeDoc(docOf(doc_)); }

std::vector<std::string> XmlDoc::strings(const char* xpath) const {
    std::unique_ptr<xmlXPathContext, decltype(&xmlXPathFreeContext)> ctx(xmlXPathNewContext(docOf(doc_)),
                                                                         &xmlXPathFreeContext);
    if (!ctx) throw pdk::Error(PDK_ERR_INTERNAL, "cannot create XPath context");
    std::unique_ptr<xmlXPathObject, decltype(&xmlXPathFreeObject)> res(
        xmlXPathEvalExpression(reinterpret_cast<const xmlChar*>(xpath), ctx.get()), &xmlXPathFreeObject);
    std::vector<std::string> out;
    if (!res || res->type != XPATH_NODESET || res->nodesetval == nullptr) return out;
    for (int i = 0; i < res->nodesetval->nodeNr; ++i) {
        out.push_back(owned(xmlNodeGetContent(res->nodesetval->nodeTab[i])));
    }
    return out;
}

bool XmlDoc::any(const char* xpath) const { return !strings(xpath).empty(); }

std::vector<std::pair<std::string, std::string>> XmlDoc::rootChildren(const char* child, const char* keyAttr) const {
    std::vector<std::pair<std::string, std::string>> out;
    const xmlNodePtr root = xmlDocGetRootElement(docOf(doc_));
    for (xmlNodePtr n = root->children; n != nullptr; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        // An unbound prefix leaves "prefix:name" in n->name; compare the local part.
        const char* name = reinterpret_cast<const char*>(n->name);
        const char* colon = std::strrchr(name, ':');
        if (std::strcmp(colon != nullptr ? colon + 1 : name, child) != 0) continue;
        out.emplace_back(owned(xmlGetProp(n, reinterpret_cast<const xmlChar*>(keyAttr))), owned(xmlNodeGetContent(n)));
    }
    return out;
}

}  // namespace paddock::lvq
