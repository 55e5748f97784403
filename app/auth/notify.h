// Security notices to a user (SECURITY-BAR: tell the owner of an account what
// happened to it): a sign-in from a new device, MFA turned on or off or reset
// by an admin, backup codes regenerated or used, a role change, a lockout.
// Each is an outbox row (app/store/outbox.h) of a template-file kind
// (mail/templates/<kind>.{subject,txt,html}), written in the caller's
// transaction, so a rolled-back change sends nothing.
//
// The one place a notice is enqueued, and the one place the cap is applied:
// at most Config::notify_max_per_hour outbox rows per account per hour,
// counted from the account's outbox rows, so a flood of events (lockouts,
// sign-ins) cannot become a flood of mail. A notice over the cap is skipped
// and logged (`mail.notice_capped`, with the kind and the user id, never
// the address).
//
// A notice's params never carry a password, a code, a secret or a token: only
// the facts given here (times, browser and OS families, the IP, roles, a
// count). The link back is composed from PUBLIC_BASE_URL ({{base_url}}).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "app/auth/sessions.h"
#include "app/db/tx.h"
#include "app/store/accounts.h"

namespace portcullis {

struct NoticeRecipient {
  std::string tenant_id;
  std::string user_id;
  std::string email;         // the account's (normalised) address
  std::string display_name;  // may be empty: the address greets then
};

inline NoticeRecipient notice_recipient(const Account& a) {
  return {a.tenant_id, a.user_id, a.email, a.display_name};
}

enum class [[nodiscard]] NoticeOutcome{kQueued, kCapped};

// The notice kinds (the template names).
inline constexpr const char* kNoticeNewDevice = "new_device_sign_in";
inline constexpr const char* kNoticeMfaEnabled = "mfa_enabled";
inline constexpr const char* kNoticeMfaDisabled = "mfa_disabled";
inline constexpr const char* kNoticeMfaReset = "mfa_reset";
inline constexpr const char* kNoticeBackupCodesRegenerated = "backup_codes_regenerated";
inline constexpr const char* kNoticeBackupCodeUsed = "backup_code_used";
inline constexpr const char* kNoticeRoleChanged = "role_changed";
inline constexpr const char* kNoticeAccountLocked = "account_locked";

// Enqueues `kind` to `to` in `tx` with `params` plus {{name}} (the display
// name, else the address), unless the account already has `max_per_hour`
// outbox rows from the last hour at `now`.
NoticeOutcome notify_user(Tx& tx,
                          int max_per_hour,
                          const NoticeRecipient& to,
                          const std::string& kind,
                          std::map<std::string, std::string> params,
                          int64_t now);

// A completed sign-in whose session is from a new device (Session::new_device;
// never an account's first sign-in): says when, which browser and OS, the IP,
// and where to end the session ({{base_url}}/#/sessions). Nothing otherwise.
void notify_new_device(Tx& tx,
                       int max_per_hour,
                       const NoticeRecipient& to,
                       const Session& session,
                       const std::string& ip,
                       int64_t now);

// "2026-12-01 14:05 UTC": how a notice says when.
std::string notice_time(int64_t ms);

}  // namespace portcullis
