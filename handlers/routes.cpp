#include "handlers/routes.h"

namespace portcullis {

Router build_router() {
  Router router;
  register_health_routes(router);
#ifdef PORTCULLIS_TEST_ROUTES
  register_test_routes(router);
#endif
  return router;
}

}  // namespace portcullis
