// The verification service (DESIGN §3, §7; STYLE §4.1): the one owner of
// every secret check — the password at login, re-authentication, password
// change, the second factor at MFA verify, MFA disable, backup codes (and
// later the reset flow) — and of its counting. Each call counts the attempt
// before checking (RATE-2), locks when the attempt that reaches the threshold
// fails (locked_until is set by the statement that counts it), resets after a
// full authentication, and returns an outcome the caller cannot ignore. It
// never throws an HTTP error: handlers map outcomes to answers.
//
// Audit: the service records `auth.lockout` (once, by the failure that locks)
// and `mfa.backup_code_used` (in the transaction that spends the code) from
// the request's base event; the caller records its own success or failure.
// Notices (app/auth/notify.h): `account_locked` to a known account's owner
// with the lockout, `backup_code_used` (with the count left) in the
// transaction that spends the code.
//
// Not thread-safe (one per request, like the worker's Db).
#pragma once

#include <optional>
#include <string>

#include "app/auth/account.h"
#include "app/config/config.h"
#include "app/crypto/worker_keys.h"
#include "app/db/connection.h"
#include "app/log/audit.h"

namespace portcullis {

enum class [[nodiscard]] Verdict{
    kOk,       // the secret is right; the attempt no longer counts
    kInvalid,  // wrong secret (or unknown account, disabled, no second factor): counted
    kLocked,   // refused unchecked: the account subject is locked or the IP throttled
    kReplay,   // the right TOTP code for a step already used (MFA-3): counted as a failure
    // The right secret of a disabled (suspended) account (issue 12): no
    // session may follow, and the attempt counts as a failure. Given only
    // once every factor is right: the password of an account without MFA,
    // the second factor of one with MFA (whose password step is kOk, so the
    // suspension is told only to whoever holds both factors).
    kSuspended,
};

struct [[nodiscard]] Verification {
  Verdict verdict = Verdict::kInvalid;
  int retry_after = 0;           // seconds, with kLocked
  bool locked = false;           // kLocked, or this failure locked the subject
  bool used_backup = false;      // kOk through a backup code (now spent)
  bool password_failed = false;  // password_and_second_factor: the password was wrong

  bool ok() const { return verdict == Verdict::kOk; }
};

class VerificationService {
 public:
  // `base` is the request's audit event (request id, IP, user agent, and the
  // principal when there is one). `client_ip` may be empty (no IP throttle).
  // `keys` are the worker's (the second factor's cipher and backup-code key,
  // the login-subject key); they and `config` must outlive the service.
  VerificationService(
      Db& db, const Config& config, const WorkerKeys& keys, Audit& audit, AuditEvent base);

  // The password step of a login. `typed_email` is what the client sent;
  // `account` the account it names, if any (an unknown one costs a dummy
  // hash). A wrong password is kInvalid whatever the account's state; the
  // right one of a disabled account without MFA is kSuspended (counted);
  // with MFA it is kOk, as for any MFA account, and second_factor() tells.
  // kOk resets the count when the login is complete, and only takes this
  // attempt back when MFA follows.
  Verification login_password(const std::string& typed_email,
                              const std::optional<Account>& account,
                              const std::string& password);

  // The password of an authenticated caller (re-authentication, password
  // change). REQUIRES: caller.user_id, tenant_id and email set.
  Verification password(const Account& caller, const std::string& password);

  // A TOTP `code`, else a `backup_code` (spent on success), of an MFA user
  // (MFA verify, re-authentication). With neither: kInvalid, counted. The
  // right one of a disabled account is kSuspended (counted), and nothing is
  // spent: neither the TOTP step nor the backup code.
  Verification second_factor(const Account& caller,
                             const std::optional<std::string>& code,
                             const std::optional<std::string>& backup_code);

  // Both, as one attempt (MFA disable): a wrong password or a wrong code
  // counts one failure. The code is checked only after the password is right.
  Verification password_and_second_factor(const Account& caller,
                                          const std::string& password,
                                          const std::optional<std::string>& code,
                                          const std::optional<std::string>& backup_code);

  // Whether `candidate` is the caller's current password: a new password
  // must differ from it (issue 12 item 6). Not a check of a secret the
  // caller must prove: it counts nothing, so ask it only once the caller has
  // proved the account (the current password, or a reset token and its
  // second factor). REQUIRES: caller.user_id and tenant_id set.
  [[nodiscard]] bool is_current_password(const Account& caller, const std::string& candidate);

  // The subject `typed_email` is counted, audited and logged under (see
  // throttle_subject): safe to put in an audit event or a log line.
  std::string subject(const std::string& typed_email) const;

 private:
  enum class Completion { kFull, kMfaFollows };

  // begin → check → fail / release / reset: the whole protocol, in one place.
  // `check` returns kOk, kInvalid or kReplay (and used_backup). `owner` (null
  // for an unknown e-mail) is told of a lockout (app/auth/notify.h).
  template <typename CheckFn>
  Verification run(const std::string& counted_as,
                   const AuditEvent& who,
                   const Account* owner,
                   Completion completion,
                   CheckFn check);

  // Checks (and spends) the second factor in the caller's tenant; audits a
  // spent backup code in the same transaction.
  Verification spend_second_factor(const Account& caller,
                                   const std::optional<std::string>& code,
                                   const std::optional<std::string>& backup_code);

  Db& db_;
  const Config& config_;
  const WorkerKeys& keys_;
  Audit& audit_;
  AuditEvent base_;
};

}  // namespace portcullis
