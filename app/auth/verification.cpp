#include "app/auth/verification.h"

#include <utility>

#include "app/auth/mfa.h"
#include "app/auth/notify.h"
#include "app/auth/passwords.h"
#include "app/auth/throttle.h"
#include "app/db/tenant_tx.h"
#include "app/db/time.h"
#include "app/store/audit.h"

namespace portcullis {

VerificationService::VerificationService(
    Db& db, const Config& config, const WorkerKeys& keys, Audit& audit, AuditEvent base)
    : db_(db), config_(config), keys_(keys), audit_(audit), base_(std::move(base)) {}

std::string VerificationService::subject(const std::string& typed_email) const {
  return throttle_subject(keys_, typed_email);
}

template <typename CheckFn>
Verification VerificationService::run(const std::string& counted_as,
                                      const AuditEvent& who,
                                      const Account* owner,
                                      Completion completion,
                                      CheckFn check) {
  const std::string& ip = base_.ip;
  int64_t now = now_ms();
  AttemptTicket ticket = begin_attempt(db_, config_, counted_as, ip, now);
  Verification out;
  if (ticket.refused) {
    out.verdict = Verdict::kLocked;
    out.retry_after = ticket.retry_after;
    out.locked = true;
    return out;
  }
  out = check();
  if (out.ok()) {
    if (completion == Completion::kMfaFollows) {
      release_attempt(db_, config_, counted_as, ip);
    } else {
      reset_attempts(db_, counted_as, ip);
    }
    return out;
  }
  // A failure: the attempt stays counted. The one that reached the threshold
  // set the lock when it was counted; its failure keeps it, and is the one
  // lockout event.
  if (ticket.locks_on_failure) {
    out.locked = true;
    AuditEvent lock = who;
    lock.event = "auth.lockout";
    lock.outcome = "denied";
    lock.target_type = "email";
    lock.target_id = counted_as;
    lock.details = {{"seconds", std::to_string(config_.lockout_seconds)}};
    store::audit::record(audit_, db_, lock);
    // The owner hears of it (an unknown e-mail has none), in the lockout
    // event's transaction: the lock itself was set when the attempt was
    // counted, before the check.
    if (owner != nullptr) {
      TenantTx tx(db_, owner->tenant_id);
      (void)notify_user(
          tx.tx(), config_.notify_max_per_hour, notice_recipient(*owner), kNoticeAccountLocked,
          {{"time", notice_time(now)}, {"minutes", std::to_string(config_.lockout_seconds / 60)}},
          now);
      tx.commit();
    }
  }
  return out;
}

Verification VerificationService::login_password(const std::string& typed_email,
                                                 const std::optional<Account>& account,
                                                 const std::string& password) {
  AuditEvent who = base_;
  if (account) {
    who.tenant_id = account->tenant_id;
    who.user_id = account->user_id;
  }
  Completion completion =
      account && account->mfa_enabled ? Completion::kMfaFollows : Completion::kFull;
  return run(subject(typed_email), who, account ? &*account : nullptr, completion, [&] {
    Verification v;
    if (!account) {
      verify_dummy(password);  // an unknown e-mail costs what a wrong password costs
      v.verdict = Verdict::kInvalid;
      return v;
    }
    bool right = verify_password(password, account->password_hash);
    // The same work either way; what a disabled account's right password
    // tells is decided here, once (see the header).
    v.verdict = !right                                       ? Verdict::kInvalid
                : account->disabled && !account->mfa_enabled ? Verdict::kSuspended
                                                             : Verdict::kOk;
    return v;
  });
}

namespace {

// The caller's stored password hash, read inside their tenant (RLS).
std::string stored_hash(Db& db, const Account& caller) {
  TenantTx tx(db, caller.tenant_id, TxKind::kRead);  // a read: no write lock on SQLite
  std::optional<Account> a = find_account_by_id(tx, caller.user_id);
  tx.commit();
  return a ? a->password_hash : std::string();
}

}  // namespace

Verification VerificationService::password(const Account& caller, const std::string& password) {
  return run(subject(caller.email), base_, &caller, Completion::kFull, [&] {
    Verification v;
    std::string hash = stored_hash(db_, caller);
    if (hash.empty()) {
      verify_dummy(password);
      return v;
    }
    v.verdict = verify_password(password, hash) ? Verdict::kOk : Verdict::kInvalid;
    return v;
  });
}

bool VerificationService::is_current_password(const Account& caller, const std::string& candidate) {
  std::string hash = stored_hash(db_, caller);
  return !hash.empty() && verify_password(candidate, hash);
}

Verification VerificationService::second_factor(const Account& caller,
                                                const std::optional<std::string>& code,
                                                const std::optional<std::string>& backup_code) {
  return run(subject(caller.email), base_, &caller, Completion::kFull,
             [&] { return spend_second_factor(caller, code, backup_code); });
}

Verification VerificationService::password_and_second_factor(
    const Account& caller,
    const std::string& password,
    const std::optional<std::string>& code,
    const std::optional<std::string>& backup_code) {
  return run(subject(caller.email), base_, &caller, Completion::kFull, [&] {
    std::string hash = stored_hash(db_, caller);
    if (hash.empty() || !verify_password(password, hash)) {
      Verification v;  // kInvalid; the code is not looked at (nor spent)
      v.password_failed = true;
      return v;
    }
    return spend_second_factor(caller, code, backup_code);
  });
}

Verification VerificationService::spend_second_factor(
    const Account& caller,
    const std::optional<std::string>& code,
    const std::optional<std::string>& backup_code) {
  Verification v;
  TenantTx tx(db_, caller.tenant_id);
  CodeResult r = check_second_factor(tx, keys_, caller.user_id, code, backup_code);
  v.verdict = r == CodeResult::kOk       ? Verdict::kOk
              : r == CodeResult::kReplay ? Verdict::kReplay
                                         : Verdict::kInvalid;
  if (v.ok() && caller.disabled) {
    // Suspended: the right factor, but no session follows. Rolled back, so
    // the step and a backup code stay unspent (the owner may be reinstated).
    v.verdict = Verdict::kSuspended;
    return v;
  }
  v.used_backup = v.ok() && !code;
  if (v.used_backup) {
    AuditEvent ev = base_;
    ev.event = "mfa.backup_code_used";
    ev.outcome = "success";
    store::audit::record(audit_, tx.tx().db(), ev);
    int64_t now = now_ms();
    (void)notify_user(tx.tx(), config_.notify_max_per_hour, notice_recipient(caller),
                      kNoticeBackupCodeUsed,
                      {{"time", notice_time(now)},
                       {"remaining", std::to_string(backup_codes_remaining(tx, caller.user_id))}},
                      now);
  }
  tx.commit();  // a spent step or backup code stays spent
  return v;
}

}  // namespace portcullis
