// Input: signature and constexpr text from the CLI or the Python binder. Output: a Signature;
// every malformed item yields an error message naming it, never an exception.
#include "tilec/signature.h"

#include <cerrno>
#include <cstdlib>

namespace tilec {

namespace {

// The name triton.language / tilec.language give the dtype (tl.float16, not tl.fp16).
const char* dtype_python_name(DType t) {
  switch (t) {
    case DType::I1: return "int1";
    case DType::I8: return "int8";
    case DType::I16: return "int16";
    case DType::I32: return "int32";
    case DType::I64: return "int64";
    case DType::U8: return "uint8";
    case DType::U16: return "uint16";
    case DType::U32: return "uint32";
    case DType::U64: return "uint64";
    case DType::F8E5: return "float8e5";
    case DType::F8E4: return "float8e4nv";
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
    case DType::F32: return "float32";
    case DType::F64: return "float64";
  }
  return "?";
}

}  // namespace

std::string ConstValue::str() const {
  switch (kind) {
    case Kind::Int: return std::to_string(i);
    case Kind::Float: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", f);
      std::string s = buf;
      if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
      return s;
    }
    case Kind::Bool: return b ? "True" : "False";
    case Kind::None: return "None";
    case Kind::Str: return "'" + s + "'";
    case Kind::DType: return std::string("tl.") + dtype_python_name(dtype);
  }
  return "?";
}

const ArgSpec* Signature::find(const std::string& name) const {
  for (const ArgSpec& a : args)
    if (a.name == name) return &a;
  return nullptr;
}

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  return out;
}

std::optional<ConstValue> parse_const(const std::string& text) {
  if (text == "True") return ConstValue::of_bool(true);
  if (text == "False") return ConstValue::of_bool(false);
  if (text == "None") return ConstValue{};
  if (text.size() >= 2 && (text[0] == '\'' || text[0] == '"') && text.back() == text[0])
    return ConstValue::of_str(text.substr(1, text.size() - 2));
  std::string dt = text.rfind("tl.", 0) == 0 ? text.substr(3) : text;
  if (auto t = dtype_from_name(dt)) return ConstValue::of_dtype(*t);
  if (text.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long iv = std::strtoll(text.c_str(), &end, 0);
  if (errno == 0 && *end == '\0') return ConstValue::of_int(iv);
  errno = 0;
  double fv = std::strtod(text.c_str(), &end);
  if (errno == 0 && *end == '\0') return ConstValue::of_float(fv);
  return std::nullopt;
}

// Splits at `sep` outside <...> and [...], so a tensordesc<fp16[64,64]> item stays whole.
std::vector<std::string> split_top(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  int depth = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && (s[i] == '<' || s[i] == '[')) ++depth;
    if (i < s.size() && (s[i] == '>' || s[i] == ']')) --depth;
    if (i == s.size() || (s[i] == sep && depth == 0)) {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  return out;
}

// `tensordesc<DTYPE[B0,...]>` or `tensordesc<DTYPE[B0,...],nan>` into `a`; an error names the item.
bool parse_descriptor_type(const std::string& ty, ArgSpec* a, std::string* error) {
  const std::string head = "tensordesc<";
  size_t open = ty.find('['), close = ty.find(']');
  auto bad = [&](const std::string& why) {
    *error = "descriptor type '" + ty + "' for argument '" + a->name + "' " + why +
             " (write tensordesc<fp16[64,64]> or tensordesc<fp32[64,64],nan>)";
    return false;
  };
  if (ty.back() != '>' || open == std::string::npos || close == std::string::npos || close < open) return bad("is malformed");
  auto dt = dtype_from_name(trim(ty.substr(head.size(), open - head.size())));
  if (!dt) return bad("has an unknown dtype");
  for (const std::string& d : split(ty.substr(open + 1, close - open - 1), ',')) {
    char* end = nullptr;
    long long v = std::strtoll(d.c_str(), &end, 10);
    if (d.empty() || *end != '\0' || v <= 0 || (v & (v - 1))) return bad("has a block dim '" + d + "' that is not a power of two");
    a->block.push_back(v);
  }
  if (a->block.empty() || a->block.size() > 5) return bad("needs 1 to 5 block dims");
  std::string rest = trim(ty.substr(close + 1, ty.size() - close - 2));
  if (rest == ",nan" || rest == ", nan") a->nan_padding = true;
  else if (!rest.empty()) return bad("has '" + rest + "' after the block shape");
  a->kind = ArgKind::Descriptor;
  a->dtype = *dt;
  return true;
}

}  // namespace

