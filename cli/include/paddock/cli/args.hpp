// The command line of `paddock`: global options, a command (group + verb, e.g. "vm ls"),
// positional arguments and the command's own options. Options may come before or after the
// command, as `--name value` or `--name=value`; `--` ends the options. Nothing is looked up on
// the network here: parsing is pure, so every usage error is found before a request is sent.
#pragma once

#include "paddock/core/result.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace paddock::cli {

struct OptionSpec {
    std::string name;        // "--template"
    std::string shortName;   // "-O" or ""
    std::string valueName;   // "T": takes a value; "": a switch
    std::string help;
};

struct CommandSpec {
    std::string group;  // "vm"
    std::string verb;   // "ls"
    std::string operands;  // "NAME", "ID|FILE" or "" (shown in usage)
    size_t minOperands = 0;
    size_t maxOperands = 0;
    std::string summary;
    std::vector<OptionSpec> options;
};

// Every command, in help order.
const std::vector<CommandSpec>& commandSpecs();
// The options every command takes (--url, --token-file, -o, ...).
const std::vector<OptionSpec>& globalOptions();
// The command `group verb`, or nullptr.
const CommandSpec* findCommand(const std::string& group, const std::string& verb);

struct ParsedArgs {
    const CommandSpec* command = nullptr;  // nullptr with help: the top-level help
    std::string group;                     // set with help for `paddock vm --help`
    bool help = false;
    bool version = false;
    std::vector<std::string> operands;
    // Options given, by long name without dashes ("template" -> "T"); switches hold "".
    std::map<std::string, std::string> options;

    bool has(const std::string& name) const { return options.count(name) != 0; }
    std::optional<std::string> get(const std::string& name) const;
};

// InvalidArgument (a usage error) naming the unknown verb or option, a missing value, or the
// wrong number of operands. `--help`/`-h` anywhere wins over operand counts.
Result<ParsedArgs> parseArgs(const std::vector<std::string>& args);

// `paddock --help`, `paddock vm --help`, `paddock vm create --help`.
std::string topHelp();
std::string groupHelp(const std::string& group);
std::string commandHelp(const CommandSpec& command);

}  // namespace paddock::cli
