#include "paddock/cli/args.hpp"

#include "paddock/cli/exit_codes.hpp"

#include <algorithm>

namespace paddock::cli {

namespace {

const OptionSpec kYes{"--yes", "-y", "", "do not ask for confirmation (needed without a terminal)"};

std::vector<CommandSpec> makeSpecs() {
    return {
        {"vm", "ls", "", 0, 0, "List VMs",
         {{"--site", "", "SITE", "only this site's VMs"},
          {"--owner", "", "OWNER", "only this owner's VMs"},
          {"--state", "", "STATES", "only VMs in these states, e.g. running,paused (shutoff for shut off)"},
          {"--all", "", "", "admins: also domains Paddock does not manage"}}},
        {"vm", "show", "NAME", 1, 1, "Show one VM", {}},
        {"vm", "create", "NAME", 1, 1, "Create a VM (started unless --no-start)",
         {{"--template", "-t", "T", "template (default: the site's default template)"},
          {"--vcpus", "", "N", "virtual CPUs"},
          {"--memory", "", "MB", "memory in MiB"},
          {"--owner", "", "OWNER", "owner recorded on the VM"},
          {"--site", "", "SITE", "site to create it on (default: the first)"},
          {"--no-start", "", "", "define it without starting"},
          {"--provision", "", "", "run the template's provisioning after the create"},
          {"--wait", "", "", "wait until it answers SSH (readiness ready) or a provisioning run ends"}}},
        {"vm", "start", "NAME", 1, 1, "Start (or resume) a VM", {}},
        {"vm", "stop", "NAME", 1, 1, "Stop a VM (ACPI shutdown, forced after the site's timeout)",
         {{"--force", "", "", "force it off at once (no state saved)"}}},
        {"vm", "restart", "NAME", 1, 1, "Restart a VM", {}},
        {"vm", "rm", "NAME", 1, 1, "Delete a VM and its overlay disk (asks first)", {kYes}},
        {"vm", "console", "NAME", 1, 1, "Interactive terminal on a VM (Ctrl-] detaches)", {}},
        {"pool", "ls", "", 0, 0, "List hot pools with their counts", {}},
        {"pool", "allocate", "POOL", 1, 1, "Claim an idle VM of a pool as a lease",
         {{"--owner", "", "OWNER", "who the lease is for (default: the token's name)"},
          {"--ttl", "", "SECONDS", "lease length (default: the pool's default_ttl_s)"},
          {"--idempotency-key", "", "KEY", "retries with the same key return the same lease"}}},
        {"lease", "ls", "", 0, 0, "List leases",
         {{"--owner", "", "OWNER", "only this owner's leases"}, {"--pool", "", "POOL", "only this pool's leases"}}},
        {"lease", "extend", "ID", 1, 1, "Extend a lease",
         {{"--ttl", "", "SECONDS", "new time left, from now (required; --seconds is the same)"},
          {"--seconds", "", "SECONDS", "same as --ttl"}}},
        {"lease", "release", "ID", 1, 1, "Release a lease (its VM is destroyed, the pool refills)", {}},
        {"session", "ls", "", 0, 0, "List recorded terminal sessions",
         {{"--vm", "", "VM", "only this VM's sessions"}, {"--owner", "", "OWNER", "only this owner's sessions"}}},
        {"session", "play", "ID|FILE", 1, 1, "Play a recorded session in this terminal (a session id or a .cast file)",
         {{"--speed", "", "X", "playback speed factor (default 1)"},
          {"--idle-limit", "", "SECONDS", "cap pauses at this many seconds"}}},
        {"session", "download", "ID", 1, 1, "Download a session's asciinema v2 cast",
         {{"--output-file", "-O", "FILE", "write to FILE (default: stdout)"}}},
        {"site", "ls", "", 0, 0, "List sites, their backend and state", {}},
        {"plugin", "ls", "", 0, 0, "List loaded plugins and load failures", {}},
    };
}

const OptionSpec* findOption(const std::vector<OptionSpec>& specs, const std::string& name) {
    for (const auto& spec : specs)
        if (spec.name == name || (!spec.shortName.empty() && spec.shortName == name)) return &spec;
    return nullptr;
}

Error usage(std::string message) { return makeError(ErrorCode::InvalidArgument, std::move(message)); }

bool knownGroup(const std::string& group) {
    const auto& specs = commandSpecs();
    return std::any_of(specs.begin(), specs.end(), [&](const CommandSpec& s) { return s.group == group; });
}

std::string optionLine(const OptionSpec& o) {
    std::string left = "  ";
    left += o.shortName.empty() ? "    " : o.shortName + ", ";
    left += o.name;
    if (!o.valueName.empty()) left += " " + o.valueName;
    if (left.size() < 30) left.append(30 - left.size(), ' ');
    else left += "  ";
    return left + o.help + "\n";
}

}  // namespace

const std::vector<CommandSpec>& commandSpecs() {
    static const std::vector<CommandSpec> specs = makeSpecs();
    return specs;
}

const std::vector<OptionSpec>& globalOptions() {
    static const std::vector<OptionSpec> options = {
        {"--url", "", "URL", "paddockd's address (env PADDOCK_URL; default http://127.0.0.1:8000)"},
        {"--token-file", "", "FILE", "read the API token from FILE (else env PADDOCK_TOKEN)"},
        {"--token", "", "TOKEN", "the API token itself: visible to other users in `ps`; prefer PADDOCK_TOKEN"},
        {"--output", "-o", "FORMAT", "table (default), wide, or json (the API's answer as it is)"},
        {"--ca-file", "", "FILE", "https: trust this CA certificate file instead of the system's"},
        {"--insecure", "", "", "https: do not verify the server's certificate"},
        {"--help", "-h", "", "show help (also after any command)"},
        {"--version", "", "", "print the version"},
    };
    return options;
}

const CommandSpec* findCommand(const std::string& group, const std::string& verb) {
    for (const auto& spec : commandSpecs())
        if (spec.group == group && spec.verb == verb) return &spec;
    return nullptr;
}

std::optional<std::string> ParsedArgs::get(const std::string& name) const {
    const auto it = options.find(name);
    if (it == options.end()) return std::nullopt;
    return it->second;
}

Result<ParsedArgs> parseArgs(const std::vector<std::string>& args) {
    ParsedArgs parsed;
    std::vector<std::string> words;
    // Options are collected by spelling first: the command (and so its option set) is known only
    // once its words are read, and options may come before it.
    std::vector<std::pair<std::string, std::optional<std::string>>> given;
    bool optionsEnded = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (optionsEnded || arg.size() < 2 || arg[0] != '-') {
            words.push_back(arg);
            continue;
        }
        if (arg == "--") {
            optionsEnded = true;
            continue;
        }
        const auto eq = arg.find('=');
        if (arg.rfind("--", 0) == 0 && eq != std::string::npos)
            given.emplace_back(arg.substr(0, eq), arg.substr(eq + 1));
        else
            given.emplace_back(arg, std::nullopt);
        // Whether the next word is this option's value depends on the spec; decide below by
        // looking the option up in every set it could belong to.
        const std::string& name = given.back().first;
        const OptionSpec* spec = findOption(globalOptions(), name);
        if (!spec)
            for (const auto& command : commandSpecs())
                if ((spec = findOption(command.options, name))) break;
        if (spec && !spec->valueName.empty() && !given.back().second) {
            if (i + 1 >= args.size()) return usage("option " + name + " needs a value (" + spec->valueName + ")");
            given.back().second = args[++i];
        }
    }

