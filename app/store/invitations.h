// The invitations store: every statement on invitations. An invitation is
// kept as the SHA-256 of its one-time token, never the token. The tenant's
// functions take the request's TenantTx ($1 of every statement is its
// tenant); the one lookup made before the tenant is known (accepting an
// invitation at registration) takes the Db.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/db/connection.h"
#include "app/db/tenant_tx.h"
#include "app/store/role.h"

namespace portcullis::store::invitations {

// The outbox row an invitation enqueues (params: invitation_id, inviter,
// organisation, role, expires), and the mail the deliverer makes of it once
// it has minted the mailed token (app/mail/deliver.cpp).
inline constexpr const char* kRequestKind = "invitation_request";
inline constexpr const char* kMailKind = "invitation";

struct Invitation {
  std::string id;
  std::string email;
  Role role = Role::kMember;
  std::string created_at;  // as stored; parse_time_ms() reads both backends' forms
  std::string expires_at;
};

// What the token lookup finds, whatever the invitation's state: whether it
// may still be used is the caller's decision.
struct TokenInvitation {
  std::string id;
  std::string tenant_id;
  std::string email;
  Role role = Role::kMember;
  std::string expires_at;  // as stored
  bool closed = true;      // accepted or revoked
  std::string tenant_name;
};

// `token_hash` = SHA-256 of the token (hex); `invited_by` the inviting user.
void insert(TenantTx& tx,
            const Invitation& invitation,
            const std::string& token_hash,
            const std::string& invited_by);

// Up to `limit` pending invitations (neither accepted nor revoked, expiring
// after `now`) with ids below `before_id`, newest first (keyset on the
// (tenant_id, id) index). `now` as format_time_ms() writes it.
std::vector<Invitation> page(TenantTx& tx,
                             const std::string& now,
                             const std::string& before_id,
                             int limit);

// The role of invitation `id` if it is neither accepted nor revoked (expired
// ones included: they may still be revoked).
std::optional<Role> open_role(TenantTx& tx, const std::string& id);

// Revokes invitation `id` if it is still open and still grants `role` (the
// role the caller checked), at `now`. False when no such row was changed.
[[nodiscard]] bool revoke(TenantTx& tx, const std::string& id, Role role, const std::string& now);

// The invitation whose token (the admin's copy or the mailed one) hashes to
// `token_hash`, in any tenant, with its tenant's name. The
// tenant is not known yet: on PostgreSQL through the owner's SECURITY DEFINER
// function portcullis_invitation_lookup (row-level security would hide the
// row); autocommits outside a transaction.
std::optional<TokenInvitation> find_by_token_hash(Db& db, const std::string& token_hash);

// The invitation mail's token (issue 12 item 4): stores `mail_token_hash`
// (SHA-256 hex of a token minted at delivery, never stored raw) on
// invitation `id` of the transaction's tenant if it is still pending (neither
// accepted nor revoked) and unexpired at `now`; a token mailed before (a
// retried delivery) stops working. Returns the invitation then; nullopt
// (nothing written) otherwise: the mail is dropped.
[[nodiscard]] std::optional<Invitation> set_mail_token(TenantTx& tx,
                                                       const std::string& id,
                                                       const std::string& mail_token_hash,
                                                       const std::string& now);

// Claims invitation `id` of the transaction's tenant, at `now`: one use only,
// the row is changed only while neither accepted nor revoked. False when it
// was not (used or revoked meanwhile).
[[nodiscard]] bool accept(TenantTx& tx, const std::string& id, const std::string& now);

}  // namespace portcullis::store::invitations
