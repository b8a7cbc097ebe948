// An OpDef's kernel functions (OpDef::kernel, a backward op's kernel): one that constructs a
// kernel class from the context, and, inside a backward kernel, reaching the kernel of the
// forward node it differentiates (KernelContext::forward) as its class.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "opgraph/op/gradient.hpp"
#include "opgraph/op/kernel.hpp"

namespace opgraph::ops {

// What OpDef::kernel holds.
using KernelFn = std::function<std::unique_ptr<Kernel>(const KernelContext&)>;

// An op's kernel function for kernel class K constructed from the context:
// def.kernel = ops::make_kernel<SwishKernel>.
template <class K>
std::unique_ptr<Kernel> make_kernel(const KernelContext& ctx) {
    return std::make_unique<K>(ctx);
}

// The forward kernel of a backward kernel (KernelContext::forward) as its class. Throws
// std::invalid_argument naming `op` when there is none or it is of another op.
template <class ForwardKernel>
const ForwardKernel& forward_kernel(const KernelContext& ctx, const std::string& op) {
    const auto* kernel = dynamic_cast<const ForwardKernel*>(ctx.forward);
    if (kernel == nullptr) {
        throw std::invalid_argument(op + " needs the kernel of its forward node (attribute '" +
                                    kForwardAttr + "'), got " +
                                    (ctx.forward == nullptr ? "none" : "another op's kernel"));
    }
    return *kernel;
}

}  // namespace opgraph::ops