    for (const auto& [name, value] : given)
        if (name == "--help" || name == "-h") parsed.help = true;
        else if (name == "--version") parsed.version = true;

    if (!words.empty()) {
        parsed.group = words[0];
        if (!knownGroup(parsed.group))
            return usage("unknown command '" + parsed.group + "' (commands: vm, pool, lease, session, site, plugin)");
        if (words.size() < 2) {
            if (parsed.help) return parsed;
            return usage("'" + parsed.group + "' needs a verb; see paddock " + parsed.group + " --help");
        }
        parsed.command = findCommand(parsed.group, words[1]);
        if (!parsed.command)
            return usage("unknown verb '" + words[1] + "' for '" + parsed.group + "'; see paddock " + parsed.group +
                         " --help");
        parsed.operands.assign(words.begin() + 2, words.end());
    } else if (!parsed.help && !parsed.version) {
        return usage("no command given; see paddock --help");
    }

    for (const auto& [name, value] : given) {
        const OptionSpec* spec = findOption(globalOptions(), name);
        if (!spec && parsed.command) spec = findOption(parsed.command->options, name);
        if (!spec) {
            const std::string where = parsed.command ? " for '" + parsed.group + " " + parsed.command->verb + "'" : "";
            return usage("unknown option " + name + where);
        }
        if (spec->valueName.empty() && value) return usage("option " + spec->name + " takes no value");
        parsed.options[spec->name.substr(2)] = value.value_or("");
    }
    if (parsed.help || parsed.version) return parsed;

