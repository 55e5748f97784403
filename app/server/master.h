// The master of `portcullis serve` (DESIGN §2): opens or inherits the listen
// socket, forks N workers and supervises them.
//  - a dead worker is respawned (backoff after repeated crashes; too many
//    crashes in a short time → exit 1 so systemd restarts the unit);
//  - SIGTERM/SIGINT: graceful drain (workers finish the request in hand),
//    SIGKILL after the grace period;
//  - SIGHUP: config re-read, new workers started, old ones drained;
//  - sd_notify READY/STATUS/RELOADING/STOPPING and WATCHDOG pings.
#pragma once

#include <functional>
#include <string>

#include "app/config/config.h"
#include "app/http/router.h"

namespace portcullis {

struct ServeOptions {
  ConfigOptions config_options;
  std::string listen_override;  // --listen
  int workers_override = 0;     // --workers
};

// Returns the process exit code.
int run_master(const ServeOptions& options,
               Config config,
               const std::function<Router()>& make_router);

}  // namespace portcullis
