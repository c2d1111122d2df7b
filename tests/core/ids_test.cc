#include "ferry/ids.h"

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "ferry/testing/sequential_ids.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry {
namespace {

using ::testing::MatchesRegex;

TEST(UuidTest, PrintsEightFourFourFourTwelve) {
  Uuid id{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  EXPECT_EQ(id.ToString(), "01234567-89ab-cdef-fedc-ba9876543210");
  EXPECT_EQ(Uuid{}.ToString(), "00000000-0000-0000-0000-000000000000");
}

TEST(UuidTest, ParseRoundTrips) {
  Uuid id{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  Uuid parsed;
  ASSERT_TRUE(Uuid::Parse(id.ToString(), &parsed));
  EXPECT_EQ(parsed, id);
}

TEST(UuidTest, ParseRejectsOtherForms) {
  Uuid out;
  for (const char* bad : {
           "",
           "0123456789abcdeffedcba9876543210",
           "01234567-89ab-cdef-fedc-ba987654321",
           "01234567-89ab-cdef-fedc-ba98765432100",
           "01234567_89ab-cdef-fedc-ba9876543210",
           "01234567-89ab-cdef-fedc-ba987654321g",
           "01234567-89AB-cdef-fedc-ba9876543210",
           "{1234567-89ab-cdef-fedc-ba9876543210",
           "0123456-789ab-cdef-fedc-ba9876543210",
       }) {
    EXPECT_FALSE(Uuid::Parse(bad, &out)) << bad;
  }
}

TEST(RandomIdSourceTest, IdsAreVersion4AndDistinct) {
  IdSource& ids = IdSource::Random();
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    Uuid id = ids.NewId();
    std::string text = id.ToString();
    ASSERT_THAT(text, MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
                                   "[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
    ASSERT_TRUE(seen.insert(text).second) << text;
  }
}

TEST(RandomIdSourceTest, ThreadsDrawDistinctIds) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::vector<Uuid>> drawn(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        drawn[t].push_back(IdSource::Random().NewId());
        (void)IdSource::Random().NewRandom();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<std::pair<uint64_t, uint64_t>> all;
  for (const auto& v : drawn) {
    for (const Uuid& id : v) all.insert({id.hi, id.lo});
  }
  EXPECT_EQ(all.size(), size_t{kThreads * kPerThread});
}

TEST(RandomIdSourceTest, NewRandomVaries) {
  IdSource& ids = IdSource::Random();
  std::set<uint64_t> values;
  for (int i = 0; i < 100; ++i) values.insert(ids.NewRandom());
  EXPECT_EQ(values.size(), 100u);
}

TEST(SequentialIdSourceTest, CountsFromOne) {
  ferry_testing::SequentialIdSource ids;
  EXPECT_EQ(ids.NewId().ToString(), "00000000-0000-4000-8000-000000000001");
  EXPECT_EQ(ids.NewId().ToString(), "00000000-0000-4000-8000-000000000002");
  for (int i = 3; i < 16; ++i) (void)ids.NewId();
  EXPECT_EQ(ids.NewId().ToString(), "00000000-0000-4000-8000-000000000010");
}

TEST(SequentialIdSourceTest, StartsWhereAsked) {
  ferry_testing::SequentialIdSource ids(0xabc);
  EXPECT_EQ(ids.NewId().ToString(), "00000000-0000-4000-8000-000000000abc");
}

TEST(SequentialIdSourceTest, RandomSequenceIsTheSameEveryRun) {
  ferry_testing::SequentialIdSource a;
  ferry_testing::SequentialIdSource b;
  std::set<uint64_t> values;
  for (int i = 0; i < 100; ++i) {
    uint64_t v = a.NewRandom();
    EXPECT_EQ(v, b.NewRandom());
    values.insert(v);
  }
  EXPECT_EQ(values.size(), 100u);
}

}  // namespace
}  // namespace ferry
