#include "commands.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "opgraph/frontend/model_file.hpp"
#include "opgraph/io/dataset.hpp"
#include "opgraph/op/session.hpp"
#include "opgraph/runtime/precision_support.hpp"
#include "opgraph/runtime/weights.hpp"
#include "opgraph/tools/dot.hpp"
#include "opgraph/tools/gradient_check.hpp"
#include "opgraph/tools/memory_report.hpp"
#include "opgraph/tools/op_listing.hpp"
#include "opgraph/tools/quantization.hpp"
#include "opgraph/tools/stages.hpp"
#include "opgraph/tools/summary.hpp"
#include "opgraph/train/evaluation.hpp"
#include "opgraph/train/interrupt.hpp"
#include "opgraph/train/plugin_items.hpp"
#include "opgraph/train/progress.hpp"
#include "opgraph/train/training.hpp"

namespace po = boost::program_options;

namespace opgraph::cli {

namespace {

// Options every command that loads plugins takes.
struct Common {
    std::vector<std::string> plugin_path;
    po::options_description options{"Plugin options"};
    Common() {
        options.add_options()(
            "plugin-path", po::value(&plugin_path)->composing(),
            "directory or plugin file to load operators from (repeatable, ':'-separated); "
            "searched before $OPGRAPH_PLUGIN_PATH and the installed plugin directory");
    }
    Session session() const { return Session(SessionOptions{plugin_path}); }
};

// Parses `args` against `visible` plus positional `names`; prints help and returns false on
// --help. Throws UsageError on bad arguments.
bool parse(const Args& args, const char* usage, po::options_description& visible,
           const std::vector<std::pair<const char*, std::string*>>& positionals) {
    bool help = false;
    visible.add_options()("help,h", po::bool_switch(&help), "show this help");
    po::options_description all;
    all.add(visible);
    po::positional_options_description positional;
    for (const auto& [name, target] : positionals) {
        all.add_options()(name, po::value(target)->required());
        positional.add(name, 1);
    }
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
        if (vm.count("help") && vm["help"].as<bool>()) {
            std::cout << "usage: " << usage << "\n\n" << visible;
            return false;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(std::string(e.what()) + "\nusage: " + usage);
    }
    return true;
}

// Options of the commands that run a graph: threads, batch size, data and weights.
struct RunOptions {
    ThreadConfig threads;
    std::int64_t batch_size = 0;
    std::string data_dir;
    std::string weights;
    std::string precision = kPrecisionF32;
    void add(po::options_description& options) {
        options.add_options()(
            "precision", po::value(&precision)->default_value(precision),
            "f32, bf16, auto (bf16 where the CPU has AVX512-BF16 or AMX; parameters stay f32) "
            "or int8 (--weights from opgraph quantize)")(
            "threads", po::value(&threads.intra_op)->default_value(0),
            "OpenMP threads inside each primitive (0: cores / inter-op; 1 at batch 1)")(
            "inter-op-threads", po::value(&threads.inter_op)->default_value(0),
            "kernels run at once on the flow graph (0: 1)")(
            "batch-size", po::value(&batch_size)->default_value(0),
            "samples per step (0: the graph's training batch size, else 128)")(
            "data-dir", po::value(&data_dir),
            "data root holding mnist/ and fashion-mnist/ (default $OPGRAPH_DATA_DIR or data)")(
            "weights", po::value(&weights)->required(), "weights file (safetensors)");
    }
    // The precision made concrete, its note on stderr (stdout carries the command's result).
    DType dtype() const {
        const ResolvedPrecision resolved = resolve_precision(precision);
        if (precision != kPrecisionF32) std::cerr << "precision: " << resolved.note << "\n";
        return resolved.dtype;
    }
    // An Evaluator of `model` at the resolved precision, its weights loaded (with int8, the
    // activation ranges of the quantized weights file too).
    std::unique_ptr<Evaluator> evaluator(const ModelFile& model, const std::string& loss,
                                         const OpRegistry& ops) const {
        const DType type = dtype();
        const TensorFile content = read_tensor_file(weights);
        std::optional<ActivationRanges> ranges;
        if (type == DType::s8) ranges = read_activation_ranges(content, weights);
        auto e = std::make_unique<Evaluator>(model.graph, loss, ops, batch_for(model), threads,
                                             nullptr, type, ranges ? &*ranges : nullptr);
        load_weights(e->program(), content, weights);  // every program shares its parameters
        return e;
    }
    std::int64_t batch_for(const ModelFile& model) const {
        constexpr std::int64_t kDefaultBatch = 128;
        if (batch_size > 0) return batch_size;
        return model.training ? model.training->batch_size : kDefaultBatch;
    }
};

// --stage S and --list-stages of the commands that show a graph.
struct StageOptions {
    std::string stage = "loaded";
    std::string precision = kPrecisionF32;
    bool list = false;
    void add(po::options_description& options) {
        options.add_options()("stage", po::value(&stage)->default_value(stage),
                              "the graph after this pass or pipeline (--list-stages)")(
            "list-stages", po::bool_switch(&list), "name the stages and exit")(
            "precision", po::value(&precision)->default_value(precision),
            "what the precision pass assigns: f32, bf16 or auto (the training section's for "
            "the train stages when left f32)");
    }
    // Prints the stages when asked; returns whether it did.
    bool listed() const {
        if (!list) return false;
        std::cout << format_stages();
        return true;
    }
    // --precision, else the training section's.
    DType dtype(const ModelFile& model) const {
        if (precision == kPrecisionInt8)
            throw UsageError(
                "--precision int8 needs a model's calibrated ranges: run opgraph "
                "quantize, then eval, predict or bench --precision int8");
        const bool asked = precision != kPrecisionF32 || !model.training;
        return resolve_precision(asked ? precision : model.training->precision).dtype;
    }
};

int summary(const Args& args) {
    Common common;
    StageOptions stage;
    std::string graph;
    std::int64_t batch_size = 0;
    stage.add(common.options);
    common.options.add_options()("batch-size", po::value(&batch_size)->default_value(0),
                                 "batch of the memory plans (0: the graph's training batch "
                                 "size, else 128)");
    if (!parse(args, "opgraph summary GRAPH [--stage S] [--batch-size N] [--plugin-path DIR]",
               common.options, {{"graph", &graph}}))
        return 0;
    if (stage.listed()) return 0;
    Session session = common.session();
    const TrainingItems items = training_items(session);
    const ModelFile model = load_model_file(graph, session.ops(), items.specs());
    const Graph shown = graph_at_stage(model, stage.stage, session.ops(), stage.dtype(model));
    std::cout << format_summary(summarize(shown, session.ops())) << "\n"
              << format_memory_plans(model, session.ops(), items.optimizers,
                                     RunOptions{{}, batch_size, {}, {}}.batch_for(model));
    return 0;
}

int check(const Args& args) {
    Common common;
    std::string graph;
    if (!parse(args, "opgraph check GRAPH [--plugin-path DIR]", common.options,
               {{"graph", &graph}}))
        return 0;
    Session session = common.session();
    const TrainingItems items = training_items(session);
    const ModelFile model = load_model_file(graph, session.ops(), items.specs());
    const ModelSummary s = summarize(model.graph, session.ops());
    std::cout << graph << ": ok: " << model.graph.nodes.size() << " nodes, "
              << group_thousands(s.total_params) << " parameters"
              << (model.training ? ", training section valid" : ", no training section") << "\n";
    return 0;
}

int dot(const Args& args) {
    Common common;
    StageOptions stage;
    std::string graph, output;
    common.options.add_options()(
        "output,o", po::value(&output),
        "write to FILE, not stdout: .dot/.gv as text, .svg/.png/.pdf rendered by Graphviz");
    stage.add(common.options);
    if (!parse(args, "opgraph dot GRAPH [--stage S] [-o FILE] [--plugin-path DIR]", common.options,
               {{"graph", &graph}}))
        return 0;
    if (stage.listed()) return 0;
    Session session = common.session();
    const TrainingItems items = training_items(session);
    const ModelFile model = load_model_file(graph, session.ops(), items.specs());
    const std::string text =
        to_dot(graph_at_stage(model, stage.stage, session.ops(), stage.dtype(model)));
    if (output.empty())
        std::cout << text;
    else
        write_dot(text, output);
    return 0;
}

int train(const Args& args) {
    Common common;
    std::string graph, data_dir;
    std::int64_t epochs = 0, batch_size = 0, train_limit = 0;
    std::int64_t seed = -1;
    std::string checkpoint_dir, precision;
    TrainOptions options;
    common.options.add_options()("epochs", po::value(&epochs), "override the file's epochs")(
        "batch-size", po::value(&batch_size), "override the file's batch size")(
        "seed", po::value(&seed)->default_value(-1),
        "override the file's seed: shuffling, initialisers, dropout (-1: the file's)")(
        "threads", po::value(&options.threads.intra_op)->default_value(0),
        "OpenMP threads inside each primitive (0: cores / inter-op; 1 at batch 1)")(
        "inter-op-threads", po::value(&options.threads.inter_op)->default_value(0),
        "kernels run at once on the flow graph (0: 1)")(
        "data-dir", po::value(&data_dir),
        "data root holding mnist/ and fashion-mnist/ (default $OPGRAPH_DATA_DIR or data)")(
        "train-limit", po::value(&train_limit)->default_value(0),
        "train on the first N samples only (0: all)")(
        "checkpoint-dir", po::value(&checkpoint_dir),
        "where training checkpoints go (default checkpoints/<graph file's stem>)")(
        "checkpoint-every", po::value(&options.checkpoint_every)->default_value(0),
        "also checkpoint every N optimizer steps (0: after each epoch only)")(
        "resume", po::bool_switch(&options.resume),
        "continue from the newest checkpoint of the checkpoint directory")(
        "precision", po::value(&precision),
        "override the file's precision: f32, bf16 (mixed: f32 master weights) or auto")(
        "check-numerics", po::bool_switch(&options.check_numerics),
        "check every node's output for NaN / Inf and name the first that has one (slower)");
    if (!parse(args,
               "opgraph train GRAPH [--epochs N] [--batch-size B] [--seed S] [--threads T] "
               "[--data-dir D] [--train-limit N] [--checkpoint-dir D] [--resume]",
               common.options, {{"graph", &graph}}))
        return 0;
    if (options.checkpoint_every < 0) throw UsageError("--checkpoint-every must be >= 0");
    if (epochs > 0) options.epochs = epochs;
    if (batch_size > 0) options.batch_size = batch_size;
    if (seed >= 0) options.seed = static_cast<std::uint64_t>(seed);
    if (!precision.empty()) options.precision = precision;
    options.train_limit = train_limit;
    options.data_root = data_root(data_dir);
    options.out = &std::cout;
    options.interactive = is_terminal(std::cout);
    options.checkpoint_dir = checkpoint_dir.empty() ? default_checkpoint_dir(graph)
                                                    : std::filesystem::path(checkpoint_dir);
    Session session = common.session();
    const TrainingItems items = training_items(session);
    const ModelFile model = load_model_file(graph, session.ops(), items.specs());
    options.items = &items;
    Trainer trainer(model, session.ops(), options);
    const InterruptHandler interrupts;
    trainer.fit();
    return 0;
}

int eval(const Args& args) {
    Common common;
    RunOptions run;
    std::string graph;
    run.add(common.options);
    if (!parse(args, "opgraph eval GRAPH --weights FILE [--data-dir DIR] [--threads T]",
               common.options, {{"graph", &graph}}))
        return 0;
    Session session = common.session();
    const TrainingItems items = training_items(session);
    const ModelFile model = load_model_file(graph, session.ops(), items.specs());
    if (!model.training) {
        Diagnostics missing;
        missing.add({graph, 0, 0}, {}, "training",
                    "eval needs the training section's dataset and loss");
        missing.throw_if_any();
    }
    const Dataset test =
        load_dataset(items.datasets, model.training->dataset, Split::test, data_root(run.data_dir));
    const Metrics m = run.evaluator(model, model.training->loss, session.ops())->evaluate(test);
    std::cout << m.samples << "/" << m.samples << " - loss: " << m.loss << " - acc: " << m.accuracy
              << "\n";
    return 0;
}

int predict(const Args& args) {
    Common common;
    RunOptions run;
    std::string graph, input, output;
    run.add(common.options);
    common.options.add_options()("input", po::value(&input)->required(),
                                 "IDX file of uint8 images (count, height, width)")(
        "output,o", po::value(&output), "CSV file to write (default: standard output)");
    if (!parse(args, "opgraph predict GRAPH --weights FILE --input IDX [-o FILE]", common.options,
               {{"graph", &graph}}))
        return 0;
    Session session = common.session();
    const TrainingItems items = training_items(session);
    const ModelFile model = load_model_file(graph, session.ops(), items.specs());
    const Dataset images = load_images(input);
    const auto rows = run.evaluator(model, {}, session.ops())->predict(images);
    std::ofstream file;
    if (!output.empty()) {
        file.open(output);
        if (!file) throw Error(ExitCode::usage, output + ": cannot write the file");
    }
    std::ostream& out = output.empty() ? std::cout : file;
    out << "index,class";
    for (std::size_t c = 0; c < (rows.empty() ? 0 : rows[0].size()); ++c) out << ",p" << c;
    out << "\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        out << i << "," << std::max_element(rows[i].begin(), rows[i].end()) - rows[i].begin();
        for (float p : rows[i]) out << "," << p;
        out << "\n";
    }
    return 0;
}

int quantize(const Args& args) {
    Common common;
    std::string graph, data_dir, method = "minmax", output, weights;
    QuantizeOptions options;
    common.options.add_options()("weights", po::value(&weights)->required(),
                                 "the trained f32 weights (or a training checkpoint)")(
        "output,o", po::value(&output)->required(), "the quantized weights file to write")(
        "calibration-samples", po::value(&options.samples)->default_value(options.samples),
        "the first N training samples calibrate the activations")(
        "method", po::value(&method)->default_value(method),
        "minmax (the extremes seen) or percentile (|x| clipped at its 99.99th percentile)")(
        "batch-size", po::value(&options.batch_size)->default_value(options.batch_size),
        "samples per calibration and evaluation step")(
        "threads", po::value(&options.threads.intra_op)->default_value(0),
        "OpenMP threads inside each primitive (0: cores)")(
        "data-dir", po::value(&data_dir),
        "data root holding mnist/ and fashion-mnist/ (default $OPGRAPH_DATA_DIR or data)");
    if (!parse(args,
               "opgraph quantize GRAPH --weights W -o Q.safetensors [--calibration-samples N] "
               "[--method minmax|percentile]",
               common.options, {{"graph", &graph}}))
        return 0;
    const auto parsed = parse_calibration_method(method);
    if (!parsed) throw UsageError("unknown --method '" + method + "' (minmax or percentile)");
    if (options.batch_size < 1) throw UsageError("--batch-size must be >= 1");
    options.method = *parsed;
    options.weights = weights;
    options.output = output;
    options.data_root = data_root(data_dir);
    Session session = common.session();
    const TrainingItems items = training_items(session);
    const ModelFile model = load_model_file(graph, session.ops(), items.specs());
    options.datasets = &items.datasets;
    std::cout << format_quantize_report(quantize_model(model, session.ops(), options), options);
    return 0;
}

int ops(const Args& args) {
    Common common;
    std::string op;
    std::string kind = "op";
    common.options.add_options()("op", po::value(&op), "show only this operator (or item type)")(
        "kind", po::value(&kind)->default_value(kind),
        "what to list: op, optimizer, schedule or callback (the training section's item types)");
    if (!parse(args, "opgraph ops [--kind KIND] [--op NAME] [--plugin-path DIR]", common.options,
               {}))
        return 0;
    Session session = common.session();
    if (kind != "op") {
        try {
            std::cout << format_item_listing(training_items(session), kind, op);
        } catch (const std::invalid_argument& e) {
            throw UsageError(e.what());
        }
        return 0;
    }
    for (const LoadedPlugin& p : session.plugins())
        std::cout << "plugin '" << p.name << "' " << p.version << " from " << p.file.string()
                  << "\n";
    std::cout << "\n";
    try {
        std::cout << format_op_listing(session.ops(), op);
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
    }
    return 0;
}

int gradcheck(const Args& args) {
    Common common;
    std::string op;
    std::vector<std::string> plugins;
    GradCheckOptions options;
    common.options.add_options()("op", po::value(&op),
                                 "check only this op (default: every op "
                                 "with a gradient rule)")(
        "plugin", po::value(&plugins)->composing(), "load this plugin file too (repeatable)")(
        "epsilon", po::value(&options.epsilon)->default_value(options.epsilon),
        "finite-difference step")("tolerance",
                                  po::value(&options.tolerance)->default_value(options.tolerance),
                                  "largest relative error accepted, unless a case sets its own")(
        "seed", po::value(&options.seed)->default_value(options.seed), "random inputs' seed");
    if (!parse(args, "opgraph gradcheck [--op NAME] [--plugin FILE] [--plugin-path DIR]",
               common.options, {}))
        return 0;
    common.plugin_path.insert(common.plugin_path.end(), plugins.begin(), plugins.end());
    Session session = common.session();
    const std::vector<std::string> ops =
        op.empty() ? differentiable_ops(session.ops()) : std::vector<std::string>{op};
    int failed = 0, total = 0;
    for (const std::string& name : ops) {
        std::vector<GradCheckResult> results;
        try {
            results = check_gradients(session.ops(), name, options);
        } catch (const std::invalid_argument& e) {
            throw UsageError(e.what());
        }
        for (const GradCheckResult& r : results) {
            ++total;
            failed += r.passed ? 0 : 1;
            std::cout << (r.passed ? "ok     " : "FAILED ") << r.op << " / " << r.label
                      << ": worst relative error " << r.worst << " over " << r.checked
                      << " elements; " << r.detail << "\n";
        }
    }
    std::cout << total - failed << " passed, " << failed << " failed\n";
    return failed == 0 ? 0 : static_cast<int>(ExitCode::numerical);
}

}  // namespace

const std::vector<Command>& commands() {
    static const std::vector<Command> all = {
        {"summary", "print a Keras-style table of a graph: shapes, parameters, MACs, memory",
         summary},
        {"check", "validate a graph file and print every error found", check},
        {"dot", "write a graph as Graphviz", dot},
        {"ops",
         "list the operators (or --kind optimizer|schedule|callback|dataset), their attributes and "
         "defaults",
         ops},
        {"gradcheck", "check ops' gradient rules against central finite differences", gradcheck},
        {"train", "train a graph as its training section says (Keras-style output)", train},
        {"eval", "evaluate a graph with given weights on its test set: loss and accuracy", eval},
        {"predict", "write class probabilities for an IDX file of images", predict},
        {"quantize",
         "calibrate a trained model for int8 inference and write its quantized weights file",
         quantize},
        {"bench", "time training or inference steps on synthetic data, with a per-op profile",
         bench},
    };
    return all;
}

}  // namespace opgraph::cli
