// paddockd: options, configuration, the Runtime and the HTTP server's lifecycle.
//   --config FILE     (default $PADDOCK_CONFIG, else config/paddock.yaml); PADDOCK_<KEY_PATH>
//                     environment variables override config keys, PADDOCK_LOG_LEVEL the log level
//   --check-config    validate, load the plugins the config names (as a start would, without
//                     touching state, logs or hypervisors), print "config OK: ..." and
//                     "plugins: <id> <version> (<kind>), ..." and exit 0, or the error and exit 2
//   --help
#pragma once

#include <Poco/Util/ServerApplication.h>

#include <string>

namespace paddock::server {

class Application : public Poco::Util::ServerApplication {
public:
    Application();

    static constexpr int kExitConfigError = 2;

protected:
    void initialize(Poco::Util::Application& self) override;
    void defineOptions(Poco::Util::OptionSet& options) override;
    int main(const std::vector<std::string>& args) override;

private:
    void handleHelp(const std::string& name, const std::string& value);
    void handleVersion(const std::string& name, const std::string& value);
    void handleConfig(const std::string& name, const std::string& value);
    void handleCheckConfig(const std::string& name, const std::string& value);
    int serve();

    std::string configPath_ = "config/paddock.yaml";
    bool exitAfterOptions_ = false;  // --help or --version answered: run nothing else
    bool checkOnly_ = false;
};

}  // namespace paddock::server