std::optional<Signature> parse_signature(const std::string& text, const std::vector<std::string>& constexprs,
                                         std::string* error) {
  Signature sig;
  auto seen = [&](const std::string& name) {
    if (!sig.find(name)) return false;
    *error = "argument '" + name + "' is given twice";
    return true;
  };
  if (!trim(text).empty()) {
    for (const std::string& item : split_top(text, ',')) {
      std::vector<std::string> parts = split(item, ':');
      if (parts.size() < 2 || parts.size() > 3 || parts[0].empty()) {
        *error = "signature item '" + item + "' is not NAME:TYPE or NAME:TYPE:16";
        return std::nullopt;
      }
      ArgSpec a;
      a.name = parts[0];
      std::string ty = parts[1];
      if (ty.rfind("tensordesc<", 0) == 0) {
        if (!parse_descriptor_type(ty, &a, error)) return std::nullopt;
      } else if (!ty.empty() && ty[0] == '*') {
        a.kind = ArgKind::Pointer;
        ty = ty.substr(1);
      }
      auto dt = dtype_from_name(ty);
      if (a.kind != ArgKind::Descriptor && !dt) {
        *error = "unknown type '" + parts[1] + "' for argument '" + a.name +
                 "' (use *fp32 for pointers, tensordesc<fp32[64,64]> for descriptors; scalars: i1 i8 i16 i32 i64 u8 u16 "
                 "u32 u64 fp16 bf16 fp32 fp64)";
        return std::nullopt;
      }
      if (dt) a.dtype = *dt;
      if (parts.size() == 3) {
        if (parts[2] != "16" && parts[2] != "1") {
          *error = "specialization '" + parts[2] + "' for argument '" + a.name + "' must be 16 (divisible/aligned) or 1";
          return std::nullopt;
        }
        a.divisibility = std::stoi(parts[2]);
      }
      if (seen(a.name)) return std::nullopt;
      sig.args.push_back(a);
    }
  }
  for (const std::string& item : constexprs) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || trim(item.substr(0, eq)).empty()) {
      *error = "constexpr '" + item + "' is not NAME=VALUE";
      return std::nullopt;
    }
    ArgSpec a;
    a.name = trim(item.substr(0, eq));
    a.kind = ArgKind::Constexpr;
    auto v = parse_const(trim(item.substr(eq + 1)));
    if (!v) {
      *error = "constexpr value '" + item.substr(eq + 1) + "' for '" + a.name +
               "' is not an int, float, True/False/None, dtype or quoted string";
      return std::nullopt;
    }
    a.value = *v;
    if (seen(a.name)) return std::nullopt;
    sig.args.push_back(a);
  }
  return sig;
}

std::string signature_str(const Signature& sig) {
  std::string out;
  for (const ArgSpec& a : sig.args) {
    if (!out.empty()) out += ",";
    switch (a.kind) {
      case ArgKind::Pointer: out += a.name + ":*" + dtype_name(a.dtype); break;
      case ArgKind::Scalar: out += a.name + ":" + dtype_name(a.dtype); break;
      case ArgKind::Constexpr: out += a.name + "=" + a.value.str(); continue;
      case ArgKind::Descriptor: {
        std::string dims;
        for (int64_t d : a.block) dims += (dims.empty() ? "" : ",") + std::to_string(d);
        out += a.name + ":tensordesc<" + dtype_name(a.dtype) + "[" + dims + "]" + (a.nan_padding ? ",nan" : "") + ">";
        break;
      }
    }
    if (a.divisibility > 1) out += ":" + std::to_string(a.divisibility);
  }
  return out;
}

}  // namespace tilec
