// Sysadmin commands: `portcullis tenant …` and `portcullis user …`. Each
// change is audited with the system as the actor. Passwords are read from
// standard input (never from the command line, where `ps` would show them).
#pragma once

#include <string>
#include <vector>

namespace portcullis {

// args: everything after "tenant" / "user". Return the process exit code.
int cmd_tenant(const std::vector<std::string>& args);
int cmd_user(const std::vector<std::string>& args);

}  // namespace portcullis
