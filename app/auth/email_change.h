// Change of e-mail address (SECURITY-BAR REC-5, LOG-1), with a "this wasn't
// me" revert. Outcomes only, never HTTP errors (handlers/email_change.cpp
// turns them into answers).
//
// The flow:
//  1. The request (recently authenticated) only records two outbox rows in
//     one transaction, the same whether or not the new address is taken:
//     `email_change_request` to the new address and
//     `email_change_notice_request` to the current one.
//  2. The deliverer (app/mail/deliver.cpp) resolves them here. The request
//     row becomes an `email_change_confirm` mail with a fresh token (purpose
//     email_change, 24 h, user_tokens.email = the new address, the user's
//     older unused ones voided), or is dropped when the new address is used
//     by an account by then (the requester learns nothing). The notice row
//     becomes an `email_change_requested` mail to the old address with a
//     revert token (purpose email_change_revert, 7 days,
//     user_tokens.email = that old address).
//  3. Confirm: the newest unused unexpired email_change token of its user
//     sets the address (proven now), spends the token, voids the user's
//     other change and reset tokens, and sends `email_change_completed` to
//     the old address (again with a revert link, minted at delivery).
//  4. Revert: the newest unused unexpired email_change_revert token of its
//     user puts its address back (unless another account holds it by then),
//     locks the account (users.disabled: only an owner or admin, PATCH
//     /api/v1/members/{id}, or `portcullis user enable` reopens it), voids
//     every unused change, revert and reset token of the user, ends every
//     session, and notifies the restored address and every active owner of
//     the tenant.
//
// Only the newest token of a user and purpose is ever accepted
// (store::tokens::find_newest_by_hash). So a revert link that still guards
// an earlier address is never superseded: while the user holds a live revert
// token for another address than the one a notice goes to (the address was
// changed within the last 7 days), that notice carries no link
// (`email_change_notice`), and the earlier link keeps working. Otherwise
// whoever took the account could change the address once more and so kill
// the link the rightful owner holds.
//
// Tokens are 256-bit, base64url; only recovery::token_hash() of one is
// stored. A mail never holds a password, a code or a session token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "app/db/connection.h"
#include "app/db/tenant_tx.h"
#include "app/log/audit.h"
#include "app/store/accounts.h"
#include "app/store/outbox.h"

namespace portcullis::email_change {

inline constexpr int64_t kConfirmTtlMs = 24LL * 3600 * 1000;
inline constexpr int64_t kRevertTtlMs = 7LL * 24 * 3600 * 1000;
inline constexpr const char* kChangePurpose = "email_change";
inline constexpr const char* kRevertPurpose = "email_change_revert";

// Outbox rows the deliverer resolves here.
inline constexpr const char* kRequestKind = "email_change_request";
inline constexpr const char* kNoticeRequestKind = "email_change_notice_request";
inline constexpr const char* kCompletedRequestKind = "email_change_completed_request";

// "a***@example.com": the first character of the local part and the domain.
std::string mask_email(const std::string& email);

// The change request of `a` to `new_email` (normalised, valid, not a's):
// the two outbox rows, in `tx`. The same work for every new address.
void enqueue_request(TenantTx& tx, const Account& a, const std::string& new_email, int64_t now);

// Is `kind` one of the rows resolve() handles?
bool resolves(const std::string& kind);

// The mail an outbox row of a kind above stands for, minting its token
// (stored as its keyed hash under `key`); nullopt when nothing is to be sent
// (the new address is taken, the account is gone or locked).
std::optional<store::outbox::OutboxMail> resolve(Db& db,
                                                 const std::string& key,
                                                 const store::outbox::OutboxMail& row,
                                                 int64_t now);

enum class [[nodiscard]] ConfirmOutcome{kChanged, kInvalidToken, kTaken};

struct Confirmed {
  ConfirmOutcome outcome = ConfirmOutcome::kInvalidToken;
  std::string tenant_id;  // set once the token is known
  std::string user_id;
  std::string new_email;  // when kChanged
};

// Confirms a change with the mailed token, in one transaction (see 3.
// above); `event` (user.email_changed) is filled with tenant, user and
// target and recorded with the change. kTaken: another account holds the
// address now; nothing changed (the token stays unspent).
Confirmed confirm(Db& db,
                  Audit& audit,
                  const std::string& key,
                  const std::string& token,
                  AuditEvent event,
                  int64_t now);

enum class [[nodiscard]] RevertOutcome{kReverted, kInvalidToken};

struct Reverted {
  RevertOutcome outcome = RevertOutcome::kInvalidToken;
  std::string tenant_id;
  std::string user_id;
  bool address_restored = false;  // false: it was unchanged, or is taken by another account
  long sessions_revoked = 0;
};

// "This wasn't me", in one transaction (see 4. above); `event`
// (user.email_change_reverted) is filled and recorded with it. Owner notices
// go through notify_user() with `notify_max_per_hour`.
Reverted revert(Db& db,
                Audit& audit,
                const std::string& key,
                int notify_max_per_hour,
                const std::string& token,
                AuditEvent event,
                int64_t now);

}  // namespace portcullis::email_change
