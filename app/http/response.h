// Response: status, headers and body of one answer. Built by handlers with
// json_ok(), by the error mapper with json_error().
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

namespace portcullis {

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // Adds a header; a second call with the same name replaces the first, so no
  // header is ever sent twice (DESIGN §8, header owners).
  void set_header(const std::string& name, const std::string& value);
  const std::string* find_header(const std::string& name) const;
};

// Serialises a RapidJSON value.
std::string to_json_string(const rapidjson::Value& value);

// `status` with a JSON body and Content-Type application/json.
Response json_ok(const rapidjson::Value& body, int status = 200);

// The error envelope of DESIGN §8:
// {"error":{"code","message","request_id"[,"fields":{…}]}}
Response json_error(int status,
                    const std::string& code,
                    const std::string& message,
                    const std::string& request_id,
                    const std::map<std::string, std::string>& fields = {});

// Reason phrase for the FastCGI `Status:` line.
const char* status_text(int status);

}  // namespace portcullis
