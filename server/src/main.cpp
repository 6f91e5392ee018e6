#include "paddock/server/application.hpp"

#include <Poco/Exception.h>

#include <iostream>

int main(int argc, char** argv) {
    try {
        paddock::server::Application app;
        return app.run(argc, argv);
    } catch (const Poco::Exception& e) {
        std::cerr << "paddockd: " << e.displayText() << std::endl;
        return paddock::server::Application::kExitConfigError;
    }
}
