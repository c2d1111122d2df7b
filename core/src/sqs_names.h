// Queue names, URLs and ARNs: how a queue is identified on the wire and in
// the store. The store key of a queue is its ARN, which scopes it by account
// and region.
//
// Thread safety: pure functions.
// Errors: parsers return false on malformed input.
#ifndef FERRY_CORE_SRC_SQS_NAMES_H_
#define FERRY_CORE_SRC_SQS_NAMES_H_

#include <string>
#include <string_view>

namespace ferry::internal {

struct QueueName {
  std::string account;
  std::string region;
  std::string name;
};

// arn:aws:sqs:<region>:<account>:<name>
std::string QueueArn(std::string_view region, std::string_view account,
                     std::string_view name);
// The ARN prefix shared by every queue of (region, account).
std::string QueueArnPrefix(std::string_view region, std::string_view account);
bool ParseQueueArn(std::string_view arn, QueueName* out);

// <endpoint>/<account>/<name>; an empty endpoint gives
// https://sqs.<region>.amazonaws.com.
std::string QueueUrl(std::string_view endpoint, std::string_view region,
                     std::string_view account, std::string_view name);
// Takes the account and name from the last two path segments, so URLs of any
// host work (AWS's, the legacy <region>.queue.amazonaws.com, localhost).
bool ParseQueueUrl(std::string_view url, std::string* account,
                   std::string* name);

// 1-80 characters of [A-Za-z0-9_-]; FIFO names end in ".fifo" (counted).
bool IsValidQueueName(std::string_view name, bool fifo);

}  // namespace ferry::internal

#endif  // FERRY_CORE_SRC_SQS_NAMES_H_
