// verify_checkpoint: reads training checkpoints the way --resume does (format, version, every
// CRC-32, every scalar), for scripts/kill_test.sh.
//
//   verify_checkpoint FILE...        each file must read and verify completely
//   verify_checkpoint --same A B     A and B must hold the same state: counters, learning rate,
//                                    callbacks and every tensor bit for bit
//
// Prints one line per file (or the first difference) and exits 0, 5 (a file does not read or
// verify: the CheckpointError, naming the file) or 1 (the two states differ). Usage errors: 2.
#include <cstdint>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "opgraph/core/error.hpp"
#include "opgraph/io/checkpoint.hpp"

namespace {

constexpr int kDiffer = 1;
constexpr int kUsage = 2;

std::map<std::string, const opgraph::NamedTensor*> tensors(const opgraph::TrainingState& s) {
    std::map<std::string, const opgraph::NamedTensor*> all;
    for (const auto& t : s.params) all[t.name] = &t;
    for (const auto& t : s.slots) all[t.name] = &t;
    return all;
}

// The first difference between two states, or "" when there is none.
std::string difference(const opgraph::TrainingState& a, const opgraph::TrainingState& b) {
    if (a.epoch != b.epoch || a.batch != b.batch || a.iteration != b.iteration)
        return "position: epoch " + std::to_string(a.epoch) + " batch " + std::to_string(a.batch) +
               " step " + std::to_string(a.iteration) + " vs epoch " + std::to_string(b.epoch) +
               " batch " + std::to_string(b.batch) + " step " + std::to_string(b.iteration);
    if (a.learning_rate != b.learning_rate) return "learning rate";
    if (a.callbacks != b.callbacks) return "callback state";
    if (a.graph_hash != b.graph_hash) return "graph hash";
    const auto ta = tensors(a), tb = tensors(b);
    if (ta.size() != tb.size())
        return "tensor count: " + std::to_string(ta.size()) + " vs " + std::to_string(tb.size());
    for (const auto& [name, t] : ta) {
        const auto it = tb.find(name);
        if (it == tb.end()) return "tensor '" + name + "' missing from the second";
        const opgraph::NamedTensor& u = *it->second;
        if (t->shape != u.shape || t->data.size() != u.data.size() ||
            std::memcmp(t->data.data(), u.data.data(), t->data.size() * sizeof(float)) != 0)
            return "tensor '" + name + "'";
    }
    return "";
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || (args[0] == "--same" && args.size() != 3)) {
        std::cerr << "usage: verify_checkpoint FILE... | verify_checkpoint --same A B\n";
        return kUsage;
    }
    try {
        if (args[0] == "--same") {
            const opgraph::TrainingState a = opgraph::read_checkpoint(args[1]);
            const opgraph::TrainingState b = opgraph::read_checkpoint(args[2]);
            const std::string diff = difference(a, b);
            if (!diff.empty()) {
                std::cout << args[1] << " and " << args[2] << " differ: " << diff << "\n";
                return kDiffer;
            }
            std::cout << args[1] << " and " << args[2] << ": same state, step " << a.iteration
                      << ", " << tensors(a).size() << " tensors bit for bit\n";
            return 0;
        }
        for (const std::string& file : args) {
            const opgraph::TrainingState s = opgraph::read_checkpoint(file);
            std::cout << file << ": ok, epoch " << s.epoch << " batch " << s.batch << " step "
                      << s.iteration << "\n";
        }
    } catch (const opgraph::Error& e) {
        std::cout << e.what() << "\n";
        return static_cast<int>(e.exit_code());
    } catch (const std::exception& e) {
        std::cout << "internal error: " << e.what() << "\n";
        return static_cast<int>(opgraph::ExitCode::internal);
    }
    return 0;
}
