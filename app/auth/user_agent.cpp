#include "app/auth/user_agent.h"

#include <array>

namespace portcullis {
namespace {

// One row: when `token` occurs (case-sensitive, as browsers send it) and
// `unless` does not ("" = no condition), the header is of `family`. Rows are
// tried top to bottom; the first that matches decides.
struct Rule {
  std::string_view token;
  std::string_view family;
  std::string_view unless = "";
};

// The order is the point (every engine borrows the others' tokens):
//   tools and bots first (Googlebot claims Chrome and Safari);
//   Edge, Opera and Samsung Internet before Chrome (each sends "Chrome/");
//   the iOS shells (CriOS = Chrome, FxiOS = Firefox, EdgiOS, OPiOS) before
//     Safari, whose token they all carry;
//   Chromium before Chrome (Debian's sends both);
//   Chrome before Safari (Chrome sends "Safari/");
//   Safari last, and not on Android (the old Android browser says Safari).
constexpr std::array kBrowserRules = {
    Rule{"curl/", "Other"},
    Rule{"Wget/", "Other"},
    Rule{"python-requests/", "Other"},
    Rule{"Python-urllib/", "Other"},
    Rule{"Go-http-client/", "Other"},
    Rule{"okhttp/", "Other"},
    Rule{"PostmanRuntime/", "Other"},
    Rule{"HTTPie/", "Other"},
    Rule{"libwww-perl/", "Other"},
    Rule{"facebookexternalhit/", "Other"},
    Rule{"bot/", "Other"},
    Rule{"Bot/", "Other"},
    Rule{"bot;", "Other"},
    Rule{"spider", "Other"},
    Rule{"Spider", "Other"},
    Rule{"crawler", "Other"},
    Rule{"Crawler", "Other"},
    Rule{"Edg/", "Edge"},
    Rule{"EdgA/", "Edge"},
    Rule{"EdgiOS/", "Edge"},
    Rule{"Edge/", "Edge"},
    Rule{"OPR/", "Opera"},
    Rule{"OPiOS/", "Opera"},
    Rule{"OPT/", "Opera"},
    Rule{"Opera", "Opera"},
    Rule{"SamsungBrowser/", "Samsung Internet"},
    Rule{"YaBrowser/", "Other"},
    Rule{"UCBrowser/", "Other"},
    Rule{"MiuiBrowser/", "Other"},
    Rule{"MSIE ", "Other"},
    Rule{"Trident/", "Other"},
    Rule{"CriOS/", "Chrome"},
    Rule{"FxiOS/", "Firefox"},
    Rule{"Firefox/", "Firefox"},
    Rule{"Chromium/", "Chromium"},
    Rule{"Chrome/", "Chrome"},
    Rule{"Safari/", "Safari", "Android"},
};

// iPad before iPhone and both before macOS (they say "like Mac OS X");
// Android and ChromeOS before Linux (both say "Linux"); Windows Phone is not
// Windows.
constexpr std::array kOsRules = {
    Rule{"Windows Phone", "Other"}, Rule{"Windows", "Windows"}, Rule{"CrOS ", "ChromeOS"},
    Rule{"iPad", "iPadOS"},         Rule{"iPhone", "iOS"},      Rule{"iPod", "iOS"},
    Rule{"Android", "Android"},     Rule{"Macintosh", "macOS"}, Rule{"Mac OS X", "macOS"},
    Rule{"Linux", "Linux"},         Rule{"X11", "Linux"},
};

template <size_t N>
std::string_view first_match(std::string_view header, const std::array<Rule, N>& rules) {
  for (const Rule& rule : rules) {
    if (header.find(rule.token) == std::string_view::npos) {
      continue;
    }
    if (!rule.unless.empty() && header.find(rule.unless) != std::string_view::npos) {
      continue;
    }
    return rule.family;
  }
  return "Other";
}

}  // namespace

UserAgentFamilies parse_user_agent(std::string_view header) noexcept {
  // Bounded work: only the prefix sessions keep is read.
  header = header.substr(0, kUserAgentScanBytes);
  return UserAgentFamilies{first_match(header, kBrowserRules), first_match(header, kOsRules)};
}

}  // namespace portcullis
