#include "paddock/server/application.hpp"

#include "paddock/core/backend_requirements.hpp"
#include "paddock/core/crash_point.hpp"
#include "paddock/core/plugin_host.hpp"
#include "paddock/core/runtime.hpp"
#include "paddock/server/auth.hpp"
#include "paddock/server/compat_metrics.hpp"
#include "paddock/server/console_tickets.hpp"
#include "paddock/server/dispatcher.hpp"
#include "paddock/server/event_stream.hpp"
#include "paddock/server/http_metrics.hpp"
#include "paddock/server/http_server.hpp"
#include "paddock/server/public_urls.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/status_stream.hpp"
#include "paddock/server/terminal_bridge.hpp"
#include "paddock/server/tls.hpp"
#include "paddock/server/token_store.hpp"
#include "paddock/server/wait_slots.hpp"
#include "paddock/server/websocket_hub.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/File.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Path.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>

#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#ifndef PADDOCK_VERSION
#define PADDOCK_VERSION "0.0.0"
#endif

namespace paddock::server {

namespace {

constexpr int kExitStartupError = 1;
// How long shutdown may take in all (see serve()): the server's grace for requests in progress
// (HttpServer::stop, 10 s) and a few seconds of teardown.
constexpr auto kShutdownBound = std::chrono::seconds(15);

std::string absolutePath(const std::string& path) { return Poco::Path(path).absolute().toString(); }

std::string siteNames(const Config& config) {
    std::string names;
    for (const auto& site : config.sites) names += (names.empty() ? "" : ", ") + site.name;
    return names;
}

HttpServerLimits httpLimits(const ServerConfig& server) {
    HttpServerLimits limits;
    limits.max_connections = server.max_connections;
    limits.max_connections_per_client = server.max_connections_per_client;
    limits.max_body_bytes = server.max_body_bytes;
    limits.head_timeout = std::chrono::seconds(server.head_timeout_s);
    limits.body_timeout = std::chrono::seconds(server.body_timeout_s);
    limits.idle_timeout = std::chrono::seconds(server.idle_timeout_s);
    limits.write_timeout = std::chrono::seconds(server.write_timeout_s);
    limits.workers = server.threads;
    limits.server_header = std::string("paddockd/") + PADDOCK_VERSION;
    return limits;
}

// Every open connection and WebSocket is a descriptor: take what the hard limit allows.
void raiseFileLimit(Poco::Logger& log) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    const rlim_t before = limit.rlim_cur;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = before;
    }
    log.information("open file limit: %s (was %s)", std::to_string(limit.rlim_cur), std::to_string(before));
}

std::vector<std::string> publicPaths(const Config& config) {
    std::vector<std::string> paths = config.server.public_paths;
    for (const char* path : kAlwaysPublicPaths) paths.emplace_back(path);
    return paths;
}

// The TLS context when server.tls is set, else null; an error names the key at fault.
Result<std::shared_ptr<const TlsContext>> loadTls(const ServerConfig& server) {
    if (!server.tls.enabled()) return std::shared_ptr<const TlsContext>();
    return TlsContext::load(server.tls);
}

// Where clients reach us, for the absolute URLs handed out (the config check parsed the proxies).
PublicUrls publicUrls(const ServerConfig& server) {
    PublicUrls::Options options;
    options.public_url = server.public_url;
    for (const auto& proxy : server.trusted_proxies) {
        if (auto network = IpNetwork::parse(proxy)) options.trusted_proxies.push_back(std::move(network).value());
    }
    options.listen_host = server.host;
    options.listen_port = server.port;
    return PublicUrls(std::move(options));
}

