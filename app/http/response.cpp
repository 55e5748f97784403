#include "app/http/response.h"

#include <strings.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace portcullis {

void Response::set_header(const std::string& name, const std::string& value) {
  for (auto& h : headers) {
    if (strcasecmp(h.first.c_str(), name.c_str()) == 0) {
      h.second = value;
      return;
    }
  }
  headers.emplace_back(name, value);
}

const std::string* Response::find_header(const std::string& name) const {
  for (const auto& h : headers) {
    if (strcasecmp(h.first.c_str(), name.c_str()) == 0) {
      return &h.second;
    }
  }
  return nullptr;
}

std::string to_json_string(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

Response json_ok(const rapidjson::Value& body, int status) {
  Response r;
  r.status = status;
  r.set_header("Content-Type", "application/json");
  r.body = to_json_string(body);
  return r;
}

Response json_error(int status,
                    const std::string& code,
                    const std::string& message,
                    const std::string& request_id,
                    const std::map<std::string, std::string>& fields) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("error");
  w.StartObject();
  w.Key("code");
  w.String(code.c_str(), static_cast<rapidjson::SizeType>(code.size()));
  w.Key("message");
  w.String(message.c_str(), static_cast<rapidjson::SizeType>(message.size()));
  w.Key("request_id");
  w.String(request_id.c_str(), static_cast<rapidjson::SizeType>(request_id.size()));
  if (!fields.empty()) {
    w.Key("fields");
    w.StartObject();
    for (const auto& [name, msg] : fields) {
      w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
      w.String(msg.c_str(), static_cast<rapidjson::SizeType>(msg.size()));
    }
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  Response r;
  r.status = status;
  r.set_header("Content-Type", "application/json");
  r.body.assign(buffer.GetString(), buffer.GetSize());
  return r;
}

const char* status_text(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

}  // namespace portcullis
