/* The C boundary between opgraph and an operator plugin.
 *
 * A plugin is a shared library exporting one function, opgraph_plugin_entry, that returns a
 * pointer to a static opgraph_plugin_info. The loader reads abi_version before touching
 * anything else; a plugin whose abi_version or framework build differs is refused. The
 * register_ops function fills the registry (an opgraph::OpRegistry*) and returns 0, or
 * non-zero with a message written into `error`. No exception crosses this boundary.
 * Plugin authors use OPGRAPH_PLUGIN from opgraph/plugin.hpp rather than this header. */
#ifndef OPGRAPH_PLUGIN_ABI_H
#define OPGRAPH_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

/* 2: OpDef::inference_affine, absorbs_affine
 * 3: Node::folded (the fold_affine pass); AffineSide moved to opgraph/ir/graph.hpp
 * 4: OpDef::saved / saved_shapes and Node::saves (what forward saves is a graph value),
 *    OpDef::in_place; KernelContext::forward removed; register_training_items
 * 5: element types (OpDef::dtypes, infer_dtypes; Node::dtype)
 * 6: OpDef::optional_inputs, sums_inputs, fuses_residual (the fuse_residual_add pass)
 * 7: AffineSide::after_activation (maps folded after a fused activation, as post-ops)
 * 8: TrainingItems::datasets (dataset types from plugins) */
#define OPGRAPH_PLUGIN_ABI_VERSION 8u
#define OPGRAPH_PLUGIN_ENTRY_SYMBOL "opgraph_plugin_entry"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct opgraph_plugin_info {
    uint32_t abi_version;          /* OPGRAPH_PLUGIN_ABI_VERSION the plugin was built with */
    const char* name;              /* plugin name, e.g. "core" */
    const char* version;           /* plugin's own version */
    const char* framework_version; /* opgraph version the plugin was built against */
    const char* cxx_abi;           /* C++ standard library and ABI, must equal the host's */
    const char* compiler;          /* informational */
    int (*register_ops)(void* registry, char* error, size_t error_size);
    /* Adds optimizer, schedule and callback types to an opgraph::TrainingItems; null when the
     * plugin has none (opgraph/train/plugin_items.hpp). Same return convention. */
    int (*register_training_items)(void* items, char* error, size_t error_size);
} opgraph_plugin_info;

typedef const opgraph_plugin_info* (*opgraph_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
