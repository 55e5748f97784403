#include "handlers/routes.h"

namespace portcullis {

Router build_router() {
  Router router;
  register_health_routes(router);
  register_auth_routes(router);
  register_me_routes(router);
  register_sessions_routes(router);
  register_contexts_routes(router);
  register_memories_routes(router);
  register_members_routes(router);
  register_audit_events_routes(router);
  register_mfa_routes(router);
  register_recovery_routes(router);
  register_email_verification_routes(router);
  register_email_change_routes(router);
  register_policy_routes(router);
#ifdef PORTCULLIS_TEST_ROUTES
  register_test_routes(router);
  register_test_tenant_routes(router);
#endif
  return router;
}

}  // namespace portcullis
