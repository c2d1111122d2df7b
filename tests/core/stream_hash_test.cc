// The partition-key MD5 of Kinesis routing: the batched eight-lane MD5
// (PartitionKeyHashes) agrees with OpenSSL's MD5 for every key length and
// batch size, including keys too long for one block.
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "stream_engine.h"

namespace ferry::internal {
namespace {

TEST(PartitionKeyHashTest, KnownVectors) {
  // md5("") = d41d8cd98f00b204e9800998ecf8427e
  EXPECT_EQ(U128ToDecimal(PartitionKeyHash("")),
            U128ToDecimal((static_cast<u128>(0xd41d8cd98f00b204ULL) << 64) |
                          0xe9800998ecf8427eULL));
  // md5("message") = 78e731027d8fd50ed642340b7c9a63b3
  std::vector<std::string_view> keys = {"message", ""};
  std::vector<u128> out(keys.size());
  PartitionKeyHashes(keys, out);
  EXPECT_EQ(out[0], (static_cast<u128>(0x78e731027d8fd50eULL) << 64) |
                        0xd642340b7c9a63b3ULL);
  EXPECT_EQ(out[1], PartitionKeyHash(""));
}

TEST(PartitionKeyHashTest, BatchesAgreeWithOneAtATime) {
  std::vector<std::string> storage;
  for (int len = 0; len <= 130; ++len) {
    std::string k;
    for (int i = 0; i < len; ++i) {
      k.push_back(static_cast<char>((len * 31 + i * 7) & 0xff));
    }
    storage.push_back(k);
  }
  for (size_t batch = 1; batch <= 20; ++batch) {
    for (size_t start = 0; start + batch <= storage.size(); start += batch) {
      std::vector<std::string_view> keys(storage.begin() + start,
                                         storage.begin() + start + batch);
      std::vector<u128> out(keys.size());
      PartitionKeyHashes(keys, out);
      for (size_t i = 0; i < keys.size(); ++i) {
        ASSERT_EQ(out[i], PartitionKeyHash(keys[i]))
            << "key length " << keys[i].size() << " batch " << batch;
      }
    }
  }
}

}  // namespace
}  // namespace ferry::internal
