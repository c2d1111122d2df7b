#include "cbor.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

namespace ferry::gateway_internal {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

constexpr int kMaxDepth = 64;

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  bool AtEnd() const { return pos_ == in_.size(); }

  // Decodes one item into `*out`. `break_ok`: a break byte (0xFF) is allowed
  // here (inside an indefinite-length container) and sets `*is_break`.
  bool Item(Json* out, int depth, bool break_ok = false,
            bool* is_break = nullptr) {
    if (depth > kMaxDepth || pos_ >= in_.size()) return false;
    const uint8_t initial = Byte();
    const int major = initial >> 5;
    const int info = initial & 0x1F;
    if (initial == 0xFF) {
      if (!break_ok) return false;
      *is_break = true;
      return true;
    }
    if (major == 7) return Simple(info, out);
    uint64_t arg = 0;
    const bool indefinite = info == 31;
    if (indefinite) {
      if (major == 0 || major == 1 || major == 6) return false;
    } else if (!Argument(info, &arg)) {
      return false;
    }
    switch (major) {
      case 0:
        *out = arg;
        return true;
      case 1:
        if (arg > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return false;
        }
        *out = -1 - static_cast<int64_t>(arg);
        return true;
      case 2:
      case 3: {
        std::string s;
        if (indefinite) {
          if (!Chunks(major, &s, depth)) return false;
        } else if (!Bytes(arg, &s)) {
          return false;
        }
        if (major == 2) {
          *out = Json::binary(std::vector<uint8_t>(s.begin(), s.end()));
        } else {
          *out = std::move(s);
        }
        return true;
      }
      case 4: {
        *out = Json::array();
        // Each item takes at least one byte.
        if (!indefinite && arg > in_.size() - pos_) return false;
        for (uint64_t i = 0; indefinite || i < arg; ++i) {
          Json v;
          bool brk = false;
          if (!Item(&v, depth + 1, indefinite, &brk)) return false;
          if (brk) break;
          out->push_back(std::move(v));
        }
        return true;
      }
      case 5: {
        *out = Json::object();
        if (!indefinite && arg > in_.size() - pos_) return false;
        for (uint64_t i = 0; indefinite || i < arg; ++i) {
          Json key;
          bool brk = false;
          if (!Item(&key, depth + 1, indefinite, &brk)) return false;
          if (brk) break;
          if (!key.is_string()) return false;
          Json v;
          if (!Item(&v, depth + 1)) return false;
          (*out)[key.get<std::string>()] = std::move(v);
        }
        return true;
      }
      case 6: {
        Json v;
        if (!Item(&v, depth + 1)) return false;
        if (arg == 1 && v.is_number_integer()) {
          // Java's epoch milliseconds.
          *out = static_cast<double>(v.get<int64_t>()) / 1000.0;
        } else if (arg == 1 && v.is_number_unsigned()) {
          *out = static_cast<double>(v.get<uint64_t>()) / 1000.0;
        } else {
          *out = std::move(v);
        }
        return true;
      }
    }
    return false;
  }

 private:
  uint8_t Byte() { return static_cast<uint8_t>(in_[pos_++]); }

  bool Argument(int info, uint64_t* arg) {
    if (info < 24) {
      *arg = static_cast<uint64_t>(info);
      return true;
    }
    int n = info == 24   ? 1
            : info == 25 ? 2
            : info == 26 ? 4
            : info == 27 ? 8
                         : 0;
    if (n == 0 || in_.size() - pos_ < static_cast<size_t>(n)) return false;
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | Byte();
    *arg = v;
    return true;
  }

