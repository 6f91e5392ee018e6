// cli: what paddockd (or anything at its address) answers the `paddock` client, and the casts it
// plays: arbitrary bytes as a cast (read whole, and through playCast), as a terminal control
// frame, as an error body and as a JSON answer rendered in every table. Invariants: nothing
// crashes, playback writes exactly the "o" events before the first bad line and never waits a
// negative time, and no table or error message carries a control character to the terminal.
#include "fuzz_support.hpp"

#include "paddock/cli/api_client.hpp"
#include "paddock/cli/cast.hpp"
#include "paddock/cli/console.hpp"
#include "paddock/cli/table.hpp"
#include "paddock/cli/views.hpp"
#include "paddock/server/json.hpp"

#include <sstream>

namespace {

using namespace paddock;
using namespace paddock::cli;

bool terminalSafe(const std::string& text) {
    for (const char c : text) {
        const auto b = static_cast<unsigned char>(c);
        if ((b < 0x20 && b != '\n') || b == 0x7f) return false;
    }
    return true;
}

void checkCast(std::string_view text) {
    // What playCast must write: the "o" events read one by one until the first bad line.
    std::string expected;
    {
        std::istringstream in{std::string(text)};
        CastReader reader(in);
        if (reader.header().ok())
            for (;;) {
                auto event = reader.next();
                if (!event || !*event) break;
                FUZZ_CHECK((*event)->time >= 0);
                if ((*event)->code == "o") expected += (*event)->data;
            }
    }
    std::istringstream in{std::string(text)};
    std::ostringstream out;
    bool negative = false;
    PlayOptions options{1.5, 2.0, [&](double seconds) { negative = negative || !(seconds >= 0) || seconds > 2.0 / 1.5 + 1e-9; }};
    (void)playCast(in, out, options);
    FUZZ_CHECK(!negative);
    FUZZ_CHECK(out.str() == expected);
}

void checkTables(std::string_view text) {
    auto doc = server::parseJsonValue(text);
    if (!doc) return;
    using View = Result<Table> (*)(const rapidjson::Value&, bool);
    for (const View view : {&vmTable, &poolTable, &leaseTable, &sessionTable, &siteTable, &pluginTable})
        for (const bool wide : {false, true})
            if (auto table = view(*doc, wide)) FUZZ_CHECK(terminalSafe(renderTable(*table)));
    if (auto table = objectTable(*doc)) FUZZ_CHECK(terminalSafe(renderTable(*table)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text = fuzz::asText(data, size);
    checkCast(text);
    (void)parseCastHeader(text);
    (void)parseCastEvent(text);
    (void)parseControlFrame(text);
    checkTables(text);
    for (const int status : {400, 404, 409, 500}) {
        const Error error = errorFromReply(ApiReply{status, std::string(text), "application/json"});
        FUZZ_CHECK(terminalSafe(error.message));
        FUZZ_CHECK(error.message.size() < 2100);
    }
    return 0;
}