// The plugins `config` needs, loaded from paths.plugin_dirs as a start would: every site's backend
// (and what its templates and pools ask of it), the recorder when recording is on. The answer
// lists what was loaded; a provisioner that is missing only matters to templates that provision,
// and a library that failed to load only to whoever names its plugins: both are `warnings`.
Result<std::string> checkPlugins(const Config& config, std::vector<std::string>& warnings) {
    PluginHost host;
    for (const auto& dir : config.paths.plugin_dirs) {
        if (auto loaded = host.loadDirectory(dir); !loaded)
            return makeError(loaded.error().code, "paths.plugin_dirs: " + loaded.error().message);
    }
    for (const auto& failure : host.failures()) warnings.push_back(failure.message);
    if (config.recording.enabled) {
        if (auto recorder = host.recorder(config.recording.plugin); !recorder)
            return makeError(recorder.error().code, "recording.plugin: " + recorder.error().message);
    }
    for (size_t i = 0; i < config.sites.size(); ++i) {
        const SiteConfig& site = config.sites[i];
        auto backend = host.backend(site.backend);
        if (!backend)
            return makeError(backend.error().code,
                             "sites[" + std::to_string(i) + "].backend: " + backend.error().message);
        if (auto covered = requireBackendCovers(site, i, *backend.value()); !covered) return covered.error();
    }
    if (!config.provisioning.plugin.empty()) {
        if (auto provisioner = host.provisioner(config.provisioning.plugin); !provisioner)
            warnings.push_back("provisioning.plugin: " + provisioner.error().message);
    }
    std::string loaded;
    for (const auto& plugin : host.plugins()) {
        const PluginInfo& info = plugin->info();
        loaded += (loaded.empty() ? "" : ", ") + info.id + " " + info.version + " (" +
                  std::string(pluginKindName(info.kind)) + ")";
    }
    return loaded;
}

}  // namespace

Application::Application() {
    setUnixOptions(true);
    if (const char* path = std::getenv("PADDOCK_CONFIG"); path != nullptr && *path != '\0') configPath_ = path;
}

void Application::initialize(Poco::Util::Application& self) {
    Poco::AutoPtr<Poco::PatternFormatter> formatter(new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %s: %t"));
    Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(formatter, new Poco::ConsoleChannel));
    Poco::Logger::root().setChannel(channel);
    logger().setChannel(channel);
    ServerApplication::initialize(self);
    if (const char* level = std::getenv("PADDOCK_LOG_LEVEL"); level != nullptr && *level != '\0') {
        try {
            Poco::Logger::setLevel("", Poco::Logger::parseLevel(level));
        } catch (const Poco::Exception&) {
            Poco::Logger::get("paddockd")
                .warning("PADDOCK_LOG_LEVEL=%s is not a log level (debug, information, warning, error, ...)",
                         std::string(level));
        }
    }
}

void Application::defineOptions(Poco::Util::OptionSet& options) {
    ServerApplication::defineOptions(options);
    options.addOption(Poco::Util::Option("help", "h", "show this help and exit")
                          .required(false)
                          .repeatable(false)
                          .callback(Poco::Util::OptionCallback<Application>(this, &Application::handleHelp)));
    options.addOption(Poco::Util::Option("version", "", "print the version and exit")
                          .required(false)
                          .repeatable(false)
                          .callback(Poco::Util::OptionCallback<Application>(this, &Application::handleVersion)));
    options.addOption(
        Poco::Util::Option("config", "c", "configuration file (default $PADDOCK_CONFIG, else config/paddock.yaml)")
            .required(false)
            .repeatable(false)
            .argument("FILE")
            .callback(Poco::Util::OptionCallback<Application>(this, &Application::handleConfig)));
    options.addOption(Poco::Util::Option("check-config", "", "validate the configuration and exit (0 valid, 2 invalid)")
                          .required(false)
                          .repeatable(false)
                          .callback(Poco::Util::OptionCallback<Application>(this, &Application::handleCheckConfig)));
}

