// `opgraph bench`: option parsing for the benchmark (opgraph/tools/benchmark.hpp), the report
// printed as opgraph/tools/bench_report.hpp formats it.
#include <boost/program_options.hpp>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.hpp"
#include "opgraph/core/error.hpp"
#include "opgraph/frontend/model_file.hpp"
#include "opgraph/op/session.hpp"
#include "opgraph/tools/bench_report.hpp"
#include "opgraph/tools/benchmark.hpp"
#include "opgraph/train/plugin_items.hpp"

namespace po = boost::program_options;

namespace opgraph::cli {

namespace {

constexpr const char* kUsage =
    "opgraph bench GRAPH --mode train|infer [--batch-size B] [--steps N] [--warmup W] "
    "[--threads T] [--inter-op-threads T] [--precision P[,P...]] [--json]";

}  // namespace

int bench(const Args& args) {
    std::string graph, mode = "infer";
    std::vector<std::string> plugin_path;
    BenchOptions options;
    std::string precisions;
    bool json = false, no_peak = false, help = false;
    po::options_description visible("Options");
    visible.add_options()("mode", po::value(&mode)->default_value(mode),
                          "infer (the model alone, inference primitives) or train (forward, "
                          "backward and optimizer update)")(
        "batch-size", po::value(&options.batch_size)->default_value(0),
        "samples per step (0: the file's training batch size, else 128)")(
        "steps", po::value(&options.steps)->default_value(options.steps), "timed steps")(
        "warmup", po::value(&options.warmup)->default_value(options.warmup),
        "untimed steps before them")(
        "threads", po::value(&options.threads.intra_op)->default_value(0),
        "OpenMP threads inside each primitive (0: cores / inter-op; 1 at batch 1)")(
        "inter-op-threads", po::value(&options.threads.inter_op)->default_value(0),
        "kernels run at once on the flow graph (0: 1)")(
        "precision", po::value(&precisions)->default_value(options.precision),
        "f32, bf16, auto (bf16 where the CPU has AVX512-BF16 or AMX) or int8 (inference, "
        "calibrated on the synthetic batches); a comma-separated list runs each in turn and "
        "ends with one table")("seed", po::value(&options.seed)->default_value(options.seed),
                               "parameters, synthetic data and dropout")(
        "no-peak", po::bool_switch(&no_peak), "skip measuring the sgemm peak")(
        "json", po::bool_switch(&json), "print the report as one JSON object")(
        "plugin-path", po::value(&plugin_path)->composing(),
        "directory or plugin file to load operators from (repeatable, ':'-separated)")(
        "help,h", po::bool_switch(&help), "show this help");
    po::options_description all;
    all.add(visible);
    all.add_options()("graph", po::value(&graph)->required());
    po::positional_options_description positional;
    positional.add("graph", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
        if (vm.count("help") && vm["help"].as<bool>()) {
            std::cout << "usage: " << kUsage << "\n\n" << visible;
            return 0;
        }
        po::notify(vm);
        options.mode = parse_bench_mode(mode);
        check_bench_options(options);
    } catch (const po::error& e) {
        throw UsageError(std::string(e.what()) + "\nusage: " + kUsage);
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string(e.what()) + "\nusage: " + kUsage);
    }
    options.measure_peak = !no_peak;

    Session session(SessionOptions{plugin_path});
    const TrainingItems items = training_items(session);
    options.optimizers = &items.optimizers;
    const ModelFile model = load_model_file(graph, session.ops(), items.specs());
    std::vector<BenchReport> reports;
    std::stringstream list(precisions);
    for (std::string precision; std::getline(list, precision, ',');) {
        options.precision = precision;
        reports.push_back(run_benchmark(model, session.ops(), options));
        const BenchReport& report = reports.back();
        std::cout << (json ? bench_report_json(report) + "\n" : format_bench_report(report));
        if (!json && reports.size() > 1) std::cout << "\n";
    }
    if (!json && reports.size() > 1) std::cout << "\n" << format_precision_table(reports);
    return 0;
}

}  // namespace opgraph::cli
