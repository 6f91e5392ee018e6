// The server's real route table on a Runtime with the test driver, without HTTP: for tests
// that inspect routes or call handlers directly. Single-threaded use.
#pragma once

#include "paddock/core/runtime.hpp"
#include "paddock/server/console_tickets.hpp"
#include "paddock/server/error_mapping.hpp"
#include "paddock/server/event_stream.hpp"
#include "paddock/server/public_urls.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/status_stream.hpp"
#include "paddock/server/terminal_bridge.hpp"
#include "paddock/server/token_store.hpp"
#include "paddock/server/wait_slots.hpp"
#include "paddock/server/websocket_hub.hpp"

#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>

namespace paddock::test {

struct RouteFixture {
    TempDir dir;
    std::unique_ptr<Runtime> runtime;
    std::unique_ptr<server::WebSocketHub> hub;
    std::unique_ptr<server::StatusStreams> statusStreams;
    std::unique_ptr<server::EventStream> eventStream;
    std::unique_ptr<TerminalMux> terminalMux;
    std::unique_ptr<server::TerminalBridge> terminalBridge;
    server::ConsoleTickets consoleTickets;
    std::unique_ptr<server::TokenStore> tokens;
    std::unique_ptr<server::WaitSlots> waits;
    server::PublicUrls urls{server::PublicUrls::Options{"", {}, "127.0.0.1", 8000}};
    server::Router router;

    // `extraSites`: YAML list items appended after the site "local" (test:///default).
    explicit RouteFixture(const std::string& extraSites = {}) {
        const std::string yaml =
            "paths:\n"
            "  state_dir: " +
            dir.file("state") +
            "\n"
            "  log_dir: " +
            dir.file("logs") +
            "\n"
            "  plugin_dirs: [" +
            pluginDir() +
            "]\n"
            "exhibit:\n"
            "  vm: exhibit\n"
            "sites:\n"
            "  - name: local\n"
            "    uri: test:///default\n"
            "    network_mode: none\n" +
            extraSites;
        auto config = parseConfig(yaml, {}, "route_fixture");
        INFO((config.ok() ? std::string() : config.error().message));
        REQUIRE(config.ok());
        auto created = Runtime::create(config.value());
        INFO((created.ok() ? std::string() : created.error().message));
        REQUIRE(created.ok());
        runtime = std::move(created.value());
        const server::RouteContext context{*runtime, dir.path(), "test"};
        server::addSystemRoutes(router, context);
        server::addVmRoutes(router, context);
        server::addStateRoutes(router, context);
        server::addWatchRoutes(router, context);
        server::addUiRoutes(router, context);
        server::addCompatRoutes(router, context);
        waits = std::make_unique<server::WaitSlots>(8, *runtime->metrics().registry());
        server::addPoolRoutes(router, context, *waits);
        server::addOperationRoutes(router, context);
        server::addProvisionRoutes(router, context);
        server::addSessionRoutes(router, context);
        hub = std::make_unique<server::WebSocketHub>(*runtime->metrics().registry(), Poco::Logger::get("test.ws"));
        statusStreams = std::make_unique<server::StatusStreams>(*runtime, *hub);
        eventStream = std::make_unique<server::EventStream>(runtime->events(), *hub);
        server::addWebSocketRoutes(router, context, server::StreamContext{*statusStreams, *eventStream});
        terminalMux =
            std::make_unique<TerminalMux>(runtime->recorder(), runtime->audit(), *runtime->metrics().registry());
        terminalBridge = std::make_unique<server::TerminalBridge>(*terminalMux, *hub);
        server::addTerminalRoutes(router, context, server::TerminalContext{*terminalBridge, consoleTickets, urls});
        auto store = server::TokenStore::open(dir.file("tokens.json"));
        REQUIRE(store.ok());
        tokens = std::move(store.value());
        server::addTokenRoutes(router, context, server::TokenContext{*tokens, true});
        // Throws when a route open to owner tokens is not registered.
        server::openRoutesToOwnerTokens(router);
    }

    // Runs the handler of a route that must exist; errors go through the real error mapping.
    server::Response call(const std::string& method, const std::string& path,
                          std::map<std::string, std::string> query = {}) {
        auto match = router.match(method, path);
        REQUIRE(match.kind == server::RouteMatch::Kind::Found);
        server::Request request;
        request.method = method;
        request.path = path;
        request.params = match.params;
        request.query = std::move(query);
        auto result = match.route->handler(request);
        return result ? result.value() : server::errorResponse(result.error());
    }
};

}  // namespace paddock::test
