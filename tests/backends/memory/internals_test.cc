// The memory backend's private building blocks: the receipt codec and the
// timing wheel (checked against a brute-force model).

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "receipt.h"
#include "slab.h"
#include "timer_wheel.h"

namespace ferry::memory_internal {
namespace {

// ---- Receipts --------------------------------------------------------------

TEST(ReceiptTest, RoundTripsShortForm) {
  for (const ReceiptFields f :
       {ReceiptFields{1, 0, 0}, ReceiptFields{1, 7, 2},
        ReceiptFields{(1u << 20) - 1, (1u << 26) - 1, ~0u}}) {
    const std::string text = EncodeReceipt(f);
    EXPECT_EQ(text.size(), kShortReceiptSize);
    ReceiptFields back;
    ASSERT_TRUE(DecodeReceipt(text, &back)) << text;
    EXPECT_EQ(back.queue, f.queue);
    EXPECT_EQ(back.slot, f.slot);
    EXPECT_EQ(back.stamp, f.stamp);
  }
}

TEST(ReceiptTest, RoundTripsLongForm) {
  for (const ReceiptFields f :
       {ReceiptFields{1u << 20, 0, 5}, ReceiptFields{3, 1u << 26, 9},
        ReceiptFields{(uint64_t{1} << 40) - 1, (uint64_t{1} << 40) - 1, ~0u}}) {
    const std::string text = EncodeReceipt(f);
    EXPECT_EQ(text.size(), kLongReceiptSize);
    ReceiptFields back;
    ASSERT_TRUE(DecodeReceipt(text, &back)) << text;
    EXPECT_EQ(back.queue, f.queue);
    EXPECT_EQ(back.slot, f.slot);
    EXPECT_EQ(back.stamp, f.stamp);
  }
}

TEST(ReceiptTest, PrintableAndStable) {
  const std::string text = EncodeReceipt({42, 1000, 77});
  EXPECT_EQ(text, EncodeReceipt({42, 1000, 77}));
  for (char c : text) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                c == '_')
        << c;
  }
}

TEST(ReceiptTest, RejectsDamage) {
  ReceiptFields f;
  EXPECT_FALSE(DecodeReceipt("", &f));
  EXPECT_FALSE(DecodeReceipt("garbage", &f));
  EXPECT_FALSE(DecodeReceipt("AAAAAAAAAAAAAA=", &f));
  const std::string text = EncodeReceipt({42, 1000, 77});
  EXPECT_FALSE(DecodeReceipt(text.substr(0, 14), &f));
  EXPECT_FALSE(DecodeReceipt(text + "A", &f));
  // Random strings of the right length are rejected by the check bits.
  std::mt19937_64 rng(7);
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
  int accepted = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string s(i % 2 == 0 ? kShortReceiptSize : kLongReceiptSize, 'A');
    for (char& c : s) c = alphabet[rng() % 64];
    if (DecodeReceipt(s, &f)) ++accepted;
  }
  // Short: 1/4096 pass; long: 1/16 (top bits) * 1/65536.
  EXPECT_LT(accepted, 30);
}

// ---- Timing wheel ----------------------------------------------------------

class TimerWheelTest : public ::testing::Test {
 protected:
  // Allocates a slot due at `deadline` and arms it.
  uint32_t Add(int64_t deadline, int64_t now) {
    const uint32_t i = slab_.Allocate();
    slab_[i].deadline = deadline;
    slab_[i].state = SlotState::kInFlight;
    wheel_.Insert(slab_, i, now);
    model_.insert({deadline, i});
    return i;
  }
  void Cancel(uint32_t i) {
    wheel_.Remove(slab_, i);
    model_.erase({slab_[i].deadline, i});
    slab_.Free(i);
  }
  // Advances both and compares what expired.
  void AdvanceAndCheck(int64_t now) {
    std::set<uint32_t> got;
    wheel_.Advance(slab_, now, [&](uint32_t i) {
      EXPECT_LE(slab_[i].deadline, now);
      EXPECT_TRUE(got.insert(i).second);
    });
    std::set<uint32_t> want;
    while (!model_.empty() && model_.begin()->first <= now) {
      want.insert(model_.begin()->second);
      model_.erase(model_.begin());
    }
    ASSERT_EQ(got, want) << "at " << now;
    for (uint32_t i : got) slab_.Free(i);
    ASSERT_EQ(wheel_.size(), model_.size());
    const int64_t next = model_.empty() ? kNever : model_.begin()->first;
    ASSERT_EQ(wheel_.NextDeadline(slab_), next);
  }

