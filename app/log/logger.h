// Structured logs (DESIGN §9): one JSON object per line on stdout through
// Boost.Log. Under journald (JOURNAL_STREAM set) each line starts with the
// syslog priority prefix `<N>` so `journalctl -p warning` works.
//
// Values are JSON-escaped by RapidJSON, so CR/LF or quotes in a value can
// never start a second record or overwrite a field (LOG-4).
// Never pass a password, token, code, secret or memory content here.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace portcullis {

enum class Level { kDebug = 7, kInfo = 6, kNotice = 5, kWarning = 4, kError = 3, kCritical = 2 };

struct LogRecord {
  std::string event;    // e.g. "auth.login", "server.start"
  std::string outcome;  // success | failure | denied, or empty
  std::string message;  // human sentence, optional
  std::string request_id;
  std::string tenant_id;
  std::string user_id;
  std::string session;  // session id (never the token)
  std::string ip;
  std::string user_agent;
  std::string target_type;
  std::string target_id;
  std::vector<std::pair<std::string, std::string>> details;
};

// Sets up the Boost.Log sink once per process. `min_level`: debug|info|warning|error.
void init_logging(const std::string& min_level);
// Changes the threshold (SIGHUP re-reads the config).
void set_log_level(const std::string& min_level);

void log_record(Level level, const LogRecord& record);
void log_event(Level level, const std::string& event, const std::string& message);

// The JSON line without prefix; exposed for tests.
std::string format_log_line(Level level, const LogRecord& record);

// RFC 3339 UTC with milliseconds, e.g. 2026-11-23T22:40:00.123Z.
std::string now_rfc3339();

}  // namespace portcullis