void Application::handleHelp(const std::string&, const std::string&) {
    exitAfterOptions_ = true;
    Poco::Util::HelpFormatter help(options());
    help.setCommand(commandName());
    help.setUsage("[--config FILE] [--check-config]");
    help.setHeader(
        "Paddock VM manager daemon. Environment variables PADDOCK_<KEY_PATH> override config keys;"
        " PADDOCK_LOG_LEVEL sets the log level (debug, information, warning, error);"
        " PADDOCK_CRASH_POINT=<name>[:<n>] (tests only) kills paddockd at a crash point.");
    help.format(std::cout);
    std::cout << std::endl;
    stopOptionsProcessing();
}

void Application::handleConfig(const std::string&, const std::string& value) { configPath_ = value; }

// Ends like --help: nothing else runs (exitAfterOptions_ makes main() return at once).
void Application::handleVersion(const std::string&, const std::string&) {
    exitAfterOptions_ = true;
    std::cout << "paddockd " << PADDOCK_VERSION << std::endl;
    stopOptionsProcessing();
}

void Application::handleCheckConfig(const std::string&, const std::string&) { checkOnly_ = true; }

int Application::main(const std::vector<std::string>&) {
    if (exitAfterOptions_) return EXIT_OK;
    if (checkOnly_) {
        auto config = loadConfig(configPath_, processEnvironment());
        if (config) {
            if (auto auth = Authenticator::create(config->auth, {}); !auth) config = auth.error();
        }
        if (config) {
            if (auto tls = loadTls(config->server); !tls) config = tls.error();
        }
        std::vector<std::string> warnings;
        std::string plugins;
        if (config) {
            if (auto checked = checkPlugins(*config, warnings); !checked)
                config = checked.error();
            else
                plugins = std::move(checked).value();
        }
        for (const auto& warning : warnings) std::cerr << "warning: " << warning << std::endl;
        if (!config) {
            std::cerr << "config error: " << configPath_ << ": " << config.error().message << std::endl;
            return kExitConfigError;
        }
        std::cout << "config OK: " << configPath_ << " (" << config->sites.size() << " site(s): " << siteNames(*config)
                  << "; listen " << config->server.host << ":" << config->server.port
                  << (config->server.tls.enabled() ? " (TLS)" : "") << "; auth mode " << enumName(config->auth.mode)
                  << ")" << std::endl;
        std::cout << "plugins: " << (plugins.empty() ? "none" : plugins) << std::endl;
        return EXIT_OK;
    }
    return serve();
}

