// How IR shapes map to oneDNN memory descriptors.
//
// Data values are channels-last in the IR (batch, height, width, channels) and oneDNN orders
// its logical dims (N, C, H, W): image_dims() permutes, and the plain layout of an image is
// format_tag::nhwc. A kernel may give its outputs a blocked layout instead; its consumers
// take whatever descriptor it produced. Parameters and their gradients are always plain
// row-major over their Keras shape (conv kernel (kh, kw, in, out), dense (in, units)), so
// that initialisers, optimizers and checkpoints read them directly; kernels view them in
// the layout they need.
#pragma once

#include <dnnl.hpp>

#include "opgraph/core/dtype.hpp"
#include "opgraph/core/shape.hpp"

namespace opgraph {

// IR shape with a concrete batch -> oneDNN logical dims: rank 4 (N, H, W, C) -> {N, C, H, W};
// other ranks unchanged; rank 0 (a scalar) -> {1}.
dnnl::memory::dims logical_dims(const Shape& shape);

// oneDNN's data type for an element type.
dnnl::memory::data_type dnnl_data_type(DType type);

// The plain layout of a data value: nhwc for rank 4, row-major otherwise.
dnnl::memory::desc plain_data_desc(const Shape& shape, DType type = DType::f32);

// Row-major f32 over the shape as written (parameters and their gradients).
dnnl::memory::desc row_major_desc(const Shape& shape);

// Number of elements of a concrete shape (1 for a scalar).
std::int64_t element_count(const Shape& shape);

}  // namespace opgraph
