#include "queue_base.h"

#include <string>
#include <string_view>
#include <utility>

namespace ferry::memory_internal {

size_t EstimateBytes(const StoredMessage& m) {
  // The slot plus the message's own heap blocks (a few words of allocator
  // overhead each).
  constexpr size_t kPerAttribute = 96;
  size_t n = sizeof(Slot) + m.body.size() + m.message_group_id.size() +
             m.deduplication_id.size() + m.trace_header.size() +
             m.sender_id.size() + m.dead_letter_source_arn.size();
  for (const auto& [name, value] : m.attributes) {
    n += kPerAttribute + name.size() + value.data_type.size() +
         value.string_value.size() + value.binary_value.size();
  }
  return n;
}

const DedupTable::Record* DedupTable::Find(std::string_view key,
                                           absl::Time now) {
  while (!order_.empty() && order_.front().first <= now) {
    auto it = records_.find(order_.front().second);
    if (it != records_.end() && it->second.expires <= now) records_.erase(it);
    order_.pop_front();
  }
  auto it = records_.find(AsAbsl(key));
  if (it == records_.end() || it->second.expires <= now) return nullptr;
  return &it->second;
}

void DedupTable::Insert(std::string key, const Record& record) {
  order_.emplace_back(record.expires, key);
  records_.insert_or_assign(std::move(key), record);
}

}  // namespace ferry::memory_internal