int Application::serve() {
    Poco::Logger& log = Poco::Logger::get("paddockd");
    auto loaded = loadConfig(configPath_, processEnvironment());
    if (!loaded) {
        log.fatal("config error: %s: %s", configPath_, loaded.error().message);
        return kExitConfigError;
    }
    const Config config = std::move(loaded.value());
    // Crash-consistency tests only (crash_point.hpp): armed before any thread can reach a point.
    if (auto armed = armCrashPointFromEnvironment(); !armed) {
        log.fatal("%s", armed.error().message);
        return kExitConfigError;
    } else if (const std::string point = armedCrashPoint(); !point.empty()) {
        log.warning("PADDOCK_CRASH_POINT: paddockd kills itself at crash point %s", point);
    }
    try {
        Poco::File(config.paths.state_dir).createDirectories();
        Poco::File(config.paths.log_dir).createDirectories();
    } catch (const Poco::Exception& e) {
        log.fatal("cannot create state/log directories: %s", e.displayText());
        return kExitStartupError;
    }

    std::string adminToken;
    if (config.auth.mode == AuthMode::Token && config.auth.tokens.empty()) {
        auto token = ensureAdminToken(config.paths.state_dir);
        if (!token) {
            log.fatal("admin token: %s", token.error().message);
            return kExitStartupError;
        }
        adminToken = std::move(token.value());
        log.information("no tokens configured: admin token is in %s",
                        absolutePath(adminTokenPath(config.paths.state_dir)));
    } else if (config.auth.mode == AuthMode::None) {
        log.warning("auth.mode is none: every caller is admin");
    }
    auto tokenStore = TokenStore::open(config.paths.state_dir + "/tokens.json");
    if (!tokenStore) {
        log.fatal("owner tokens: %s", tokenStore.error().message);
        return kExitStartupError;
    }
    auto auth = Authenticator::create(config.auth, publicPaths(config), adminToken, tokenStore.value().get());
    if (!auth) {
        log.fatal("config error: %s", auth.error().message);
        return kExitConfigError;
    }
    auto tls = loadTls(config.server);
    if (!tls) {
        log.fatal("config error: %s", tls.error().message);
        return kExitConfigError;
    }
    if (tls.value()) {
        log.information("TLS: %s", tls.value()->summary());
        if (tls.value()->expired())
            log.warning("TLS: the certificate in server.tls.cert has expired: clients will refuse it");
    }

    auto created = Runtime::create(config);
    if (!created) {
        log.fatal("startup failed: %s", created.error().message);
        return kExitStartupError;
    }
    std::unique_ptr<Runtime> runtime = std::move(created.value());
    for (const auto& warning : runtime->warnings()) log.warning("%s", warning);
    std::string hypervisorType;  // the first reachable site's domain type, for vm_manager_hypervisor_type
    for (Site* site : runtime->sites()) {
        const SiteStatus status = site->status();
        if (!status.reachable) {
            log.warning("site %s: %s via %s is not reachable yet: %s", status.name, status.uri, status.backend,
                        status.error);
            continue;
        }
        // "auto" is resolved by the backend from what the host can really run (kvm or TCG).
        const DomainType wanted = site->config().domain_type;
        const std::string used =
            wanted == DomainType::Auto ? status.host.auto_domain_type : std::string(enumName(wanted));
        if (hypervisorType.empty()) hypervisorType = used;
        log.information("site %s: %s via %s on %s (%s), domain type %s%s", status.name, status.uri, status.backend,
                        status.host.hostname, status.host.hypervisor, used,
                        std::string(wanted == DomainType::Auto ? " (auto)" : " (configured)"));
    }

    // WebSockets live on the hub's own thread, not on HTTP workers; declared before the Router
    // so they outlive every handler referring to them.
    WebSocketLimits wsLimits;
    wsLimits.maxClients = config.server.max_websockets;
    wsLimits.maxClientsPerOwner = config.server.max_websockets_per_token;
    wsLimits.pingInterval = std::chrono::seconds(config.server.websocket_ping_interval_s);
    wsLimits.idleTimeout = std::chrono::seconds(config.server.websocket_idle_timeout_s);
    WebSocketHub hub(*runtime->metrics().registry(), Poco::Logger::get("paddockd.ws"), wsLimits);
    StatusStreams statusStreams(*runtime, hub);
    EventStream eventStream(runtime->events(), hub);
    // Browser terminals: one terminal I/O thread for all sessions; the hub is stopped before
    // these go, so no WebSocket callback reaches them afterwards.
    TerminalMux terminalMux(runtime->recorder(), runtime->audit(), *runtime->metrics().registry());
    TerminalBridge terminalBridge(terminalMux, hub);
    ConsoleTickets consoleTickets;
    const PublicUrls urls = publicUrls(config.server);

    CompatMetrics compatMetrics(*runtime, *runtime->metrics().registry(), hypervisorType);
    Router router;
    const RouteContext context{*runtime, absolutePath(config.paths.web_dir), PADDOCK_VERSION, &compatMetrics};
    addSystemRoutes(router, context);
    addVmRoutes(router, context);
    addStateRoutes(router, context);
    addWatchRoutes(router, context);
    addUiRoutes(router, context);
    addCompatRoutes(router, context);
    const unsigned waitLimit = config.server.max_waiting_allocations != 0 ? config.server.max_waiting_allocations
                                                                          : std::max(1u, config.server.threads / 2);
    WaitSlots allocationWaits(waitLimit, *runtime->metrics().registry());
    addPoolRoutes(router, context, allocationWaits);
    addOperationRoutes(router, context);
    addProvisionRoutes(router, context);
    addSessionRoutes(router, context);
    addWebSocketRoutes(router, context, StreamContext{statusStreams, eventStream});
    addTerminalRoutes(router, context, TerminalContext{terminalBridge, consoleTickets, urls});
    addTokenRoutes(router, context, TokenContext{*tokenStore.value(), config.auth.mode == AuthMode::Token});
    openRoutesToOwnerTokens(router);
    answerCompatErrorsAsFastApi(router);
    HttpMetrics metrics(*runtime->metrics().registry());
    Dispatcher::Options dispatch;
    dispatch.allowed_origins = config.server.allowed_origins;
    dispatch.allowed_hosts = config.server.allowed_hosts;
    dispatch.redeem_ticket = [&consoleTickets](const std::string& ticket, const std::string& vm) {
        return consoleTickets.redeem(ticket, vm);
    };
    dispatch.admit_websocket = [&hub](const Request& r) { return hub.admit(webSocketOwner(r)); };
    dispatch.guest_source = [rt = runtime.get()](std::string_view peer) { return rt->watch().guestSource(peer); };
    Dispatcher dispatcher(router, auth.value(), metrics, Poco::Logger::get("paddockd.http"), std::move(dispatch));

    raiseFileLimit(log);
    std::unique_ptr<HttpServer> server;
    bool loopbackOnly = false;
    try {
        Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(config.server.host, config.server.port), 1024);
        loopbackOnly = socket.address().host().isLoopback();
        server = std::make_unique<HttpServer>(std::move(socket), dispatcher, httpLimits(config.server),
                                              *runtime->metrics().registry(), Poco::Logger::get("paddockd.http"),
                                              tls.value());
        server->start();
    } catch (const Poco::Exception& e) {
        log.fatal("cannot listen on %s:%hu: %s", config.server.host, config.server.port, e.displayText());
        return kExitStartupError;
    }
    // Tokens, console tickets and terminal keystrokes cross this port.
    if (!tls.value() && !loopbackOnly)
        log.warning(
            "listening on %s beyond loopback without TLS: tokens and terminal sessions cross the network in "
            "clear text; set server.tls (or keep server.host on 127.0.0.1 behind a TLS proxy)",
            config.server.host);
    const std::string base = std::string(tls.value() ? "https" : "http") + "://" + config.server.host + ":" +
                             std::to_string(config.server.port);
    log.information("paddockd %s listening on %s with %u worker threads; control panel at %s/ui/, API docs at %s/docs",
                    std::string(PADDOCK_VERSION), base, config.server.threads, base, base);
    // Under systemd (Type=notify) the unit is started only now that the port listens and every
    // site is set up; without NOTIFY_SOCKET these calls do nothing.
    ::sd_notify(0, ("READY=1\nSTATUS=listening on " + base).c_str());

    waitForTerminationRequest();
    ::sd_notify(0, "STOPPING=1");
    log.information("shutting down: waiting for requests in progress");
    // Shutdown waits for requests in progress (server->stop's grace), then tears down (the locals
    // above, the runtime last), which joins each site's threads. A request or a site thread blocked
    // in a call to a host that stopped answering returns only when libvirt gives up on that host
    // (keepalive), or never (a connection attempt has no timeout). Nothing needs them once paddockd
    // stops (the state is in libvirt, files are written atomically), so it does not wait for them
    // beyond kShutdownBound.
    std::thread([] {
        std::this_thread::sleep_for(kShutdownBound);
        static const char kMessage[] =
            "paddockd: shutdown still waits on a hypervisor that does not answer; exiting without it\n";
        (void)!::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
        ::_exit(EXIT_OK);
    }).detach();
    server->stop();
    server.reset();
    hub.stop();  // WebSocket clients get 1001 "going away"
    log.information("stopped");
    return EXIT_OK;
}

}  // namespace paddock::server
