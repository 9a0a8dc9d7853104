// Input: none (definitions). Output: CppGen, the C++ printer of tile IR for the CPU backend, shared by the
// files that implement it (cpp.cpp, cpp_ops.cpp, cpp_reduce.cpp, cpp_dot.cpp); private to codegen/.
#pragma once
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "tilec/codegen/axis_info.h"
#include "tilec/codegen/cpp.h"
#include "tilec/codegen/device_print.h"
#include "tilec/libdevice.h"

namespace tilec::cpp_gen {

inline const char* ctype(DType t) {
  switch (t) {
    case DType::I1: return "uint8_t";
    case DType::I8: return "int8_t";
    case DType::I16: return "int16_t";
    case DType::I32: return "int32_t";
    case DType::I64: return "int64_t";
    case DType::U8: return "uint8_t";
    case DType::U16: return "uint16_t";
    case DType::U32: return "uint32_t";
    case DType::U64: return "uint64_t";
    case DType::F8E5: return "tilec_rt::fp8e5";
    case DType::F8E4: return "tilec_rt::fp8e4nv";
    case DType::F16: return "tilec_rt::fp16";
    case DType::BF16: return "tilec_rt::bf16";
    case DType::F32: return "float";
    case DType::F64: return "double";
  }
  return "void";
}

inline std::string elem_ctype(const Type& t) { return t.is_ptr ? std::string(ctype(t.dtype)) + "*" : ctype(t.dtype); }

// Types with a Vec specialization (others use the scalar loops, which the compiler may vectorize).
inline bool vectorizable(DType t) { return t == DType::F32 || t == DType::F64 || t == DType::I32 || t == DType::I64; }

// How a tile value is held: a real array, one scalar for every element (splat, constant),
// start + flat index (arange), so that the common index math needs no storage, or Lazy: an
// elementwise expression not yet evaluated, which its consumer's loop computes in registers
// (fusion), so that a chain of elementwise ops is one pass and its intermediates never touch memory.
enum class Kind { Scalar, Array, Uniform, Iota, Lazy };

// Along the last dim: the value does not change (Uniform) or grows by one per element (Contig).
enum class Affine { None, Uniform, Contig };

struct Info {
  Kind kind = Kind::Scalar;
  std::string name;  // Scalar/Array: variable; Uniform: scalar expression
  int64_t start = 0; // Iota
  std::string root;  // Array: the storage it aliases
  Affine affine = Affine::None;
  // Lazy: element `idx` as a scalar expression; W lanes at `idx` as a Vec<T, W> expression (a
  // Vec<as, W>::Mask for i1), nullopt where some node has no vector form.
  std::function<std::string(const std::string& idx)> sx = {};
  std::function<std::optional<std::string>(const std::string& idx, DType as)> vx = {};
  bool heavy = false;             // Lazy: costly to recompute (loads, transcendental, division)
  bool reads = false;             // Lazy: reads memory, so must be evaluated before a later write
  int size = 1;                   // Lazy: nodes in the expression, bounding duplication
  std::vector<std::string> refs = {};  // Lazy: storages it reads (for conflicting loop yields)
};

class CppGen {
 public:
  CppGen(const Function& fn, Diagnostics& diags);
  std::optional<std::string> run();

 private:
  // ---- cpp.cpp: output helpers, regions, op dispatch ----
  std::string vname(const Value* v);
  void line(const std::string& s) { out_ << std::string(indent_ * 2, ' ') << s << "\n"; }
  void error(const Op* op, const std::string& msg);
  void source_marker(const Op* op);
  const Info& info(const Value* v);
  std::string elem(const Value* v, const std::string& idx);
  std::optional<std::string> vexpr(const Value* v, const std::string& idx, DType as);
  static std::string vec_w(DType t) { return std::string("tilec_rt::Vec<") + ctype(t) + ", W>"; }
  DType mask_domain(const Value* v);
  std::string declare_array(const Value* v);
  static std::string num(int64_t v) { return std::to_string(v); }
  std::string literal(DType t, const Op* op);
  struct AlignedStore {
    std::string edge_stmt;  // the partial vector at element i: its reads and store masked to the tile
    std::string addr0;      // the output address of element 0
  };
  void fused_loop(int64_t n, DType lane, const std::function<std::string(const std::string&)>& value,
                  const std::function<std::string(const std::string&, const std::string&)>& sink, const std::string& scalar_stmt,
                  const std::optional<AlignedStore>& align = std::nullopt);
  std::string edge_lanes(const Value* v, const std::string& idx, DType as);
  void split_on_mask(const Value* m, const std::string& all_lanes, const std::function<void()>& whole,
                     const std::function<void()>& partial);
  std::string vcond(int64_t n);
  void fill(const std::string& dst, const Value* v);
  void materialize(const Value* v);
  void forget_pending(const Value* v);
  void flush_pending(const Op* op, bool only_reads);
  void define_lazy(const Op* op, Affine a, std::function<std::string(const std::string&)> sx,
                   std::function<std::optional<std::string>(const std::string&, DType)> vx, bool heavy);
  void settle(const Value* r);
  bool all_uniform(const Op* op);
  void count_uses(const Region& r);
  void region(const Region& r);
  Affine affine_of(const Value* v);
  void copy_into(const std::string& dst, const Value* src, const Type& t);
  std::string declare_storage(const Value* v, const std::string& suffix, Affine a);
  void yield_into(const std::vector<std::string>& dsts, const std::vector<Value*>& vals, const std::vector<Type>& types);
  std::vector<Type> types_of(const std::vector<Value*>& vs);
  void for_op(const Op* op);
  void if_op(const Op* op);
  void while_op(const Op* op);
  void op(const Op* op);
  void emit(const Op* op);