    const auto& cmd = *parsed.command;
    if (parsed.operands.size() < cmd.minOperands)
        return usage("'" + cmd.group + " " + cmd.verb + "' needs " + cmd.operands + "; see paddock " + cmd.group + " " +
                     cmd.verb + " --help");
    if (parsed.operands.size() > cmd.maxOperands)
        return usage("'" + cmd.group + " " + cmd.verb + "' takes " +
                     (cmd.maxOperands == 0 ? std::string("no arguments") : "only " + cmd.operands) + ", not '" +
                     parsed.operands[cmd.maxOperands] + "'");
    if (const auto format = parsed.get("output"); format && *format != "table" && *format != "json" && *format != "wide")
        return usage("unknown output format '" + *format + "' (table, wide or json)");
    return parsed;
}

std::string topHelp() {
    std::string out =
        "Usage: paddock [OPTIONS] COMMAND VERB [ARGS] [OPTIONS]\n"
        "The command-line client of paddockd's HTTP API.\n\nCommands:\n";
    for (const auto& c : commandSpecs()) {
        std::string left = "  " + c.group + " " + c.verb + (c.operands.empty() ? "" : " " + c.operands);
        if (left.size() < 30) left.append(30 - left.size(), ' ');
        else left += "  ";
        out += left + c.summary + "\n";
    }
    out += "\nOptions (accepted by every command):\n";
    for (const auto& o : globalOptions()) out += optionLine(o);
    out += "\nThe token: --token-file FILE, else the environment variable PADDOCK_TOKEN, else --token.\n"
           "Run `paddock COMMAND VERB --help` for a command's own options.\n\n";
    out += exitCodeHelp();
    return out;
}

std::string groupHelp(const std::string& group) {
    std::string out = "Usage: paddock " + group + " VERB [ARGS] [OPTIONS]\n\nVerbs:\n";
    for (const auto& c : commandSpecs()) {
        if (c.group != group) continue;
        std::string left = "  " + c.verb + (c.operands.empty() ? "" : " " + c.operands);
        if (left.size() < 24) left.append(24 - left.size(), ' ');
        else left += "  ";
        out += left + c.summary + "\n";
    }
    out += "\nRun `paddock " + group + " VERB --help` for a verb's options; `paddock --help` for the global ones.\n";
    return out;
}

std::string commandHelp(const CommandSpec& c) {
    std::string out = "Usage: paddock ";
    out.append(c.group).append(" ").append(c.verb);
    if (!c.operands.empty()) out.append(" ").append(c.operands);
    out.append(" [OPTIONS]\n").append(c.summary).append(".\n");
    if (!c.options.empty()) {
        out += "\nOptions:\n";
        for (const auto& o : c.options) out += optionLine(o);
    }
    if (c.group == "vm" && c.verb == "console")
        out += "\nWith a terminal: raw mode, window size follows the terminal, Ctrl-] detaches.\n"
               "Without one (stdin a pipe): the input is sent as it is; its end sends Ctrl-D.\n";
    if (c.group == "session" && c.verb == "play")
        out += "\nOnly the recorded output is written to the terminal, with its timing.\n";
    out += "\nGlobal options:\n";
    for (const auto& o : globalOptions()) out += optionLine(o);
    out += "\n";
    out += exitCodeHelp();
    return out;
}

}  // namespace paddock::cli
