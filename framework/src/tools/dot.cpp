#include "opgraph/tools/dot.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "opgraph/core/error.hpp"

namespace opgraph {

namespace {

// A DOT string literal: quotes and backslashes escaped, line breaks as DOT's "\n".
std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string node_label(const Node& node) {
    std::string label = node.name + "\n" + node.op;
    for (const FoldedNode& folded : node.folded) {
        label += folded.side == AffineSide::input    ? "\n+ before: "
                 : folded.side == AffineSide::output ? "\n+ after: "
                                                     : "\n+ after activation: ";
        label += folded.node.op + " '" + folded.node.name + "'";
    }
    if (!node.output_shapes.empty()) {
        label += '\n';
        label += shape_str(node.output_shapes.front());
        if (!node.output_dtypes.empty())
            label += std::string(" ") + dtype_name(node.output_dtypes.front());
    }
    return label;
}

}  // namespace

std::string to_dot(const Graph& graph) {
    std::ostringstream out;
    out << "digraph " << quoted(graph.name) << " {\n";
    out << "  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n";
    for (const GraphInput& input : graph.inputs)
        out << "  " << quoted(input.name) << " [shape=ellipse, label="
            << quoted(input.name + "\n" + shape_str(input.shape) + " " + dtype_name(input.dtype))
            << "];\n";
    for (const Node& node : graph.nodes)
        out << "  " << quoted(node.name) << " [label=" << quoted(node_label(node)) << "];\n";
    for (const Node& node : graph.nodes) {
        for (const std::string& text : node.inputs) {
            ValueRef ref;
            if (!parse_value_ref(text, ref)) continue;
            out << "  " << quoted(ref.name) << " -> " << quoted(node.name);
            if (ref.output != 0) out << " [label=" << quoted(std::to_string(ref.output)) << "]";
            out << ";\n";
        }
    }
    for (std::size_t i = 0; i < graph.outputs.size(); ++i) {
        const std::string sink = "output " + std::to_string(i);
        ValueRef ref;
        if (!parse_value_ref(graph.outputs[i], ref)) continue;
        out << "  " << quoted(sink) << " [shape=ellipse];\n";
        out << "  " << quoted(ref.name) << " -> " << quoted(sink) << ";\n";
    }
    out << "}\n";
    return out.str();
}

void write_dot(const std::string& dot_text, const std::filesystem::path& file) {
    const std::string format = file.extension().string().substr(file.has_extension() ? 1 : 0);
    if (format == "dot" || format == "gv") {
        std::ofstream out(file);
        if (!(out << dot_text))
            throw Error(ExitCode::usage, file.string() + ": cannot write the file");
        return;
    }
    if (!std::set<std::string>{"svg", "png", "pdf"}.count(format))
        throw UsageError(file.string() +
                         ": cannot tell the format; use .dot, .gv, .svg, .png or .pdf");
    // Graphviz reads the text on stdin; the file name is passed as one quoted argument.
    std::string name = file.string();
    std::string escaped;
    for (char c : name) escaped += c == '\'' ? std::string("'\\''") : std::string(1, c);
    const std::string command = "dot -T" + format + " -o '" + escaped + "' 2>&1";
    FILE* pipe = popen(command.c_str(), "w");
    if (pipe == nullptr) throw Error(ExitCode::usage, name + ": cannot start Graphviz's dot");
    const bool written = std::fwrite(dot_text.data(), 1, dot_text.size(), pipe) == dot_text.size();
    const int status = pclose(pipe);
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 127)
        throw Error(ExitCode::usage, name +
                                         ": rendering needs Graphviz's dot (Debian package "
                                         "graphviz); -o FILE.dot writes the text instead");
    if (!written || status != 0)
        throw Error(ExitCode::usage, name + ": Graphviz's dot could not render the graph");
}

}  // namespace opgraph
