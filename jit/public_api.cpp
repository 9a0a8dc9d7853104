// Input: calls through the installed header include/tilec/tilec.h. Output: compile_kernel and
// launch_cpu/launch_cuda results turned into values; no exception or internal type crosses it.
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "jit/kernel.h"
#include "tilec/tilec.h"

namespace tilec::jit {

struct Kernel::Impl {
  std::shared_ptr<CompiledKernel> k;
  std::vector<std::string> user_arg_names;  // arg_names without debug-mode extents
};

namespace {

// The runtime headers' folder is process-wide state of the JIT (its cache keys hash the headers
// once), so only the first caller that names one sets it.
void use_runtime_dir(const std::string& dir) {
  static std::once_flag once;
  if (dir.empty()) return;
  std::call_once(once, [&] { set_runtime_include_dir(dir); });
}

const char* kind_name(Arg::Kind k) {
  switch (k) {
    case Arg::Kind::Pointer: return "a pointer";
    case Arg::Kind::I1: return "bool";
    case Arg::Kind::I32: return "int32_t";
    case Arg::Kind::I64: return "int64_t";
    case Arg::Kind::U32: return "uint32_t";
    case Arg::Kind::U64: return "uint64_t";
    case Arg::Kind::F32: return "float";
    case Arg::Kind::F64: return "double";
  }
  return "?";
}

// The Arg kind that carries a scalar of `t` bit for bit, or nullopt for dtypes the API has no C++
// type for (fp16/bf16 and narrow ints as scalars: pass them as a wider type in the signature).
std::optional<Arg::Kind> kind_for(DType t) {
  switch (t) {
    case DType::I1: return Arg::Kind::I1;
    case DType::I32: return Arg::Kind::I32;
    case DType::I64: return Arg::Kind::I64;
    case DType::U32: return Arg::Kind::U32;
    case DType::U64: return Arg::Kind::U64;
    case DType::F32: return Arg::Kind::F32;
    case DType::F64: return Arg::Kind::F64;
    default: return std::nullopt;
  }
}

int64_t as_int(const Arg& a) {
  switch (a.kind()) {
    case Arg::Kind::I32: return *static_cast<const int32_t*>(a.data());
    case Arg::Kind::I64: return *static_cast<const int64_t*>(a.data());
    case Arg::Kind::U32: return *static_cast<const uint32_t*>(a.data());
    case Arg::Kind::U64: return static_cast<int64_t>(*static_cast<const uint64_t*>(a.data()));
    default: return 0;
  }
}

// Checks each argument against the compiled signature, so that a wrong call is an error value
// instead of a kernel reading garbage.
Status check_args(const CompiledKernel& k, const std::vector<std::string>& names, const std::vector<Arg>& args) {
  if (args.size() != k.num_user_args)
    return Status::failure("kernel '" + k.name + "' takes " + std::to_string(k.num_user_args) + " runtime arguments, got " +
                           std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i) {
    const Type& t = k.arg_types[i];
    const Arg& a = args[i];
    std::string what = "argument " + std::to_string(i) + " ('" + names[i] + "') of kernel '" + k.name + "'";
    if (t.is_ptr) {
      if (a.kind() != Arg::Kind::Pointer)
        return Status::failure(what + " is a pointer to " + dtype_name(t.dtype) + ", got " + kind_name(a.kind()));
      uintptr_t p = reinterpret_cast<uintptr_t>(*static_cast<const void* const*>(a.data()));
      if (k.arg_divisibility[i] == 16 && p % 16 != 0)
        return Status::failure(what + " was compiled as 16-byte aligned (':16' in the signature), but the pointer is not");
      continue;
    }
    std::optional<Arg::Kind> want = kind_for(t.dtype);
    if (!want)
      return Status::failure(what + " is a scalar " + std::string(dtype_name(t.dtype)) +
                             ", which the C++ API cannot pass; declare it i32, i64, u32, u64, fp32, fp64 or i1");
    if (a.kind() != *want)
      return Status::failure(what + " is " + dtype_name(t.dtype) + " (" + kind_name(*want) + "), got " + kind_name(a.kind()));
    if (k.arg_divisibility[i] == 16 && as_int(a) % 16 != 0)
      return Status::failure(what + " was compiled as divisible by 16 (':16' in the signature), got " + std::to_string(as_int(a)));
  }
  return {};
}

}  // namespace

const std::string& Kernel::name() const { return impl_->k->name; }
Backend Kernel::backend() const { return impl_->k->backend == tilec::Backend::Cpu ? Backend::Cpu : Backend::Cuda; }
const std::vector<std::string>& Kernel::arg_names() const { return impl_->user_arg_names; }

std::string Kernel::asm_text(const std::string& stage) const {
  std::map<std::string, std::string> all = kernel_asm(*impl_->k);
  auto it = all.find(stage);
  return it == all.end() ? std::string() : it->second;
}

Status Kernel::launch(Grid grid, const std::vector<Arg>& args, CudaStream stream) const {
  CompiledKernel& k = *impl_->k;
  if (Status s = check_args(k, impl_->user_arg_names, args); !s) return s;
  constexpr uint32_t kMax = 0x7fffffff;  // the ABI's program ids are int32
  if (grid.x > kMax || grid.y > kMax || grid.z > kMax)
    return Status::failure("grid dimension above 2^31-1 for kernel '" + k.name + "'");
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return {};  // an empty grid launches nothing, as in Python
  std::array<int32_t, 3> g{static_cast<int32_t>(grid.x), static_cast<int32_t>(grid.y), static_cast<int32_t>(grid.z)};
  std::vector<void*> ptrs;
  for (const Arg& a : args) ptrs.push_back(const_cast<void*>(a.data()));
  std::string error;
  if (k.backend == tilec::Backend::Cpu) {
    if (stream.stream) return Status::failure("kernel '" + k.name + "' was compiled for the CPU backend; it takes no CUDA stream");
    error = launch_cpu(k, g, ptrs.data());
  } else {
    error = launch_cuda(k, stream.device, g, stream.stream, ptrs.data());
  }
  return error.empty() ? Status() : Status::failure(error);
}

Result<Kernel> compile(const std::string& source, const std::string& kernel, const std::string& signature,
                       const std::vector<std::string>& constexprs, const Options& options, const std::string& path) {
  use_runtime_dir(options.runtime_dir);
  std::string error;
  std::optional<Signature> sig = parse_signature(signature, constexprs, &error);
  if (!sig) return Status::failure("bad signature for kernel '" + kernel + "': " + error);
  KernelOptions ko;
  ko.backend = options.backend == Backend::Cpu ? tilec::Backend::Cpu : tilec::Backend::Cuda;
  ko.cuda.num_warps = options.num_warps;
  ko.cuda.num_stages = options.num_stages;
  if (options.num_warps <= 0 || options.num_warps > 32 || (options.num_warps & (options.num_warps - 1)))
    return Status::failure("num_warps must be a power of two from 1 to 32, got " + std::to_string(options.num_warps));
  if (ko.backend == tilec::Backend::Cuda) {
    ko.cuda.arch = options.cuda_arch;
    if (ko.cuda.arch == 0) {
      ko.cuda.arch = cuda_device_arch(options.cuda_device, &error);
      if (ko.cuda.arch < 0)
        return Status::failure("cannot find the GPU to compile for (set Options::cuda_arch to compile without one): " + error);
    }
  }
  KernelSource src{std::make_shared<SourceFile>(path, source), kernel, *sig};
  Diagnostics diags;
  std::shared_ptr<CompiledKernel> k = compile_kernel(src, ko, diags);
  if (!k) {
    std::string text = diags.render();
    return Status::failure(text.empty() ? "kernel '" + kernel + "' failed to compile" : text);
  }
  auto impl = std::make_shared<Kernel::Impl>();
  impl->user_arg_names.assign(k->arg_names.begin(), k->arg_names.begin() + static_cast<std::ptrdiff_t>(k->num_user_args));
  impl->k = std::move(k);
  return Kernel(std::move(impl));
}

Result<Kernel> compile_file(const std::string& path, const std::string& kernel, const std::string& signature,
                            const std::vector<std::string>& constexprs, const Options& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::failure("cannot read '" + path + "': " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return compile(text.str(), kernel, signature, constexprs, options, path);
}

const char* version() { return TILEC_VERSION; }

}  // namespace tilec::jit
