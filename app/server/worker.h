// A pre-forked worker: accepts FastCGI requests on the shared listen fd,
// one at a time, until told to stop (SIGTERM/SIGINT: the request in hand
// completes first) or until it served max_requests_per_worker.
#pragma once

#include "app/config/config.h"
#include "app/http/router.h"

namespace portcullis {

// Runs in the child after fork(). Returns the process exit code.
int run_worker(int listen_fd, const Config& config, const Router& router);

}  // namespace portcullis
