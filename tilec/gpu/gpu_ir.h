// Input: none (definitions). Output: gpu-ir -- the optimized tile IR plus every GPU decision about
// it: a layout per tile value, a lowering per dot, a software pipeline per loop; printable.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tilec/codegen/axis_info.h"
#include "tilec/gpu/layout.h"
#include "tilec/gpu/target.h"
#include "tilec/ir.h"

namespace tilec::gpu {

enum class DotLowering {
  Fma,        // both operands through shared memory, one FMA chain per output element
  MmaStaged,  // mma.sync on operands and accumulator staged through shared memory per dot
  MmaSync,    // result in mma.sync registers, ldmatrix operand loads (or A from registers)
  Wgmma,      // result in wgmma registers, operands from swizzled shared memory (or A from registers)
};
const char* dot_lowering_name(DotLowering k);

// MmaSync and Wgmma dots hold their result in `acc`'s registers. A loop-carried accumulator
// (`carried`) is updated in place for the whole loop; any other such dot starts from its
// accumulator operand converted to `acc`, and its A operand may come straight from registers
// when it is already in a compatible mma layout (the flash-attention `dot(p, v)`).
struct DotPlan {
  DotLowering kind = DotLowering::Fma;
  Layout acc;                       // Mma layout of the accumulator (MmaSync, Wgmma)
  const Op* fused_add = nullptr;    // `acc + dot(a, b)` folded into the dot's accumulation
  const Value* carried = nullptr;   // the For result whose registers the accumulator lives in
  std::vector<const Value*> acc_values;  // every value held in those registers
  bool a_regs = false;              // A packed from its mma-layout registers
  bool b_kmajor = false;            // B is tl.trans of a [n][k] tile: K-major in shared memory
  // The only use of `carried`, a cast to fp16/bf16: done as the accumulator leaves its registers,
  // so the exchange into the cast's layout moves 16-bit values (Triton's epilogue does the same).
  const Op* narrow = nullptr;
};

// The TMA tensor map of a descriptor whose base, shape and strides are kernel arguments (or casts
// of them) or constants: the launcher encodes it before each launch and passes it after the
// arguments as a __grid_constant__ parameter. swizzle 128: 2-d boxes of [box[0]][128 bytes] for a
// pipeline's swizzled stages; 0: one box is the whole block, dense row-major in shared memory.
struct TensorMap {
  const Value* base = nullptr;
  std::vector<const Value*> shape, strides;  // outermost dim first; strides in elements
  std::vector<int64_t> box;                  // outermost dim first
  DType dtype = DType::F16;
  int swizzle = 128;
  bool nan_fill = false;                     // out-of-bounds elements read NaN (padding_option="nan")
};

// A load whose tile goes straight to shared memory with cp.async, `stages` iterations ahead, or,
// when `tma` is set, with one TMA copy per 128-byte column group completing on the stage's mbarrier.
struct AsyncLoad {
  const Op* load = nullptr;
  const Op* dot = nullptr;
  int operand = 0;               // 0: the dot's A, 1: its B
  const Op* permute = nullptr;   // B = tl.trans(load): kept as loaded, read K-major
  bool transpose = false;        // a [k][n] tf32 B copied element by element into K-major rows
  bool invariant = false;        // loaded before the loop: copied once, one stage
  int tma = -1;                  // index into GpuModule::tensor_maps, or -1: cp.async
  Layout smem;                   // Shared layout, all stages
  int64_t offset = 0;            // byte offset of stage 0 in the pipeline's shared memory
};

struct LoopPipeline {
  int stages = 2;
  int distance = 1;         // iterations whose copies are in flight ahead of the one computing
  bool async_mma = false;   // wgmma: issued before the next copies, waited for at the iteration's end
  std::vector<const Op*> dots;  // the tensor-core dots of the body, in order
  std::vector<AsyncLoad> loads;
  std::vector<const Op*> slice;       // body ops computing the loads' pointers and masks, in order
  std::vector<size_t> carried;        // loop-carried args (index into results) the slice advances
  bool tma = false;                   // every load is a TMA copy: stages complete on mbarriers
  int64_t barriers = 0;               // tma: byte offset of the stages' mbarriers (then the invariant loads')
  int64_t smem_bytes = 0;
};

struct GpuModule {
  const Function* fn = nullptr;
  GpuTarget target;
  int num_warps = 4;
  int num_stages = 3;
  int64_t vec_elems = 4;   // V of every blocked layout (elements per thread per contiguous group)
  std::unique_ptr<AxisAnalysis> axis;
  std::unordered_map<const Value*, Layout> layouts;
  std::unordered_map<const Op*, DotPlan> dots;
  std::unordered_map<const Op*, LoopPipeline> pipelines;   // keyed by the For op
  std::unordered_set<const Op*> remat;   // broadcasts whose index chain is recomputed in the result's layout
  std::unordered_map<const Op*, const Op*> yield_owner;  // Yield/Condition -> the op whose region it ends
  std::vector<TensorMap> tensor_maps;    // kernel parameters after the arguments, in this order
  std::unordered_map<const Op*, int> tma_accesses;  // descriptor loads/stores outside pipelines copied whole by TMA

  int64_t threads() const { return 32 * int64_t{num_warps}; }
  Layout layout(const Value* v) const;  // blocked by element count unless a pass set another
};

std::string print_gpu_ir(const GpuModule& m);

// The tensor map that TMA can copy descriptor access `op` with (swizzle 128: a pipeline's 2-d
// operand; 0: the whole block), added to m.tensor_maps (or found there); -1 when TMA's rules
// (launch-known, 16-byte aligned base, strides and innermost offset, boxes of at most 256; for
// stores an innermost shape of whole 16 bytes) are not proven.
int tma_map(GpuModule& m, const Op& op, int swizzle);

// A tile computable at any element from its index alone: aranges, constants and scalars combined
// elementwise, expanded and broadcast (no loads, no cross-element ops); depth-limited.
bool is_index_chain(const Value* v, int depth = 0);

// The stages, in order (gpu/passes.cpp).
void assign_layouts(GpuModule& m);
void accelerate_dot(GpuModule& m);
void propagate_layouts(GpuModule& m);
void pipeline_loops(GpuModule& m);
void plan_tma_accesses(GpuModule& m);

// The layout in which `op` reads its operand `i`; nullopt when the op reads it in whatever layout
// it has (a rematerialized index chain, a dot operand in shared memory, a reduction of an mma
// tile). Where this differs from the operand's own layout the printer converts.
std::optional<Layout> operand_layout(const GpuModule& m, const Op& op, size_t i);
// How a value reaches another layout: recomputed there (uniform constants and index chains, no
// data movement) or exchanged through shared memory.
enum class ConvertKind { Remat, Exchange };
ConvertKind convert_kind(const Value* v);
const char* convert_kind_name(ConvertKind k);
// The values whose layout a dot lowering fixed (propagation leaves them alone).
bool layout_fixed(const GpuModule& m, const Value* v);
// wgmma needs its operands in swizzled shared memory: a dot whose loop is not pipelined falls
// back to mma.sync registers (or a staged dot).
void demote_wgmma(GpuModule& m, const Op* dot);

// Runs every stage; nullopt (with a diagnostic) on an unsupported option.
// tma: TMA copies may be used (the launcher encodes their tensor maps; tilec's own launchers do).
std::optional<GpuModule> lower_to_gpu(const Function& fn, int arch, int num_warps, int num_stages, bool tma, Diagnostics& diags);

}  // namespace tilec::gpu
