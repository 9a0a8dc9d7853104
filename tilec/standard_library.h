// Input: nothing. Output: the tile-language source of the tl functions that tilec builds from other
// tl ops (as Triton's standard.py builds sort and softmax), and the names Triton has but tilec lacks.
// Invariant: every function in the source is @jit and uses only ops that both backends print.
#pragma once

#include <string>

#include "tilec/source.h"

namespace tilec {

// "<tilec standard library>": sort, topk, gather, histogram, reduce and associative_scan with a
// @jit combine function, interleave, cat, ravel, softmax, ... ir_gen inlines them like user helpers.
const SourceFile& standard_library_source();

// Whether `name` is in triton.language.__all__ (Triton 3.6); ir_gen names such a function in its
// "not implemented by tilec" error instead of calling it an unknown attribute.
bool is_triton_language_name(const std::string& name);

}  // namespace tilec
