// Where composed mail goes (DESIGN §5):
//   SMTP_URL set: SMTP through libcurl. smtp://host:port requires STARTTLS
//     (CURLUSESSL_ALL), smtps:// is TLS from the first byte; the certificate
//     and host name are always verified, against the system's CA store or,
//     with SMTP_CA_FILE, against that bundle only (a private relay's CA).
//     AUTH with SMTP_USER (or the URL's user) and the smtp_password
//     credential. Envelope sender = MAIL_FROM.
//     Plain SMTP only with SMTP_ALLOW_PLAIN_LOOPBACK=1 and a host of
//     127.0.0.1 or [::1] (tests; refused in production by the config).
//   SMTP_URL unset (development): one .eml file per message under MAIL_DIR,
//     mode 0600, its path printed on stdout.
#pragma once

#include <memory>
#include <string>

#include "app/config/config.h"
#include "app/mail/compose.h"

namespace portcullis::mail {

struct SendResult {
  enum class Outcome { kSent, kRetry, kPermanent };
  Outcome outcome = Outcome::kRetry;
  std::string error;  // short, no secret, no address
  bool sent() const { return outcome == Outcome::kSent; }
};

class Transport {
 public:
  Transport() = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;
  Transport(Transport&&) = delete;
  Transport& operator=(Transport&&) = delete;
  virtual ~Transport() = default;
  // Never throws for a delivery failure: the outcome says what to do next.
  virtual SendResult send(const Composed& message,
                          const std::string& envelope_from,
                          const std::string& envelope_to,
                          const std::string& row_id) = 0;
};

// Throws MailError for an unusable setting (a plain smtp:// to a host that
// is not loopback while plain is allowed, say).
std::unique_ptr<Transport> make_transport(const Config& cfg);

}  // namespace portcullis::mail
