// The e-mail change's pure parts (app/auth/email_change.h): how a notice
// shows the new address, and which outbox rows the deliverer resolves there.
#include "app/auth/email_change.h"

#include <gtest/gtest.h>

namespace portcullis::email_change {
namespace {

TEST(EmailChangeTest, MaskKeepsTheFirstCharacterAndTheDomainOnly) {
  EXPECT_EQ(mask_email("alice.smith@example.com"), "a***@example.com");
  EXPECT_EQ(mask_email("b@example.org"), "b***@example.org");
  EXPECT_EQ(mask_email("@example.org"), "***@example.org");
  EXPECT_EQ(mask_email("no-at-sign"), "***");
  EXPECT_EQ(mask_email("odd@local@example.net"), "o***@example.net");
}

TEST(EmailChangeTest, ResolvesItsThreeRowKindsAndNoOther) {
  EXPECT_TRUE(resolves(kRequestKind));
  EXPECT_TRUE(resolves(kNoticeRequestKind));
  EXPECT_TRUE(resolves(kCompletedRequestKind));
  for (const char* kind : {"password_reset_request", "password_changed", "email_change_confirm",
                           "email_change_requested", "email_change_reverted_owner", ""}) {
    EXPECT_FALSE(resolves(kind)) << kind;
  }
}

}  // namespace
}  // namespace portcullis::email_change
