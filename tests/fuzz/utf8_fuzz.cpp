// core/base utf8: the terminal's UTF-8 hold-back (Utf8Stream), isValidUtf8 and toValidUtf8.
// Feeding any split of the input must give the same text as feeding it whole, that text is
// always valid UTF-8, and isValidUtf8 agrees with RapidJSON's independent UTF-8 validator.
#include "fuzz_support.hpp"

#include "paddock/core/utf8.hpp"

#include <rapidjson/encodings.h>
#include <rapidjson/stringbuffer.h>

namespace {

using namespace paddock;

std::string streamed(const std::vector<std::string_view>& parts) {
    Utf8Stream stream;
    std::string out;
    for (const auto part : parts) out += stream.feed(part);
    return out + stream.finish();
}

bool rapidjsonValid(std::string_view text) {
    // Validate() reads a whole sequence whatever its bytes are: NUL padding makes a sequence cut
    // short by the end fail there instead of reading past it.
    const std::string copy = std::string(text) + std::string(4, '\0');
    rapidjson::StringStream in(copy.c_str());
    rapidjson::StringBuffer sink;
    const char* const end = copy.c_str() + text.size();
    while (in.src_ < end) {
        if (*in.src_ == '\0') {
            in.Take();
            continue;
        }
        if (!rapidjson::UTF8<>::Validate(in, sink)) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input = fuzz::asText(data, size);
    const bool valid = isValidUtf8(input);
    FUZZ_CHECK(valid == rapidjsonValid(input));

    const std::string whole = streamed({input});
    FUZZ_CHECK(isValidUtf8(whole));
    FUZZ_CHECK(whole == toValidUtf8(input));
    if (valid) FUZZ_CHECK(whole == input);
    FUZZ_CHECK(streamed(fuzz::pieces(input)) == whole);
    FUZZ_CHECK(streamed(fuzz::bytewise(input)) == whole);

    // Only an incomplete character is held back: what feed() returned so far is a prefix of the
    // whole text, and repairing the bytes fed so far gives that, or that and one U+FFFD.
    Utf8Stream stream;
    std::string sofar;
    size_t fed = 0;
    for (const auto part : fuzz::pieces(input)) {
        sofar += stream.feed(part);
        fed += part.size();
        FUZZ_CHECK(whole.compare(0, sofar.size(), sofar) == 0);
        FUZZ_CHECK(isValidUtf8(sofar));
        const std::string repaired = toValidUtf8(input.substr(0, fed));
        FUZZ_CHECK(repaired == sofar || repaired == sofar + "\xEF\xBF\xBD");
    }
    return 0;
}
