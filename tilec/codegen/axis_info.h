// Input: verified tile IR with ArgInfo divisibility facts. Output: per-value AxisInfo (last-dim
// contiguity, divisibility, constancy) in Triton's sense; sound: every fact holds at run time.
#pragma once
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "tilec/ir.h"

namespace tilec {

// Along the last dim, in aligned chunks of the element index: `contig` consecutive elements
// form an arithmetic run of step 1 and `cnst` consecutive elements are equal. `div` divides the
// first element of every contiguous chunk (in bytes for pointers). Scalars have contig = cnst = 1.
struct AxisInfo {
  int64_t contig = 1;
  int64_t div = 1;
  int64_t cnst = 1;
  std::optional<int64_t> value;  // known integer value everywhere (constants, splats of them)
  bool operator==(const AxisInfo& o) const { return contig == o.contig && div == o.div && cnst == o.cnst && value == o.value; }
};

class AxisAnalysis {
 public:
  explicit AxisAnalysis(const Function& fn);
  AxisInfo get(const Value* v) const;

 private:
  void region(const Region& r);
  void op(const Op& o);
  void set(const Value* v, AxisInfo info);
  std::unordered_map<const Value*, AxisInfo> info_;
};

}  // namespace tilec