  bool Bytes(uint64_t n, std::string* out) {
    if (n > in_.size() - pos_) return false;
    out->append(in_.data() + pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }

  // An indefinite-length string: definite chunks of the same major type up
  // to a break.
  bool Chunks(int major, std::string* out, int depth) {
    for (;;) {
      if (pos_ >= in_.size()) return false;
      const uint8_t b = Byte();
      if (b == 0xFF) return true;
      uint64_t n = 0;
      if ((b >> 5) != major || (b & 0x1F) == 31 || !Argument(b & 0x1F, &n) ||
          !Bytes(n, out)) {
        return false;
      }
    }
  }

  bool Simple(int info, Json* out) {
    switch (info) {
      case 20:
        *out = false;
        return true;
      case 21:
        *out = true;
        return true;
      case 22:
      case 23:
        *out = nullptr;
        return true;
      case 25: {
        uint64_t h = 0;
        if (!Argument(25, &h)) return false;
        *out = HalfToDouble(static_cast<uint16_t>(h));
        return true;
      }
      case 26: {
        uint64_t bits = 0;
        if (!Argument(26, &bits)) return false;
        float f;
        const uint32_t b32 = static_cast<uint32_t>(bits);
        std::memcpy(&f, &b32, sizeof f);
        *out = static_cast<double>(f);
        return true;
      }
      case 27: {
        uint64_t bits = 0;
        if (!Argument(27, &bits)) return false;
        double d;
        std::memcpy(&d, &bits, sizeof d);
        *out = d;
        return true;
      }
      default:
        // Unassigned simple values (0..19, 24 with a byte): null.
        if (info < 20) {
          *out = nullptr;
          return true;
        }
        if (info == 24 && pos_ < in_.size()) {
          ++pos_;
          *out = nullptr;
          return true;
        }
        return false;
    }
  }

  static double HalfToDouble(uint16_t h) {
    const int exp = (h >> 10) & 0x1F;
    const int mant = h & 0x3FF;
    double v;
    if (exp == 0) {
      v = std::ldexp(mant, -24);
    } else if (exp != 31) {
      v = std::ldexp(mant + 1024, exp - 25);
    } else {
      v = mant == 0 ? std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::quiet_NaN();
    }
    return (h & 0x8000) ? -v : v;
  }

  std::string_view in_;
  size_t pos_ = 0;
};

void Head(int major, uint64_t arg, std::string* out) {
  const char m = static_cast<char>(major << 5);
  if (arg < 24) {
    out->push_back(static_cast<char>(m | static_cast<char>(arg)));
    return;
  }
  int n;
  if (arg <= 0xFF) {
    out->push_back(static_cast<char>(m | 24));
    n = 1;
  } else if (arg <= 0xFFFF) {
    out->push_back(static_cast<char>(m | 25));
    n = 2;
  } else if (arg <= 0xFFFFFFFFu) {
    out->push_back(static_cast<char>(m | 26));
    n = 4;
  } else {
    out->push_back(static_cast<char>(m | 27));
    n = 8;
  }
  for (int i = n - 1; i >= 0; --i) {
    out->push_back(static_cast<char>((arg >> (8 * i)) & 0xFF));
  }
}

void Int(int64_t v, std::string* out) {
  if (v >= 0) {
    Head(0, static_cast<uint64_t>(v), out);
  } else {
    Head(1, static_cast<uint64_t>(-1 - v), out);
  }
}

void Encode(const OJson& v, std::string* out) {
  switch (v.type()) {
    case OJson::value_t::null:
    case OJson::value_t::discarded:
      out->push_back(static_cast<char>(0xF6));
      return;
    case OJson::value_t::boolean:
      out->push_back(static_cast<char>(v.get<bool>() ? 0xF5 : 0xF4));
      return;
    case OJson::value_t::number_integer:
      Int(v.get<int64_t>(), out);
      return;
    case OJson::value_t::number_unsigned:
      Head(0, v.get<uint64_t>(), out);
      return;
    case OJson::value_t::number_float: {
      out->push_back(static_cast<char>(0xC1));  // tag 1
      const double ms = std::round(v.get<double>() * 1000.0);
      Int(std::isfinite(ms) ? static_cast<int64_t>(ms) : 0, out);
      return;
    }
    case OJson::value_t::string: {
      const std::string& s = v.get_ref<const std::string&>();
      Head(3, s.size(), out);
      out->append(s);
      return;
    }
    case OJson::value_t::binary: {
      const auto& b = v.get_binary();
      Head(2, b.size(), out);
      out->append(reinterpret_cast<const char*>(b.data()), b.size());
      return;
    }
    case OJson::value_t::array:
      Head(4, v.size(), out);
      for (const OJson& e : v) Encode(e, out);
      return;
    case OJson::value_t::object:
      Head(5, v.size(), out);
      for (auto it = v.begin(); it != v.end(); ++it) {
        Head(3, it.key().size(), out);
        out->append(it.key());
        Encode(it.value(), out);
      }
      return;
  }
}

}  // namespace

std::optional<nlohmann::json> DecodeCbor(std::string_view bytes) {
  Decoder d(bytes);
  Json out;
  if (!d.Item(&out, 0) || !d.AtEnd()) return std::nullopt;
  return out;
}

std::string EncodeCbor(const nlohmann::ordered_json& value) {
  std::string out;
  Encode(value, &out);
  return out;
}

}  // namespace ferry::gateway_internal
