// paddock: the command-line client of paddockd (cli/include/paddock/cli/commands.hpp).
#include "paddock/cli/commands.hpp"

#include <csignal>
#include <exception>
#include <iostream>

int main(int argc, char** argv) {
    // A closed stdout (paddock ... | head) or a dropped connection is an error value, not a death.
    std::signal(SIGPIPE, SIG_IGN);
    try {
        return paddock::cli::runCli(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::exception& e) {
        std::cerr << "paddock: " << e.what() << "\n";
        return 1;
    }
}
