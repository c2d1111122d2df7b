#include "ferry/executor.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "ferry/testing/manual_executor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry {
namespace {

using ::testing::ElementsAre;

TEST(InlineExecutorTest, RunsAtOnceOnTheCallingThread) {
  std::thread::id ran_on;
  bool ran = false;
  InlineExecutor().Schedule([&] {
    ran = true;
    ran_on = std::this_thread::get_id();
  });
  EXPECT_TRUE(ran);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(InlineExecutorTest, AcceptsMoveOnlyFunctions) {
  auto value = std::make_unique<int>(7);
  int seen = 0;
  InlineExecutor().Schedule([v = std::move(value), &seen]() { seen = *v; });
  EXPECT_EQ(seen, 7);
}

TEST(ManualExecutorTest, RunsNothingUntilAsked) {
  ferry_testing::ManualExecutor executor;
  std::vector<int> order;
  executor.Schedule([&] { order.push_back(1); });
  executor.Schedule([&] { order.push_back(2); });
  EXPECT_EQ(executor.Pending(), 2u);
  EXPECT_TRUE(order.empty());
  EXPECT_EQ(executor.RunAll(), 2u);
  EXPECT_THAT(order, ElementsAre(1, 2));
  EXPECT_EQ(executor.Pending(), 0u);
  EXPECT_EQ(executor.RunAll(), 0u);
}

TEST(ManualExecutorTest, RunAllIncludesFunctionsScheduledWhileRunning) {
  ferry_testing::ManualExecutor executor;
  std::vector<int> order;
  executor.Schedule([&] {
    order.push_back(1);
    executor.Schedule([&] { order.push_back(3); });
  });
  executor.Schedule([&] { order.push_back(2); });
  EXPECT_EQ(executor.RunAll(), 3u);
  EXPECT_THAT(order, ElementsAre(1, 2, 3));
}

TEST(ManualExecutorTest, RunOneRunsTheOldest) {
  ferry_testing::ManualExecutor executor;
  std::vector<int> order;
  EXPECT_FALSE(executor.RunOne());
  executor.Schedule([&] { order.push_back(1); });
  executor.Schedule([&] { order.push_back(2); });
  EXPECT_TRUE(executor.RunOne());
  EXPECT_THAT(order, ElementsAre(1));
  EXPECT_EQ(executor.Pending(), 1u);
}

TEST(ManualExecutorTest, UnrunFunctionsAreDestroyedWithTheExecutor) {
  auto token = std::make_shared<int>(0);
  {
    ferry_testing::ManualExecutor executor;
    executor.Schedule([t = token] { ++*t; });
    EXPECT_EQ(token.use_count(), 2);
  }
  EXPECT_EQ(token.use_count(), 1);
  EXPECT_EQ(*token, 0);
}

TEST(ManualExecutorTest, ScheduleFromManyThreads) {
  ferry_testing::ManualExecutor executor;
  std::atomic<int> runs{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) executor.Schedule([&] { ++runs; });
    });
  }
  size_t ran = 0;
  // Drain concurrently with the producers, then once more after them.
  for (int i = 0; i < 100; ++i) ran += executor.RunAll();
  for (std::thread& t : threads) t.join();
  ran += executor.RunAll();
  EXPECT_EQ(ran, 4000u);
  EXPECT_EQ(runs.load(), 4000);
}

}  // namespace
}  // namespace ferry
