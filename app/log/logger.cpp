#include "app/log/logger.h"

#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <boost/core/null_deleter.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/sources/logger.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace portcullis {
namespace {

Level g_min_level = Level::kInfo;
bool g_journal = false;
bool g_initialised = false;

Level parse_level(const std::string& name) {
  if (name == "debug") {
    return Level::kDebug;
  }
  if (name == "warning") {
    return Level::kWarning;
  }
  if (name == "error") {
    return Level::kError;
  }
  return Level::kInfo;
}

const char* level_name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kNotice:
      return "notice";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
    case Level::kCritical:
      return "critical";
  }
  return "info";
}

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void put(Writer& w, const char* key, const std::string& value) {
  if (value.empty()) {
    return;
  }
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

}  // namespace

std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm_utc;
  gmtime_r(&secs, &tm_utc);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm_utc.tm_year + 1900,
                tm_utc.tm_mon + 1, tm_utc.tm_mday, tm_utc.tm_hour, tm_utc.tm_min, tm_utc.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string format_log_line(Level level, const LogRecord& r) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  put(w, "ts", now_rfc3339());
  put(w, "level", level_name(level));
  put(w, "event", r.event);
  put(w, "outcome", r.outcome);
  put(w, "message", r.message);
  put(w, "request_id", r.request_id);
  put(w, "tenant_id", r.tenant_id);
  put(w, "user_id", r.user_id);
  put(w, "session", r.session);
  put(w, "ip", r.ip);
  put(w, "user_agent", r.user_agent.substr(0, 256));
  if (!r.target_type.empty() || !r.target_id.empty()) {
    w.Key("target");
    w.StartObject();
    put(w, "type", r.target_type);
    put(w, "id", r.target_id);
    w.EndObject();
  }
  if (!r.details.empty()) {
    w.Key("details");
    w.StartObject();
    for (const auto& [k, v] : r.details) {
      w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
      w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
    }
    w.EndObject();
  }
  put(w, "pid", std::to_string(::getpid()));
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

void init_logging(const std::string& min_level) {
  g_min_level = parse_level(min_level);
  if (g_initialised) {
    return;
  }
  g_initialised = true;
  const char* js = std::getenv("JOURNAL_STREAM");
  g_journal = js != nullptr && *js != '\0';
  namespace logging = boost::log;
  using Backend = logging::sinks::text_ostream_backend;
  auto backend = boost::make_shared<Backend>();
  backend->add_stream(boost::shared_ptr<std::ostream>(&std::cout, boost::null_deleter()));
  backend->auto_flush(true);
  auto sink = boost::make_shared<logging::sinks::synchronous_sink<Backend>>(backend);
  sink->set_formatter(logging::expressions::stream << logging::expressions::smessage);
  logging::core::get()->add_sink(sink);
}

void set_log_level(const std::string& min_level) { g_min_level = parse_level(min_level); }

void log_record(Level level, const LogRecord& record) {
  if (static_cast<int>(level) > static_cast<int>(g_min_level)) {
    return;
  }
  if (!g_initialised) {
    init_logging("info");
  }
  std::string line = format_log_line(level, record);
  if (g_journal) {
    line = "<" + std::to_string(static_cast<int>(level)) + ">" + line;
  }
  static boost::log::sources::logger lg;
  BOOST_LOG(lg) << line;
}

void log_event(Level level, const std::string& event, const std::string& message) {
  LogRecord r;
  r.event = event;
  r.message = message;
  log_record(level, r);
}

}  // namespace portcullis