  // ---- cpp_ops.cpp: elementwise, shape, print and memory ops ----
  void print(const Op* op);
  static std::string quote(const std::string& s);
  std::string subst(const std::string& pat, const Op* op, const std::string& idx);
  void scalar_def(const Value* r, const std::string& expr);
  void unary_like(const Op* op, const std::string& pat, Affine a, bool heavy = false);
  std::function<std::optional<std::string>(const std::string&, DType)> vec_binary(const Op* op, const std::string& vop, const std::string& pre = "",
                                                                                  const std::string& post = "");
  void binary(const Op* op);
  void mask_binary(const Op* op, const std::string& pat, Affine a);
  void compare(const Op* op);
  void unary(const Op* op);
  static bool is_one(const Value* v);
  void index_loops(const std::vector<int64_t>& shape, const std::vector<int64_t>& src_strides, const std::string& body_prefix,
                   const Value* src);
  void broadcast(const Op* op);
  void permute(const Op* op);
  std::optional<std::string> contig_address(const Value* p, const std::string& idx);
  void load(const Op* op);
  std::optional<std::string> all_lanes_condition(const Value* m);
  void store(const Op* op);
  void atomic(const Op* op);

  // ---- cpp_reduce.cpp: reductions and scans ----
  struct Split {
    int64_t outer = 1, len = 1, inner = 1;
  };

  static Split split(const Type& t, int axis);
  void reduce(const Op* op);
  void scan(const Op* op);

  // ---- cpp_dot.cpp: tl.dot ----
  std::string dot_operand(const Value* v, DType as, const std::string& suffix);
  void convert_into(const std::string& dst, const Value* v, DType as);
  bool accumulates_in_place(const Value* c);
  void dot(const Op* op);

  const Function& fn_;
  Diagnostics& diags_;
  AxisAnalysis axis_;
  std::vector<const Region*> regions_;  // the regions being emitted, innermost last
  std::ostringstream out_;
  int indent_ = 0;
  bool failed_ = false;
  bool dry_ = false;  // analysing a loop body before emitting it: no diagnostics
  std::unordered_map<const Value*, std::string> names_;
  std::unordered_map<const Value*, Info> info_;
  std::unordered_map<const Value*, int> uses_;  // distinct consuming ops
  std::vector<const Value*> pending_;            // heavy Lazy values no op has consumed yet
  std::vector<std::string> vconds_;              // constexpr conditions of the vector form being built
  std::unordered_set<const Value*> true_masks_;  // masks the code being built runs under only where every lane holds
  // Building the partial vector at an end of an aligned store loop: every read is masked to the
  // lanes inside the tile (edge_lanes), a mask in true_masks_ holds on exactly those, and pointer
  // tiles contiguous only in aligned runs have no vector form (the loop's vectors start at any
  // element); the aligned loop is used only where this form exists.
  bool edge_ = false;
  const SourceFile* last_file_ = nullptr;
  int last_line_ = 0;
  std::vector<std::vector<std::string>> in_loop_;        // storages a for/while body yields into
  std::vector<std::vector<std::string>> branch_store_;   // storages an if branch yields into
  std::vector<char> yield_kind_;                         // innermost region kind: 'l' loop, 'i' if
  std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> while_ctx_;
};

}  // namespace tilec::cpp_gen
