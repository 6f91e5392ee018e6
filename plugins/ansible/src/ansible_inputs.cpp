#include "ansible_inputs.hpp"

#include <paddock/cpp/error.hpp>

#include <rapidjson/encodings.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace paddock::ansible {

namespace {

// A RapidJSON output stream into wiped storage.
struct SecretStream {
    using Ch = char;
    SecretBytes& out;
    void Put(char c) { out.push_back(c); }
    void Flush() {}
};

template <class Stream>
using ValidatingWriter =
    rapidjson::Writer<Stream, rapidjson::UTF8<>, rapidjson::UTF8<>, rapidjson::CrtAllocator, rapidjson::kWriteValidateEncodingFlag>;

template <class Writer>
void writeString(Writer& w, std::string_view s, const char* what) {
    if (!w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()))) {
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, std::string(what) + " is not valid UTF-8");
    }
}

bool validUtf8(std::string_view s) {
    rapidjson::MemoryStream in(s.data(), s.size());
    struct Discard {
        void Put(char) {}
    } out;
    while (in.Tell() < s.size()) {
        if (!rapidjson::UTF8<>::Validate(in, out)) return false;
    }
    return true;
}

// Takes every event and writes nothing: copyVariables with it only checks.
struct NoWriter {
    bool Null() { return true; }
    bool Bool(bool) { return true; }
    bool RawValue(const char*, size_t, rapidjson::Type) { return true; }
    bool String(const char*, rapidjson::SizeType, bool = false) { return true; }
    bool StartObject() { return true; }
    bool Key(const char*, rapidjson::SizeType, bool = false) { return true; }
    bool EndObject(rapidjson::SizeType = 0) { return true; }
    bool StartArray() { return true; }
    bool EndArray(rapidjson::SizeType = 0) { return true; }
};

// Replays the members of the variables object into a writer positioned inside an object, and
// checks the top-level member names on the way.
template <class Writer>
class VariablesCopy {
public:
    explicit VariablesCopy(Writer& w) : w_(w) {}

    bool Null() { return value() && w_.Null(); }
    bool Bool(bool b) { return value() && w_.Bool(b); }
    // Numbers arrive as RawNumber (kParseNumbersAsStringsFlag) and are copied digit for digit.
    bool Int(int) { return false; }
    bool Uint(unsigned) { return false; }
    bool Int64(int64_t) { return false; }
    bool Uint64(uint64_t) { return false; }
    bool Double(double) { return false; }
    // RawValue, not Writer::RawNumber: RapidJSON 1.1's RawNumber writes the digits as a string.
    bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
        return value() && w_.RawValue(s, n, rapidjson::kNumberType);
    }
    bool String(const char* s, rapidjson::SizeType n, bool) { return value() && w_.String(s, n); }
    bool StartObject() {
        if (depth_++ == 0) return true;  // the variables object itself: its members go into ours
        return w_.StartObject();
    }
    bool Key(const char* s, rapidjson::SizeType n, bool) {
        if (depth_ == 1) {
            const std::string_view name(s, n);
            if (name.substr(0, 8) == "ansible_" || name == "vm_name") {
                error_ = "variable \"" + std::string(name) +
                         "\" is reserved (ansible_* and vm_name are set by Paddock, not by the request)";
                return false;
            }
        }
        return w_.Key(s, n);
    }
    bool EndObject(rapidjson::SizeType n) {
        if (--depth_ == 0) return true;
        return w_.EndObject(n);
    }
    bool StartArray() {
        if (!value()) return false;
        ++depth_;
        return w_.StartArray();
    }
    bool EndArray(rapidjson::SizeType n) {
        --depth_;
        return w_.EndArray(n);
    }

    const std::string& error() const { return error_; }

private:
    // A value outside any object: the document is not an object.
    bool value() {
        if (depth_ > 0) return true;
        error_ = "variables must be one JSON object";
        return false;
    }

    Writer& w_;
    int depth_ = 0;
    std::string error_;
};

template <class Writer>
void copyVariables(std::string_view json, Writer& w) {
    if (json.empty()) return;
    VariablesCopy<Writer> copy(w);
    rapidjson::Reader reader;
    rapidjson::MemoryStream in(json.data(), json.size());
    constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseNumbersAsStringsFlag;
    const rapidjson::ParseResult ok = reader.Parse<kFlags>(in, copy);
    if (ok) return;
    if (!copy.error().empty()) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, copy.error());
    throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, std::string("variables are not valid JSON: ") +
                                                   rapidjson::GetParseError_En(ok.Code()) + " (at byte " +
                                                   std::to_string(ok.Offset()) + ")");
}

}  // namespace

std::string connectionInventory(const ConnectionTarget& t) {
    rapidjson::StringBuffer buf;
    ValidatingWriter<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("all");
    w.StartObject();
    w.Key("hosts");
    w.StartObject();
    writeString(w, t.vm, "the VM name");
    w.StartObject();
    w.Key("ansible_host");
    writeString(w, t.host, "the host");
    w.Key("ansible_port");
    w.Uint(t.port);
    w.Key("ansible_user");
    writeString(w, t.user, "the user");
    w.Key("ansible_ssh_private_key_file");
    writeString(w, t.privateKeyPath, "the private key path");
    w.Key("ansible_python_interpreter");
    w.String("auto_silent");
    w.EndObject();
    w.EndObject();
    w.EndObject();
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

void checkVariables(std::string_view variablesJson) {
    NoWriter none;
    copyVariables(variablesJson, none);
}

void checkBecomeSecret(std::string_view secret) {
    if (secret.find('\0') != std::string_view::npos) {
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "the become secret contains a NUL byte");
    }
    if (secret.find_first_of("\r\n") != std::string_view::npos) {
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "the become secret contains a line break");
    }
    if (!validUtf8(secret)) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "the become secret is not valid UTF-8");
}

std::string extraVariables(std::string_view vm, std::string_view variablesJson) {
    rapidjson::StringBuffer buf;
    ValidatingWriter<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    copyVariables(variablesJson, w);
    w.Key("vm_name");
    writeString(w, vm, "the VM name");
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

SecretBytes secretInventory(std::string_view vm, std::string_view secret) {
    checkBecomeSecret(secret);
    SecretBytes doc;
    doc.reserve(128 + vm.size() + 2 * secret.size());
    SecretStream out{doc};
    ValidatingWriter<SecretStream> w(out);
    w.StartObject();
    w.Key("all");
    w.StartObject();
    w.Key("hosts");
    w.StartObject();
    writeString(w, vm, "the VM name");
    w.StartObject();
    w.Key("ansible_become_pass");
    w.StartObject();
    w.Key("__ansible_unsafe");
    writeString(w, secret, "the become secret");
    w.EndObject();
    w.EndObject();
    w.EndObject();
    w.EndObject();
    w.EndObject();
    doc.push_back('\n');
    return doc;
}

}  // namespace paddock::ansible
