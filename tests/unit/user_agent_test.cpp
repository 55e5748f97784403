// The closed-table User-Agent parser (app/auth/user_agent.h) against real
// headers of each family, desktop and mobile, with the precedence pitfalls
// (Edge, Opera and Samsung Internet send "Chrome/"; Chrome sends "Safari/";
// the iOS shells CriOS and FxiOS send "Safari/"), and against hostile input:
// empty, 10 KB, control characters, invalid UTF-8. It never throws.
#include "app/auth/user_agent.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace portcullis {
namespace {

struct Case {
  const char* header;
  const char* browser;
  const char* os;
};

// Real headers as browsers, tools and crawlers send them.
const std::vector<Case> kRealHeaders = {
    // Chrome
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "Windows"},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "macOS"},
    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
     "Safari/537.36",
     "Chrome", "Linux"},
    {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Mobile Safari/537.36",
     "Chrome", "Android"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
     "Chrome", "iOS"},
    {"Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
     "Chrome", "iPadOS"},
    {"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "ChromeOS"},
    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "HeadlessChrome/120.0.6099.224 Safari/537.36",
     "Chrome", "Linux"},
    {"Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36",
     "Chrome", "Android"},
    // Chromium
    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu "
     "Chromium/37.0.2062.94 Chrome/37.0.2062.94 Safari/537.36",
     "Chromium", "Linux"},
    // Edge
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
     "Edge", "Windows"},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
     "Edge", "macOS"},
    {"Mozilla/5.0 (Linux; Android 10; HD1913) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.6099.144 Mobile Safari/537.36 EdgA/120.0.2210.126",
     "Edge", "Android"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.0 EdgiOS/120.2210.126 Mobile/15E148 Safari/605.1.15",
     "Edge", "iOS"},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/70.0.3538.102 Safari/537.36 Edge/18.19582",
     "Edge", "Windows"},
    // Firefox
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox",
     "Windows"},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:121.0) Gecko/20100101 Firefox/121.0",
     "Firefox", "macOS"},
    {"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox", "Linux"},
    {"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox",
     "Linux"},
    {"Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0", "Firefox", "Android"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 14_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15",
     "Firefox", "iOS"},
    // Safari
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.2 Safari/605.1.15",
     "Safari", "macOS"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
     "Safari", "iOS"},
    {"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/16.6 Mobile/15E148 Safari/604.1",
     "Safari", "iPadOS"},
    {"Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
     "like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1",
     "Safari", "iOS"},
    // Opera
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
     "Opera", "Windows"},
    {"Mozilla/5.0 (Linux; Android 10; VOG-L29) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Mobile Safari/537.36 OPR/79.1.4195.76505",
     "Opera", "Android"},
    {"Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18", "Opera", "Windows"},
    {"Opera/9.80 (J2ME/MIDP; Opera Mini/5.1.21214/28.2725; U; ru) Presto/2.8.119 Version/11.10",
     "Opera", "Other"},
    // Samsung Internet
    {"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
     "Samsung Internet", "Android"},
    // Other browsers
    {"Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 "
     "(KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
     "Other", "Android"},
    {"Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko", "Other", "Windows"},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/118.0.0.0 YaBrowser/23.11.0.0 Safari/537.36",
     "Other", "Windows"},
    {"Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.14977",
     "Edge", "Other"},
    // Crawlers and tools
    {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Other", "Other"},
    {"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like "
     "Gecko) Chrome/120.0.6099.71 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
     "+http://www.google.com/bot.html)",
     "Other", "Android"},
    {"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "Other", "Other"},
    {"curl/7.88.1", "Other", "Other"},
    {"Wget/1.21.3", "Other", "Other"},
    {"python-requests/2.31.0", "Other", "Other"},
    {"Go-http-client/1.1", "Other", "Other"},
    {"", "Other", "Other"},
};

TEST(UserAgentTest, RealHeadersGiveTheirFamilies) {
  ASSERT_GE(kRealHeaders.size(), 30u);
  for (const Case& c : kRealHeaders) {
    const UserAgentFamilies f = parse_user_agent(c.header);
    EXPECT_EQ(f.browser, c.browser) << c.header;
    EXPECT_EQ(f.os, c.os) << c.header;
  }
}

TEST(UserAgentTest, AnIpadAskingForDesktopSitesIsMacos) {
  // iPadOS 13+ Safari in desktop mode: indistinguishable from a Mac.
  const UserAgentFamilies f = parse_user_agent(
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/17.2 Safari/605.1.15");
  EXPECT_EQ(f.os, "macOS");
}

TEST(UserAgentTest, ATenKilobyteHeaderIsReadOnlyToItsStoredPrefix) {
  const std::string firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Firefox/121.0 ";
  const std::string filler(10 * 1024, 'A');
  // Tokens in the prefix count; tokens past it are not read.
  UserAgentFamilies f = parse_user_agent(firefox + filler);
  EXPECT_EQ(f.browser, "Firefox");
  EXPECT_EQ(f.os, "Linux");
  f = parse_user_agent(filler + firefox);
  EXPECT_EQ(f.browser, "Other");
  EXPECT_EQ(f.os, "Other");
  // 10 KB of tokens that almost match, many times over: bounded work.
  std::string near;
  while (near.size() < 10 * 1024) {
    near += "Chrom Safar Edg Firefo Windo ";
  }
  for (int i = 0; i < 1000; ++i) {
    f = parse_user_agent(near);
  }
  EXPECT_EQ(f.browser, "Other");
}

TEST(UserAgentTest, ControlCharactersNulAndInvalidUtf8AreJustBytes) {
  using namespace std::string_literals;
  UserAgentFamilies f =
      parse_user_agent("Mozilla/5.0 (X11; Linux x86_64)\r\n\x01\x7f\xff\xfe Firefox/121.0"s);
  EXPECT_EQ(f.browser, "Firefox");
  EXPECT_EQ(f.os, "Linux");
  f = parse_user_agent("\0\0\0Chrome/120.0 (Windows NT 10.0)\0"s);
  EXPECT_EQ(f.browser, "Chrome");
  EXPECT_EQ(f.os, "Windows");
  f = parse_user_agent("\n{\"event\":\"auth.login\"}\n"s);
  EXPECT_EQ(f.browser, "Other");
  EXPECT_EQ(f.os, "Other");
  // Every single byte value, alone: never throws, always a family.
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    f = parse_user_agent(one);
    EXPECT_EQ(f.browser, "Other");
    EXPECT_EQ(f.os, "Other");
  }
}

}  // namespace
}  // namespace portcullis
