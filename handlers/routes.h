// Every handler module registers its routes through one function. Only
// app/main.cpp (and tests) include this header.
#pragma once

#include "app/http/router.h"

namespace portcullis {

void register_health_routes(Router& router);
void register_auth_routes(Router& router);
void register_me_routes(Router& router);
void register_sessions_routes(Router& router);
void register_contexts_routes(Router& router);
void register_memories_routes(Router& router);
void register_members_routes(Router& router);
void register_audit_events_routes(Router& router);
void register_mfa_routes(Router& router);
void register_recovery_routes(Router& router);
void register_email_verification_routes(Router& router);
void register_email_change_routes(Router& router);
void register_policy_routes(Router& router);
#ifdef PORTCULLIS_TEST_ROUTES
// Test build only: slow and failing routes for the drain and 500 tests.
void register_test_routes(Router& router);
void register_test_tenant_routes(Router& router);
#endif

// All routes of the product, in one table.
Router build_router();

}  // namespace portcullis
