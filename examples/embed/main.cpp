// paddock-embed: Paddock's core used as a library, without paddockd and without HTTP. It opens
// the sites of a paddockd configuration file and lists or creates VMs on one of them.
//
//   paddock-embed --config FILE [--site NAME] COMMAND...
//   COMMAND:  ls
//             create NAME [--template T] [--vcpus N] [--memory-mb N] [--owner O] [--no-start]
//
// Several commands run in order on one Runtime: `create a --template t ls`. Exit status 0 when
// every command succeeded, 1 when an operation failed, 2 for bad usage or configuration.
#include "paddock/core/config.hpp"
#include "paddock/core/result.hpp"
#include "paddock/core/runtime.hpp"
#include "paddock/core/vm_service.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
// Recorded as the actor of every operation in the audit log (<log_dir>/audit.log).
constexpr const char* kActor = "paddock-embed";

struct Command {
    enum class Kind { List, Create } kind = Kind::List;
    paddock::CreateVmRequest create;
};

struct Options {
    std::string config;
    std::string site;  // empty: the first configured site
    std::vector<Command> commands;
};

bool isCommandWord(std::string_view word) { return word == "ls" || word == "create"; }

template <class T>
paddock::Result<T> parseNumber(std::string_view option, std::string_view text) {
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value == 0)
        return paddock::makeError(paddock::ErrorCode::InvalidArgument,
                                  std::string(option) + " wants a positive number, not '" + std::string(text) + "'");
    return value;
}

paddock::Result<Options> parseArguments(const std::vector<std::string_view>& args) {
    using paddock::ErrorCode;
    using paddock::makeError;
    Options options;
    size_t i = 0;
    auto valueOf = [&](std::string_view option) -> paddock::Result<std::string> {
        if (i + 1 >= args.size()) return makeError(ErrorCode::InvalidArgument, std::string(option) + " needs a value");
        return std::string(args[++i]);
    };
    for (; i < args.size() && !isCommandWord(args[i]); ++i) {
        const std::string_view option = args[i];
        std::string* target = option == "--config" ? &options.config : option == "--site" ? &options.site : nullptr;
        if (target == nullptr)
            return makeError(ErrorCode::InvalidArgument, "unknown option or command '" + std::string(option) + "'");
        auto value = valueOf(option);
        if (!value) return std::move(value).error();
        *target = std::move(value).value();
    }
    if (options.config.empty()) return makeError(ErrorCode::InvalidArgument, "--config FILE is required");
    while (i < args.size()) {
        Command command;
        if (args[i++] == "ls") {
            options.commands.push_back(std::move(command));
            continue;
        }
        command.kind = Command::Kind::Create;
        if (i >= args.size() || isCommandWord(args[i]) || args[i].starts_with("--"))
            return makeError(ErrorCode::InvalidArgument, "create needs a VM name");
        command.create.name = std::string(args[i++]);
        for (; i < args.size() && !isCommandWord(args[i]); ++i) {
            const std::string_view option = args[i];
            paddock::Status parsed;
            if (option == "--no-start") {
                command.create.start = false;
            } else if (option == "--template") {
                parsed = valueOf(option).map([&](std::string v) { command.create.template_name = std::move(v); });
            } else if (option == "--owner") {
                parsed = valueOf(option).map([&](std::string v) { command.create.owner = std::move(v); });
            } else if (option == "--vcpus") {
                parsed = valueOf(option).and_then([&](std::string v) {
                    return parseNumber<uint32_t>(option, v).map([&](uint32_t n) { command.create.vcpus = n; });
                });
            } else if (option == "--memory-mb") {
                parsed = valueOf(option).and_then([&](std::string v) {
                    return parseNumber<uint64_t>(option, v).map([&](uint64_t n) { command.create.memory_mb = n; });
                });
            } else {
                return makeError(ErrorCode::InvalidArgument, "create: unknown option '" + std::string(option) + "'");
            }
            if (!parsed) return std::move(parsed).error();
        }
        options.commands.push_back(std::move(command));
    }
    if (options.commands.empty()) return makeError(ErrorCode::InvalidArgument, "no command (ls, create)");
    return options;
}

void printTable(const std::vector<paddock::VmView>& vms) {
    std::vector<std::vector<std::string>> rows{{"NAME", "STATE", "VCPUS", "MEMORY_MB", "TEMPLATE", "OWNER"}};
    for (const auto& vm : vms)
        rows.push_back({vm.domain.name, std::string(paddock::domainStateName(vm.domain.state)),
                        std::to_string(vm.domain.vcpus), std::to_string(vm.memory_mb()),
                        vm.template_name.empty() ? "-" : vm.template_name, vm.owner.empty() ? "-" : vm.owner});
    std::vector<size_t> widths(rows.front().size(), 0);
    for (const auto& row : rows)
        for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
    for (const auto& row : rows) {
        std::string line;
        for (size_t c = 0; c < row.size(); ++c)
            line += row[c] + (c + 1 < row.size() ? std::string(widths[c] - row[c].size() + 2, ' ') : "");
        std::cout << line << '\n';
    }
}

int fail(const paddock::Error& error, int exitCode) {
    std::cerr << "paddock-embed: " << paddock::errorCodeId(error.code) << ": " << error.message << std::endl;
    return exitCode;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    auto options = parseArguments(args);
    if (!options) {
        std::cerr << "usage: paddock-embed --config FILE [--site NAME] ls | create NAME [--template T] [--vcpus N] "
                     "[--memory-mb N] [--owner O] [--no-start] ...\n";
        return fail(options.error(), kExitUsage);
    }
    // The same file and PADDOCK_* environment overrides paddockd reads; relative paths in it
    // (state_dir, log_dir, plugin_dirs) are taken from the working directory.
    auto config = paddock::loadConfig(options->config, paddock::processEnvironment());
    if (!config) return fail(config.error(), kExitUsage);

    // Loads the plugins, connects every site and starts the background threads; its destructor
    // (at the end of main) stops them. Everything it hands out (Site*, VmService*) is its own.
    auto runtime = paddock::Runtime::create(config.value());
    if (!runtime) return fail(runtime.error(), kExitFailed);
    for (const auto& warning : runtime.value()->warnings()) std::cerr << "paddock-embed: warning: " << warning << '\n';
    auto vms = runtime.value()->vms(options->site);
    if (!vms) return fail(vms.error(), kExitUsage);

    for (const Command& command : options->commands) {
        if (command.kind == Command::Kind::List) {
            auto listed = vms.value()->list();
            if (!listed) return fail(listed.error(), kExitFailed);
            printTable(listed.value());
        } else {
            auto created = vms.value()->create(command.create, kActor);
            if (!created) return fail(created.error(), kExitFailed);
            std::cout << "created " << created->domain.name << " on site " << created->site << " ("
                      << paddock::domainStateName(created->domain.state) << ")\n";
        }
    }
    return 0;
}
