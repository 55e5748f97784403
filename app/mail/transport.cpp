#include "app/mail/transport.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "app/db/time.h"

namespace portcullis::mail {
namespace {

class FileTransport : public Transport {
 public:
  explicit FileTransport(std::string dir) : dir_(std::move(dir)) {}

  SendResult send(const Composed& message,
                  const std::string& /*envelope_from*/,
                  const std::string& /*envelope_to*/,
                  const std::string& row_id) override {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    ::chmod(dir_.c_str(), 0700);
    std::string path =
        (std::filesystem::path(dir_) / (std::to_string(now_ms()) + "-" + row_id + ".eml")).string();
    // O_EXCL: never write through a file or link someone else put there.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      return {SendResult::Outcome::kRetry,
              std::string("cannot create .eml file: ") + std::strerror(errno)};
    }
    ::fchmod(fd, 0600);
    size_t done = 0;
    while (done < message.data.size()) {
      ssize_t n = ::write(fd, message.data.data() + done, message.data.size() - done);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        int err = errno;
        ::close(fd);
        ::unlink(path.c_str());
        return {SendResult::Outcome::kRetry,
                std::string("cannot write .eml file: ") + std::strerror(err)};
      }
      done += static_cast<size_t>(n);
    }
    ::close(fd);
    std::printf("%s\n", path.c_str());
    std::fflush(stdout);
    return {SendResult::Outcome::kSent, ""};
  }

 private:
  std::string dir_;
};

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t read_upload(char* buffer, size_t size, size_t count, void* user) {
  auto* up = static_cast<Upload*>(user);
  size_t room = size * count;
  size_t left = up->data->size() - up->offset;
  size_t n = left < room ? left : room;
  std::memcpy(buffer, up->data->data() + up->offset, n);
  up->offset += n;
  return n;
}

// The host of smtp[s]://[user[:pass]@]host[:port][/…], brackets kept.
std::string host_of(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find('/', start);
  std::string authority =
      url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    authority = authority.substr(at + 1);
  }
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    return authority.substr(0, close == std::string::npos ? std::string::npos : close + 1);
  }
  return authority.substr(0, authority.find(':'));
}

class SmtpTransport : public Transport {
 public:
  explicit SmtpTransport(const Config& cfg)
      : url_(cfg.smtp_url),
        user_(cfg.smtp_user),
        password_(cfg.smtp_password),
        ca_file_(cfg.smtp_ca_file) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (url_.rfind("smtps://", 0) == 0) {
      tls_ = CURLUSESSL_ALL;
    } else if (cfg.smtp_allow_plain_loopback) {
      std::string host = host_of(url_);
      if (host != "127.0.0.1" && host != "[::1]") {
        throw MailError(
            "PORTCULLIS_SMTP_ALLOW_PLAIN_LOOPBACK allows plain SMTP to 127.0.0.1 or [::1] only");
      }
      tls_ = CURLUSESSL_NONE;
    } else {
      tls_ = CURLUSESSL_ALL;  // smtp:// means STARTTLS, required
    }
  }

  SendResult send(const Composed& message,
                  const std::string& envelope_from,
                  const std::string& envelope_to,
                  const std::string& /*row_id*/) override {
    CURL* curl = curl_easy_init();
    if (curl == nullptr) {
      return {SendResult::Outcome::kRetry, "curl_easy_init failed"};
    }
    curl_slist* rcpt = curl_slist_append(nullptr, ("<" + envelope_to + ">").c_str());
    Upload up{&message.data};
    std::string from = "<" + envelope_from + ">";
    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(tls_));
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!ca_file_.empty()) {
      // A private relay's CA: this bundle is the trust store, instead of the
      // system's; the peer and host name checks above still apply.
      curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file_.c_str());
      curl_easy_setopt(curl, CURLOPT_CAPATH, nullptr);
    }
    if (!user_.empty()) {
      curl_easy_setopt(curl, CURLOPT_USERNAME, user_.c_str());
    }
    if (!password_.empty()) {
      curl_easy_setopt(curl, CURLOPT_PASSWORD, password_.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(curl);
    long response = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    if (rc == CURLE_OK) {
      return {SendResult::Outcome::kSent, ""};
    }
    // curl_easy_strerror() names the failure class only: no URL, no
    // credential, no address.
    std::string error = std::string("smtp: ") + curl_easy_strerror(rc);
    if (response > 0) {
      error += " (" + std::to_string(response) + ")";
    }
    // 5xx is the server's final word on this message (e.g. a rejected
    // recipient); everything else may pass later.
    bool permanent = response >= 500 && response < 600 && rc != CURLE_LOGIN_DENIED;
    return {permanent ? SendResult::Outcome::kPermanent : SendResult::Outcome::kRetry, error};
  }

 private:
  std::string url_;
  std::string user_;
  std::string password_;
  std::string ca_file_;
  curl_usessl tls_ = CURLUSESSL_ALL;
};

}  // namespace

std::unique_ptr<Transport> make_transport(const Config& cfg) {
  if (cfg.smtp_url.empty()) {
    return std::make_unique<FileTransport>(cfg.mail_dir);
  }
  return std::make_unique<SmtpTransport>(cfg);
}

}  // namespace portcullis::mail
