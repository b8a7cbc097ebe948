#include "opgraph/io/checkpoint.hpp"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "opgraph/core/error.hpp"

namespace opgraph {

namespace {

constexpr const char* kFormat = kCheckpointFormat;

// The scalar state, as one JSON object in the metadata entry "state".
std::string state_json(const TrainingState& s) {
    nlohmann::ordered_json j;
    j["epoch"] = s.epoch;
    j["batch"] = s.batch;
    j["iteration"] = s.iteration;
    j["learning_rate"] = s.learning_rate;
    j["shuffle_state"] = s.shuffle_state;
    j["loss_sum"] = s.loss_sum;
    j["correct"] = s.correct;
    j["seen"] = s.seen;
    // JSON has no infinities (a best-so-far often starts at one): those are strings.
    nlohmann::ordered_json callbacks = nlohmann::ordered_json::object();
    for (const auto& [key, value] : s.callbacks)
        callbacks[key] = std::isfinite(value) ? nlohmann::ordered_json(value)
                                              : nlohmann::ordered_json(std::to_string(value));
    j["callbacks"] = callbacks;
    return j.dump();
}

void parse_state(const std::string& text, TrainingState& s) {
    const nlohmann::json j = nlohmann::json::parse(text);
    s.epoch = j.at("epoch").get<std::int64_t>();
    s.batch = j.at("batch").get<std::int64_t>();
    s.iteration = j.at("iteration").get<std::int64_t>();
    s.learning_rate = j.at("learning_rate").get<double>();
    s.shuffle_state = j.at("shuffle_state").get<std::string>();
    s.loss_sum = j.at("loss_sum").get<double>();
    s.correct = j.at("correct").get<std::int64_t>();
    s.seen = j.at("seen").get<std::int64_t>();
    for (const auto& [key, value] : j.at("callbacks").items())
        s.callbacks[key] =
            value.is_string() ? std::stod(value.get<std::string>()) : value.get<double>();
    if (s.epoch < 0 || s.batch < 0 || s.iteration < 0 || s.seen < 0 || s.correct < 0 ||
        s.correct > s.seen || !(s.learning_rate >= 0))
        throw std::invalid_argument("a counter is negative or out of range");
}

}  // namespace

void save_checkpoint(const std::filesystem::path& dir, const TrainingState& state) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw CheckpointError(dir.string() + ": cannot create the directory: " + ec.message());
    TensorFile content;
    content.metadata = {{"format", kFormat},
                        {"version", state.version},
                        {"graph_hash", state.graph_hash},
                        {"state", state_json(state)}};
    content.tensors = state.params;
    content.tensors.insert(content.tensors.end(), state.slots.begin(), state.slots.end());

    // Keep the current latest as .prev (a hard link, then an atomic rename over the old
    // .prev), so the latest name never disappears; then the new file replaces the latest.
    const std::filesystem::path latest = dir / kCheckpointFile;
    const std::filesystem::path previous = dir / kPreviousCheckpointFile;
    if (std::filesystem::exists(latest)) {
        const std::filesystem::path link = dir / ".checkpoint.prev.link";
        ::unlink(link.c_str());
        if (::link(latest.c_str(), link.c_str()) != 0 ||
            ::rename(link.c_str(), previous.c_str()) != 0)
            throw CheckpointError(previous.string() +
                                  ": cannot keep the previous checkpoint: " + std::strerror(errno));
        // rename() does nothing when both names are already one file (.prev after a save that
        // failed, or was killed, once it had linked it): the link would be left behind.
        ::unlink(link.c_str());
    }
    try {
        write_tensor_file(latest, content);
    } catch (const CheckpointError& e) {
        if (!std::filesystem::exists(latest)) throw;
        throw CheckpointError(std::string(e.what()) + " (" + latest.string() +
                              " still holds the previous checkpoint)");
    }
}

TrainingState read_checkpoint(const std::filesystem::path& file) {
    const TensorFile content = read_tensor_file(file);
    const auto meta = [&](const char* key) -> const std::string& {
        auto it = content.metadata.find(key);
        if (it == content.metadata.end())
            throw CheckpointError(file.string() + ": not an opgraph checkpoint (no '" + key +
                                  "' in its metadata)");
        return it->second;
    };
    if (meta("format") != kFormat)
        throw CheckpointError(file.string() + ": format '" + meta("format") + "', expected '" +
                              kFormat + "'");
    if (meta("version") != kCheckpointVersion &&
        meta("version") != kCheckpointVersionBeforeLrCallback)
        throw CheckpointError(file.string() + ": checkpoint version " + meta("version") +
                              ", this opgraph reads versions " +
                              kCheckpointVersionBeforeLrCallback + " and " + kCheckpointVersion);
    TrainingState state;
    state.version = meta("version");
    state.graph_hash = meta("graph_hash");
    try {
        parse_state(meta("state"), state);
    } catch (const std::exception& e) {
        throw CheckpointError(file.string() + ": metadata 'state' is malformed: " + e.what());
    }
    for (const NamedTensor& t : content.tensors)
        (t.name.rfind(kOptimizerSlotPrefix, 0) == 0 ? state.slots : state.params).push_back(t);
    return state;
}

TrainingState load_latest_checkpoint(const std::filesystem::path& dir, std::ostream* warnings) {
    const std::filesystem::path latest = dir / kCheckpointFile;
    const std::filesystem::path previous = dir / kPreviousCheckpointFile;
    std::string why;
    try {
        return read_checkpoint(latest);
    } catch (const CheckpointError& e) {
        why = e.what();
    }
    if (!std::filesystem::exists(previous))
        throw CheckpointError(why +
                              (std::filesystem::exists(latest)
                                   ? ""
                                   : " (no checkpoint in " + dir.string() + " to resume from)"));
    if (warnings)
        *warnings << "warning: " << why << "\nwarning: resuming from " << previous.string() << "\n";
    try {
        return read_checkpoint(previous);
    } catch (const CheckpointError& e) {
        throw CheckpointError(why + "\n" + e.what());
    }
}

std::string graph_hash(const Graph& graph) {
    std::uint64_t h = 1469598103934665603ull;
    const auto mix = [&h](const std::string& text) {
        for (unsigned char c : text + '\x1f') {
            h ^= c;
            h *= 1099511628211ull;
        }
    };
    for (const GraphInput& input : graph.inputs) {
        mix(input.name);
        mix(shape_str(input.shape));
    }
    for (const Node& node : graph.nodes) {
        mix(node.name);
        mix(node.op);
        for (const std::string& in : node.inputs) mix(in);
        for (const auto& [name, value] : node.attrs.all()) {
            mix(name);
            mix(attr_value_str(value));
        }
        for (const Shape& s : node.output_shapes) mix(shape_str(s));
    }
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
    return text;
}

}  // namespace opgraph