  Slab slab_;
  TimerWheel wheel_;
  std::set<std::pair<int64_t, uint32_t>> model_;
};

TEST_F(TimerWheelTest, ExactAtTheNanosecond) {
  const int64_t t0 = int64_t{1767225600} * 1000000000;
  Add(t0 + 1000, t0);
  Add(t0 + 1000, t0);
  Add(t0 + 1001, t0);
  AdvanceAndCheck(t0 + 999);
  AdvanceAndCheck(t0 + 1000);
  AdvanceAndCheck(t0 + 1000);
  AdvanceAndCheck(t0 + 1001);
  EXPECT_EQ(wheel_.size(), 0u);
}

TEST_F(TimerWheelTest, PastDeadlinesAndTimeGoingBack) {
  const int64_t t0 = int64_t{1767225600} * 1000000000;
  AdvanceAndCheck(t0);
  Add(t0 + 5'000'000'000, t0);
  AdvanceAndCheck(t0 + 1'000'000'000);
  Add(t0 - 3'000'000'000, t0 + 1'000'000'000);  // already due
  Add(t0 + 2'000'000'000, t0 + 1'000'000'000);
  AdvanceAndCheck(t0);  // an earlier now (another thread's clock read)
  AdvanceAndCheck(t0 + 2'000'000'000);
  AdvanceAndCheck(t0 + 10'000'000'000);
}

TEST_F(TimerWheelTest, NegativeAndHugeTimes) {
  Add(-5'000'000'000, -10'000'000'000);
  Add(0, -10'000'000'000);
  Add(int64_t{1} << 61, -10'000'000'000);
  AdvanceAndCheck(-6'000'000'000);
  AdvanceAndCheck(-5'000'000'000);
  AdvanceAndCheck(0);
  AdvanceAndCheck((int64_t{1} << 61) - 1);
  AdvanceAndCheck(int64_t{1} << 61);
}

// Random deadlines spread over every level (ns to months) against the model,
// with random cancels, small steps and big jumps.
TEST_F(TimerWheelTest, MatchesBruteForce) {
  std::mt19937_64 rng(12345);
  int64_t now = int64_t{1767225600} * 1000000000;
  std::vector<uint32_t> live;
  const int64_t spans[] = {1000,
                           1'000'000,
                           300'000'000,
                           20'000'000'000,
                           3'600'000'000'000,
                           40LL * 86'400'000'000'000,
                           400LL * 86'400'000'000'000};
  for (int round = 0; round < 4000; ++round) {
    const int adds = static_cast<int>(rng() % 8);
    for (int k = 0; k < adds; ++k) {
      const int64_t span = spans[rng() % std::size(spans)];
      live.push_back(Add(now + static_cast<int64_t>(rng() % span), now));
    }
    if (!live.empty() && rng() % 3 == 0) {
      const size_t pick = rng() % live.size();
      const uint32_t i = live[pick];
      live[pick] = live.back();
      live.pop_back();
      Cancel(i);
    }
    // Steps leave out the longest span: 4000 steps of up to 400 days would
    // carry `now` past the int64 range of nanoseconds.
    const int64_t step = spans[rng() % (std::size(spans) - 1)];
    now += static_cast<int64_t>(rng() % step);
    AdvanceAndCheck(now);
    // Expired slots were freed; forget them.
    std::erase_if(live,
                  [&](uint32_t i) { return slab_[i].bucket == kNoBucket; });
  }
}

}  // namespace
}  // namespace ferry::memory_internal
