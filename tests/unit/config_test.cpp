// CRY-4 and DESIGN §5: configuration precedence and secrets.
#include "app/config/config.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/crypto/random.h"

namespace portcullis {
namespace {

using ::testing::HasSubstr;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("portcullis-config-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    for (const char* v :
         {"PORTCULLIS_ENV", "PORTCULLIS_SECRET_KEY", "PORTCULLIS_DATA_KEYS", "PORTCULLIS_WORKERS",
          "PORTCULLIS_VAR_DIR", "CREDENTIALS_DIRECTORY", "PORTCULLIS_DATA_KEY_PRIMARY",
          "PORTCULLIS_REGISTRATION", "PORTCULLIS_PUBLIC_BASE_URL", "PORTCULLIS_SMTP_URL",
          "PORTCULLIS_SMTP_ALLOW_PLAIN_LOOPBACK"}) {
      ::unsetenv(v);
    }
  }
  void TearDown() override {
    SetUp();
    std::filesystem::remove_all(dir_);
  }
  std::string env_file(const std::string& content) {
    std::string path = (dir_ / "test.env").string();
    std::ofstream(path) << content;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(ConfigTest, CRY4_ProductionWithoutSecretNamesTheVariableAndTheFix) {
  std::string file = env_file("PORTCULLIS_ENV=production\n");
  try {
    load_config(ConfigOptions{file, true});
    FAIL() << "production started without a secret";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("PORTCULLIS_SECRET_KEY"));
    EXPECT_THAT(e.what(), HasSubstr("portcullis gen-secret"));
  }
}

TEST_F(ConfigTest, CRY4_ProductionRefusesShortOrPlaceholderSecret) {
  std::string keys = "k1:" + generate_secret();
  for (const std::string& bad : {base64_encode(random_bytes(16)), std::string("change-me")}) {
    std::string file = env_file("PORTCULLIS_ENV=production\nPORTCULLIS_SECRET_KEY=" + bad +
                                "\nPORTCULLIS_DATA_KEYS=" + keys + "\n");
    EXPECT_THROW(load_config(ConfigOptions{file, true}), ConfigError) << bad;
  }
}

TEST_F(ConfigTest, REC3_ProductionRequiresPublicBaseUrl) {
  std::string secrets = "PORTCULLIS_ENV=production\nPORTCULLIS_SECRET_KEY=" + generate_secret() +
                        "\nPORTCULLIS_DATA_KEYS=k1:" + generate_secret() + "\n";
  try {
    load_config(ConfigOptions{env_file(secrets), false});
    FAIL() << "production started without PUBLIC_BASE_URL";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("PORTCULLIS_PUBLIC_BASE_URL"));
  }
  Config cfg = load_config(ConfigOptions{
      env_file(secrets + "PORTCULLIS_PUBLIC_BASE_URL=https://app.example.org/\n"), false});
  EXPECT_EQ(cfg.public_base_url, "https://app.example.org");
  // Development keeps its local default.
  Config dev = load_config(ConfigOptions{env_file(""), false});
  EXPECT_EQ(dev.public_base_url, "http://localhost:8080");
}

TEST_F(ConfigTest, MailSettingsAreValidated) {
  EXPECT_THROW(
      load_config(ConfigOptions{env_file("PORTCULLIS_SMTP_URL=http://mail.test\n"), false}),
      ConfigError);
  std::string prod = "PORTCULLIS_ENV=production\nPORTCULLIS_SECRET_KEY=" + generate_secret() +
                     "\nPORTCULLIS_DATA_KEYS=k1:" + generate_secret() +
                     "\nPORTCULLIS_PUBLIC_BASE_URL=https://app.example.org\n";
  EXPECT_THROW(load_config(ConfigOptions{
                   env_file(prod + "PORTCULLIS_SMTP_ALLOW_PLAIN_LOOPBACK=1\n"), false}),
               ConfigError);
  Config cfg = load_config(ConfigOptions{env_file(prod), false});
  EXPECT_EQ(cfg.mail_max_attempts, 8);
  EXPECT_EQ(cfg.notify_max_per_hour, 10);
  EXPECT_TRUE(cfg.smtp_url.empty());
}

TEST_F(ConfigTest, CRY4_DevelopmentGeneratesSecretsOnceWithMode0600) {
  std::string var = (dir_ / "var").string();
  ::setenv("PORTCULLIS_VAR_DIR", var.c_str(), 1);
  Config first = load_config(ConfigOptions{env_file(""), true});
  EXPECT_EQ(first.secret_key.size(), 32u);
  EXPECT_FALSE(first.warnings.empty());
  struct stat st {};
  ASSERT_EQ(::stat((var + "/secrets/secret_key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Config second = load_config(ConfigOptions{env_file(""), true});
  EXPECT_EQ(second.secret_key, first.secret_key);  // generated once, then reused
  EXPECT_TRUE(second.warnings.empty());
}

TEST_F(ConfigTest, PrecedenceCredentialThenEnvironmentThenFileThenDefault) {
  std::string file_secret = generate_secret();
  std::string env_secret = generate_secret();
  std::string cred_secret = generate_secret();
  std::string keys = "k1:" + generate_secret();
  std::string file = env_file("PORTCULLIS_SECRET_KEY=" + file_secret +
                              "\nPORTCULLIS_DATA_KEYS=" + keys + "\nPORTCULLIS_WORKERS=3\n");
  Config from_file = load_config(ConfigOptions{file, true});
  std::string raw;
  ASSERT_TRUE(base64_decode(file_secret, &raw));
  EXPECT_EQ(from_file.secret_key, raw);
  EXPECT_EQ(from_file.workers, 3);
  EXPECT_EQ(from_file.max_body_bytes, 131072u);  // default

  ::setenv("PORTCULLIS_SECRET_KEY", env_secret.c_str(), 1);
  ::setenv("PORTCULLIS_WORKERS", "5", 1);
  Config from_env = load_config(ConfigOptions{file, true});
  ASSERT_TRUE(base64_decode(env_secret, &raw));
  EXPECT_EQ(from_env.secret_key, raw);
  EXPECT_EQ(from_env.workers, 5);

  std::filesystem::create_directories(dir_ / "creds");
  std::ofstream(dir_ / "creds" / "secret_key") << cred_secret << "\n";
  ::setenv("CREDENTIALS_DIRECTORY", (dir_ / "creds").c_str(), 1);
  Config from_cred = load_config(ConfigOptions{file, true});
  ASSERT_TRUE(base64_decode(cred_secret, &raw));
  EXPECT_EQ(from_cred.secret_key, raw);
}

TEST_F(ConfigTest, InvalidValuesNameTheVariable) {
  try {
    load_config(ConfigOptions{env_file("PORTCULLIS_WORKERS=lots\n"), true});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("PORTCULLIS_WORKERS"));
  }
  EXPECT_THROW(load_config(ConfigOptions{env_file("PORTCULLIS_REGISTRATION=maybe\n"), true}),
               ConfigError);
  EXPECT_THROW(load_config(ConfigOptions{env_file("not a line\n"), true}), ConfigError);
  EXPECT_THROW(load_config(ConfigOptions{(dir_ / "missing.env").string(), true}), ConfigError);
}

TEST(EnvFileTest, ParsesCommentsExportAndQuotes) {
  auto v = parse_env_file("# c\n\nexport A=1\nB=\"two words\"\nC='x=y'\n", "f");
  EXPECT_EQ(v["A"], "1");
  EXPECT_EQ(v["B"], "two words");
  EXPECT_EQ(v["C"], "x=y");
}

}  // namespace
}  // namespace portcullis
