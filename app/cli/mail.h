// `portcullis mail deliver|status|retry` (README "Mail"): the outbox
// deliverer and its operator commands. They connect as DATABASE_URL (the app
// role): delivery needs nothing the API workers lack.
#pragma once

#include <string>
#include <vector>

namespace portcullis {

// args: everything after "mail". Returns the process exit code.
int cmd_mail(const std::vector<std::string>& args);

}  // namespace portcullis
