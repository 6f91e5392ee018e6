// Benchmark (not a test; run by bench/terminal.sh): `cat` of 100 MB through the terminal
// WebSocket vs direct ssh with a PTY to the same sshd, and keystroke echo latency (p50/p99)
// while 64 idle sessions are open. Prints figures; asserts nothing about them.
#include "terminal_client.hpp"
#include "terminal_site.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

using namespace paddock::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

std::unique_ptr<TerminalClient> openTerminal(TerminalSite& site) {
    auto term =
        std::make_unique<TerminalClient>(site.openWebSocket("/api/v1/vms/term/terminal?access_token=" + site.token()));
    REQUIRE(term->nextControl(60s).has_value());
    return term;
}

}  // namespace

TEST_CASE("terminal throughput and keystroke latency", "[.bench]") {
    const int megabytes = std::getenv("BENCH_MB") != nullptr ? std::atoi(std::getenv("BENCH_MB")) : 100;
    TerminalSite site;
    TempDir dir;
    const std::string file = dir.file("payload.txt");
    // Text, so the PTY passes it as it is (raw random bytes would be taken for control sequences).
    REQUIRE(std::system(
                ("head -c " + std::to_string(megabytes * 3 / 4) + "M /dev/urandom | base64 -w 76 > " + file).c_str()) ==
            0);
    const double size = static_cast<double>(std::filesystem::file_size(file));

    // Direct: OpenSSH client with a PTY, the same key, the same sshd.
    const std::string key = site.stateDir() + "/ssh/id_ed25519";
    const std::string ssh = "ssh -q -tt -i " + key + " -p " + std::to_string(site.sshPort()) +
                            " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes " +
                            SshdFixture::currentUser() + "@127.0.0.1 ";
    auto t0 = Clock::now();
    REQUIRE(std::system((ssh + "cat " + file + " > /dev/null").c_str()) == 0);
    const double direct = seconds(t0);

    auto term = openTerminal(site);
    term->type("stty -echo; echo ready-$((1+1))\n");
    REQUIRE(term->waitFor("ready-2", 60s));
    term->clearOutput();
    t0 = Clock::now();
    const uint64_t before = term->totalOutput();
    term->type("cat " + file + "; echo cat-$((2+3))-done\n");
    REQUIRE(term->waitFor("cat-5-done", 600s, 64));
    const double viaWs = seconds(t0);
    const double bytes = static_cast<double>(term->totalOutput() - before);
    term.reset();

    std::vector<std::unique_ptr<TerminalClient>> idle;
    for (int i = 0; i < 64; ++i) idle.push_back(openTerminal(site));
    auto probe = openTerminal(site);
    probe->type("echo ready-$((2+2))\n");
    REQUIRE(probe->waitFor("ready-4", 60s));
    probe->drain(1 << 20, 500ms);  // the prompt that follows; not a sample
    std::vector<double> rtts;
    for (int i = 0; i < 400; ++i) {
        if (i % 50 == 49) {
            probe->type("\x15");  // Ctrl-U: keep the line short
            probe->drain(1, 10s);
            continue;
        }
        probe->clearOutput();
        const auto start = Clock::now();
        probe->type("x");
        REQUIRE(probe->waitFor("x", 10s));
        rtts.push_back(seconds(start) * 1000.0);
    }
    std::sort(rtts.begin(), rtts.end());
    const auto pct = [&](double p) { return rtts[static_cast<size_t>(p * static_cast<double>(rtts.size() - 1))]; };

    std::printf("terminal bench: payload %.1f MB\n", size / 1e6);
    std::printf("  direct ssh -tt cat   : %6.2f s  %7.1f MB/s\n", direct, size / 1e6 / direct);
    std::printf("  WebSocket terminal   : %6.2f s  %7.1f MB/s (%.1f MB received, PTY adds \\r)\n", viaWs,
                bytes / 1e6 / viaWs, bytes / 1e6);
    std::printf("  keystroke echo with 64 idle sessions open: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%zu samples)\n",
                pct(0.5), pct(0.99), rtts.back(), rtts.size());
}
